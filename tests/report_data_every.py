"""Synthetic summaries with every detector, unlearner and forget set and the columns beyond the
paper, for the report tests; values are chosen so that every cell is known in closed form."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mislabel.report import render_extensions

RATIOS = (0.1, 0.05)  # deliberately unsorted
SEEDS = (0, 1)
PM = " $\\pm$ "
NOT_RUN = "Not run in this configuration."
NEEDS_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex not on PATH (install TeX Live to run)"
)
# ROC AUC = base + 0.02 seed: mean base + 0.01, std 0.014 -> "0.xx $\pm$ 0.01".
AUC_BASE = {
    "loss": 0.70,
    "if_self": 0.80,
    "if_train": 0.75,
    "if_train_minus_z": 0.76,
    "if_self_full": 0.90,
    "if_train_full": 0.77,
    "if_train_minus_z_full": 0.78,
    "aum": 0.85,
    "cleanlab": 0.82,
}
# Estimated ratio = factor * r + slope * seed; NaN for detectors that cannot estimate.
ESTIMATES = {"aum": (1.2, 0.006), "cleanlab": (0.8, 0.004)}
# Test accuracy = base + 0.004 seed + target offset.
ACC_BASE = {
    "pretrained": 0.80,
    "influence": 0.85,
    "ssse": 0.86,
    "finetune": 0.84,
    "retrain": 0.90,
    "influence_full": 0.87,
    "ssse_full": 0.88,
    "neggrad_plus": 0.83,
    "relabel": 0.89,
}
TARGET_OFFSET = {"mislabeled": 0.0, "detected": -0.01, "detected_estimated": -0.02}
PAPER_DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z")
PAPER_UNLEARNERS = ("influence", "ssse", "finetune", "retrain")


def detection_df(detectors=tuple(AUC_BASE), *, extension_columns: bool = True) -> pd.DataFrame:
    rows = []
    for r in RATIOS:
        for s in SEEDS:
            for d in detectors:
                row = dict(
                    dataset="mnist",
                    ratio=r,
                    seed=s,
                    detector=d,
                    n=2000,
                    m=round(2000 * r),
                    roc_auc=AUC_BASE[d] + 0.02 * s,
                    accuracy=0.9,
                    precision=0.5 + 0.1 * s,
                    recall=0.5,
                    f1=0.5,
                    seconds=1.0,
                    curvature="full" if d.endswith("_full") else "",
                )
                if extension_columns:
                    factor, slope = ESTIMATES.get(d, (np.nan, np.nan))
                    row["flipped_ratio"] = r + 0.002 * s
                    row["estimated_ratio"] = factor * r + slope * s
                    row["m_estimated"] = (
                        round(2000 * row["estimated_ratio"]) if d in ESTIMATES else np.nan
                    )
                rows.append(row)
    return pd.DataFrame(rows)


def unlearning_df(
    unlearners=tuple(ACC_BASE),
    targets=tuple(TARGET_OFFSET),
    *,
    extension_columns: bool = True,
    cg: bool = True,
) -> pd.DataFrame:
    rows = []
    for r in RATIOS:
        for s in SEEDS:
            clean = ACC_BASE["retrain"] + 0.004 * s
            for unlearner in unlearners:
                for target in ["none"] if unlearner == "pretrained" else targets:
                    acc = ACC_BASE[unlearner] + 0.004 * s + TARGET_OFFSET.get(target, 0.0)
                    row = dict(
                        dataset="mnist",
                        ratio=r,
                        seed=s,
                        unlearner=unlearner,
                        target=target,
                        test_accuracy=acc,
                        balanced_accuracy=acc,
                        agreement_with_retrain_clean=0.95 + 0.01 * s,
                        seconds=1.0,
                        seconds_first=2.0,
                        m_forget=round(2000 * r),
                        n_forget_mislabeled=round(1900 * r),
                    )
                    if extension_columns:
                        row["accuracy_gap_to_retrain_clean"] = acc - clean
                        row["param_l2_to_retrain_clean"] = 2.0 + s
                        row["time_vs_retrain"] = 1.0 if unlearner == "retrain" else 0.1 * (1 + s)
                        moved = unlearner != "pretrained"
                        row["param_l2_to_pretrained"] = (1.0 + 0.5 * s) if moved else 0.0
                        full = unlearner.endswith("_full")
                        doubled = unlearner == "ssse_full" and s == 1
                        row["damping"] = 1.0 if full else np.nan
                        row["damping_used"] = (2.0 if doubled else 1.0) if full else np.nan
                    if cg:
                        uses_cg = unlearner.startswith("influence")
                        row["cg_iterations"] = 10 + s if uses_cg else np.nan
                        row["cg_relative_residual"] = 1e-6 if uses_cg else np.nan
                        row["cg_converged"] = (s == 0) if uses_cg else None
                    rows.append(row)
    return pd.DataFrame(rows)


def loo_df(slope: bool = True) -> pd.DataFrame:
    rows = [
        dict(
            dataset="mnist",
            ratio=0.1,
            scope=scope,
            seed=s,
            n_removed=10,
            n_runs=20,
            pearson=base - 0.1 * s,
            spearman=base - 0.2 * s,
        )
        for scope, base in (("full", 0.95), ("last_layer", -0.5))
        for s in SEEDS
    ]
    df = pd.DataFrame(rows)
    if slope:
        df["slope"] = 1.5
    return df


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def render(
    out: Path,
    det: pd.DataFrame | None = None,
    unl: pd.DataFrame | None = None,
    loo: pd.DataFrame | Path | None = None,
) -> list[Path]:
    """Render the extensions into `out`; det/unl None: the full synthetic data; loo None: not
    run. The CSVs are written next to `out`."""
    csv = {
        "d": detection_df() if det is None else det,
        "u": unlearning_df() if unl is None else unl,
    }
    if isinstance(loo, pd.DataFrame):
        csv["loo"] = loo
    paths = {k: write(df, out.parent / f"{out.name}_{k}.csv") for k, df in csv.items()}
    loo_path = paths.get("loo", loo)
    return render_extensions(paths["d"], paths["u"], loo_path, out, dataset="mnist")


def texts(out: Path) -> dict[str, str]:
    """The rendered `.tex` files by stem."""
    return {p.stem: p.read_text() for p in out.glob("*.tex")}


def sparse_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Only the paper's detectors and unlearners and none of the new columns."""
    det = detection_df(PAPER_DETECTORS, extension_columns=False)
    unl = unlearning_df(
        ("pretrained", *PAPER_UNLEARNERS),
        ("mislabeled", "detected"),
        extension_columns=False,
        cg=False,
    )
    return det, unl


def rows_of(tex: str) -> dict[str, list[str]]:
    """Data rows of a table, label (without \\quad) -> cells; later duplicates get a suffix."""
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    out: dict[str, list[str]] = {}
    for line in body.splitlines():
        line = line.strip()
        if "&" not in line or line.startswith("\\multicolumn"):
            continue
        label, *cells = line.removesuffix("\\\\").strip().split(" & ")
        label = label.removeprefix("\\quad ")
        key = label
        while key in out:
            key += "'"
        out[key] = cells
    return out


def spanning(tex: str) -> list[str]:
    """The text of every spanning row (group headings, unlearner headings, notes)."""
    return re.findall(r"\\multicolumn\{\d+\}\{l\}\{(.*)\} \\\\", tex)


def pm(mean: str, std: str) -> str:
    return f"{mean}{PM}{std}"
