"""What every figure shares: an Agg canvas without pyplot, legends, labels, and saving.

`save_figure` writes `.pdf`, `.png` and a `.tex` figure environment next to each other,
atomically and with fixed metadata so reruns give identical bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mislabel.artifacts import figure_files
from mislabel.files import atomic
from mislabel.report.latex import figure_tex

PNG_DPI = 150
PDF_METADATA: dict[str, Any] = {"CreationDate": None}
PNG_METADATA: dict[str, Any] = {"Software": None}


def new_figure(
    width: float = 4.5,
    height: float = 3.2,
    ncols: int = 1,
    *,
    nrows: int = 1,
    extra_width: float = 0.0,
) -> Figure:
    """A constrained-layout figure on an Agg canvas (no pyplot, no global state).

    `width` and `height` are per panel (inches); `extra_width` is added once, e.g. for a
    legend outside the axes.
    """
    fig = Figure(figsize=(width * ncols + extra_width, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def placeholder_figure(message: str) -> Figure:
    """A figure that only says `message` (for an output whose data was not produced)."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def add_legend(fig: Figure, ax: Axes, *, outside: bool = False) -> None:
    """The legend of `ax`: inside at the lower left, or at the right of the whole figure."""
    if outside:
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    else:
        ax.legend(loc="lower left", fontsize="small")


def mpl_label(name: str, labels: Mapping[str, tuple[str, str]]) -> str:
    """Matplotlib label: the LaTeX label (mathtext) if known, else the raw name, `$` escaped."""
    return labels[name][0] if name in labels else name.replace("$", r"\$")


def save_figure(
    fig: Figure,
    out_dir: str | os.PathLike,
    stem: str,
    *,
    caption: str,
    width: float = 0.7,
) -> list[Path]:
    """Write `<stem>.pdf`, `<stem>.png` and `<stem>.tex` (figure environment) into `out_dir`."""
    pdf, png, tex = (Path(out_dir) / name for name in figure_files([stem]))
    with atomic.atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata=PDF_METADATA)
    with atomic.atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    label = "fig:" + stem.removeprefix("fig_").replace("_", "-")
    atomic.write_text(tex, figure_tex(graphic=pdf.name, caption=caption, label=label, width=width))
    return [pdf, png, tex]
