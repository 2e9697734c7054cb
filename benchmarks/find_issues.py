"""`mislabel find-issues` against cleanlab on the same out-of-sample probabilities.

Digits (scikit-learn, 1797 samples, 10 classes), 5-fold cross-validated logistic
regression probabilities, planted noise of three kinds: symmetric (to a uniform other
class), class-dependent (y -> y + 1 mod 10) and instance-dependent (to the clean model's
second choice, drawn by low margin). For each: AUROC and AUPRC of the scores, F1 of the
set flagged without a ratio, and the budget's relative error against the true count.
cleanlab (`pip install "mislabel[bench]"`, AGPL) is run where installed:
``filter.find_label_issues`` (its default) and ``rank.get_label_quality_scores``.

The blend's weight (1/2) was chosen on the validation configurations (seed 0, r = 0.1
and 0.2, measured by this script too) among weights 0, 1/4, 1/2, 3/4, 1 of the calibrated count and
the margin deficit; the table reports the test configurations (seed 1, r = 0.05, 0.15,
0.3). Writes benchmarks/find_issues.md and .csv.

    PYTHONPATH=src python benchmarks/find_issues.py
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

from mislabel.detectors.probabilities import calibrated_count, margin_deficit_count
from mislabel.find import find_issues
from mislabel.noise import flip_class_dependent, flip_instance_dependent

HERE = Path(__file__).resolve().parent
SPLITS = {"val": (0, [0.1, 0.2]), "test": (1, [0.05, 0.15, 0.3])}
WEIGHTS = [0.0, 0.25, 0.5, 0.75, 1.0]


def cv_probs(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=1.0, max_iter=500)
        return cross_val_predict(model, x, y, cv=5, method="predict_proba")


def planted(y, clean_probs, kind, ratio, seed):
    if kind == "symmetric":
        rng = np.random.default_rng(seed)
        return np.where(rng.random(len(y)) < ratio, (y + rng.integers(1, 10, len(y))) % 10, y)
    if kind == "class-dependent":
        return flip_class_dependent(y, ratio, seed=seed)
    return flip_instance_dependent(y, clean_probs, ratio, seed=seed)


def cleanlab_row(noisy, probs, flipped):
    try:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores
    except ImportError:
        return {}
    quality = get_label_quality_scores(noisy, probs, method="self_confidence")
    issues = find_label_issues(noisy, probs)
    return {
        "cleanlab_auroc": roc_auc_score(flipped, -quality),
        "cleanlab_auprc": average_precision_score(flipped, -quality),
        "cleanlab_f1": f1_score(flipped, issues),
        "cleanlab_count_err": (issues.sum() - flipped.sum()) / flipped.sum(),
    }


def measure(split: str) -> pd.DataFrame:
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    clean_probs = cv_probs(x, y)
    seed, ratios = SPLITS[split]
    rows = []
    for kind in ("symmetric", "class-dependent", "instance-dependent"):
        for ratio in ratios:
            noisy = planted(y, clean_probs, kind, ratio, seed)
            flipped = noisy != y
            probs = cv_probs(x, noisy)
            with tempfile.TemporaryDirectory() as tmp:
                issues = find_issues(probs, noisy, report_dir=tmp)
            true = flipped.sum()
            cl, md = calibrated_count(noisy, probs), margin_deficit_count(noisy, probs)
            row = {
                "noise": kind,
                "r": ratio,
                "flipped": int(true),
                "auroc": roc_auc_score(flipped, issues.scores_N),
                "auprc": average_precision_score(flipped, issues.scores_N),
                "f1": f1_score(flipped, issues.flagged_N),
                "budget": issues.summary["budget"],
                "budget_err": (issues.summary["budget"] - true) / true,
                "cl_count_err": (cl - true) / true,
                **{f"w{w:g}_err": abs(w * cl + (1 - w) * md - true) / true for w in WEIGHTS},
            }
            rows.append(row | cleanlab_row(noisy, probs, flipped))
            print(row["noise"], ratio, row["auroc"], row["f1"], row["budget_err"], flush=True)
    return pd.DataFrame(rows)


def markdown(test: pd.DataFrame, val: pd.DataFrame) -> str:
    has_cl = "cleanlab_auroc" in test
    head = "| noise | r | flipped | AUROC | AUPRC | F1 (no ratio) | budget error |"
    if has_cl:
        head += " cleanlab AUROC | cleanlab AUPRC | cleanlab F1 | cleanlab count error |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for _, r in test.iterrows():
        cells = [
            r["noise"],
            f"{r['r']:g}",
            str(r["flipped"]),
            f"{r['auroc']:.4f}",
            f"{r['auprc']:.3f}",
            f"{r['f1']:.3f}",
            f"{r['budget_err']:+.2f}",
        ]
        if has_cl:
            cells += [
                f"{r['cleanlab_auroc']:.4f}",
                f"{r['cleanlab_auprc']:.3f}",
                f"{r['cleanlab_f1']:.3f}",
                f"{r['cleanlab_count_err']:+.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    mean = test.select_dtypes("number").mean()
    val_err = {w: val[f"w{w:g}_err"].mean() for w in WEIGHTS}
    chosen = min(val_err, key=val_err.get)
    lines += [
        "",
        f"Mean over the test configurations: F1 {mean['f1']:.3f}"
        + (f" (cleanlab {mean['cleanlab_f1']:.3f})" if has_cl else "")
        + f"; mean absolute relative error of the budget {test['budget_err'].abs().mean():.2f}"
        f" (the blend), {test['cl_count_err'].abs().mean():.2f} (the calibrated"
        " confident-joint count alone)"
        + (
            f", {test['cleanlab_count_err'].abs().mean():.2f} (the size of cleanlab's"
            " `find_label_issues` set)"
            if has_cl
            else ""
        )
        + ".",
        "",
        "Validation (seed 0, r = 0.1, 0.2), mean relative error of w x calibrated count + "
        "(1 - w) x margin deficit: "
        + ", ".join(f"w = {w:g}: {e:.3f}" for w, e in val_err.items())
        + f"; the smallest at w = {chosen:g}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    val, test = measure("val"), measure("test")
    test.to_csv(HERE / "find_issues.csv", index=False, float_format="%.4f")
    (HERE / "find_issues.md").write_text(markdown(test, val))
    print((HERE / "find_issues.md").read_text())


if __name__ == "__main__":
    main()
