"""What a user acts on after a repair: the flagged samples as a table, a summary and images.

`write_repair_report(out_dir, ...)` writes

- ``flagged.csv``: one row per training sample, ``index,score,given_label,
  suggested_label,flagged``, highest score first (samples that were not scored, e.g. a
  holdout split off the training data, last, with an empty score);
- ``summary.json``: the repair's summary (accuracy before and after, the number flagged,
  the budget and where it came from, the detector and the unlearner, ...);
- ``flagged.png``, when the samples are images: the top flagged ones, each titled with
  its index and ``given -> suggested`` label.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mislabel.files import atomic
from mislabel.report.figure_style import PNG_DPI, PNG_METADATA, new_figure

FLAGGED_CSV = "flagged.csv"
SUMMARY_JSON = "summary.json"
FLAGGED_PNG = "flagged.png"
COLUMNS = ["index", "score", "given_label", "suggested_label", "flagged"]
MAX_IMAGES = 24


def flagged_rows(scores_N, given_N, suggested_N, flagged_N) -> list[dict]:
    """The rows of ``flagged.csv``: the flagged samples first, then the others, each part
    highest score first (a class-pair rule may flag a sample that scores below an unflagged
    one), unscored (NaN) samples last within their part; ties by the lower index."""
    scores_N = np.asarray(scores_N, np.float64)
    key = np.where(np.isnan(scores_N), -np.inf, scores_N)
    unflagged = ~np.asarray(flagged_N, bool)
    order = np.lexsort((np.arange(scores_N.size), -key, unflagged))
    return [
        {
            "index": int(i),
            "score": float(scores_N[i]),  # NaN (not scored) is written empty
            "given_label": int(given_N[i]),
            "suggested_label": int(suggested_N[i]),
            "flagged": bool(flagged_N[i]),
        }
        for i in order
    ]


def flagged_figure(images_NxHxW: np.ndarray, rows: Sequence[dict], class_names=None):
    """A grid of the top flagged samples (at most `MAX_IMAGES`), with their labels."""
    shown = [r for r in rows if r["flagged"]][:MAX_IMAGES]
    cols = min(6, max(1, len(shown)))
    lines = max(1, -(-len(shown) // cols))
    fig = new_figure(1.6 * cols, 1.9 * lines)
    axes = fig.subplots(lines, cols, squeeze=False)
    name = (lambda c: str(class_names[c])) if class_names is not None else str
    for ax in axes.ravel():
        ax.axis("off")
    for ax, row in zip(axes.ravel(), shown, strict=False):
        ax.imshow(images_NxHxW[row["index"]], cmap="gray")
        given, suggested = name(row["given_label"]), name(row["suggested_label"])
        ax.set_title(f"#{row['index']}\n{given} -> {suggested}", fontsize=8)
    if not shown:
        axes[0, 0].text(0.5, 0.5, "nothing flagged", ha="center", va="center")
    return fig


def write_repair_report(
    out_dir: str | os.PathLike,
    *,
    scores_N,
    given_N,
    suggested_N,
    flagged_N,
    summary: dict,
    features_NxD: np.ndarray | None = None,
    image_shape: Sequence[int] | None = None,
    class_names: Sequence | None = None,
) -> list[Path]:
    """Write flagged.csv, summary.json and (with `image_shape`) flagged.png into `out_dir`.

    Returns the written paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = flagged_rows(scores_N, given_N, suggested_N, flagged_N)
    paths = [out / FLAGGED_CSV, out / SUMMARY_JSON]
    atomic.write_text(paths[0], atomic.csv_text(rows, COLUMNS, float_format="%.9g"))
    atomic.write_json(paths[1], atomic.jsonable(summary))
    if image_shape is not None and features_NxD is not None:
        shape = tuple(int(s) for s in image_shape)
        features_NxD = np.asarray(features_NxD)
        if int(np.prod(shape)) != features_NxD.shape[1]:
            raise ValueError(
                f"image shape {shape} has {int(np.prod(shape))} pixels, but the samples have "
                f"{features_NxD.shape[1]} features"
            )
        fig = flagged_figure(features_NxD.reshape(-1, *shape), rows, class_names)
        paths.append(out / FLAGGED_PNG)
        with atomic.atomic_path(paths[-1]) as tmp:
            fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    return paths
