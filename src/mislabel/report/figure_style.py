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
from matplotlib.text import Text

from mislabel.files import atomic
from mislabel.report.latex import figure_tex
from mislabel.workflow.artifacts import figure_files

PNG_DPI = 150
# The most lines a panel shows, so that their bands stay apart.
MAX_SERIES = 5
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
    """The legend of `ax`, inside at the lower left; or, `outside`, one legend at the right
    of the whole figure with every series of every panel, once."""
    if not outside:
        ax.legend(loc="lower left", fontsize="small")
        return
    entries: dict[str, Any] = {}
    for panel in fig.axes:
        for handle, label in zip(*panel.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside right upper", fontsize="small")


def mpl_label(name: str, labels: Mapping[str, tuple[str, str]]) -> str:
    """Matplotlib label: the LaTeX label (mathtext) if known, else the raw name, `$` escaped."""
    return labels[name][0] if name in labels else name.replace("$", r"\$")


def texts_outside(fig: Figure, tolerance: float = 1.0) -> list[str]:
    """What, as drawn, reaches outside the canvas of `fig` by more than `tolerance` pixels
    (a clipped title, label or legend): the texts at fault, or a description of the
    overflow; empty if everything fits.

    The test is matplotlib's tight bounding box of everything drawn against the canvas.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    canvas = fig.bbox

    def beyond(box) -> bool:
        return (
            box.x0 < canvas.x0 - tolerance
            or box.y0 < canvas.y0 - tolerance
            or box.x1 > canvas.x1 + tolerance
            or box.y1 > canvas.y1 + tolerance
        )

    if not beyond(tight):
        return []
    ticks = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels(which="both")
    }
    culprits = [
        text.get_text()
        for text in fig.findobj(Text)
        if text.get_visible()
        and text.get_text().strip()
        and id(text) not in ticks
        and beyond(text.get_window_extent(renderer))
    ]
    return culprits or [f"drawn area {tight.bounds} beyond the canvas {canvas.bounds} (pixels)"]


def save_figure(
    fig: Figure,
    out_dir: str | os.PathLike,
    stem: str,
    *,
    caption: str,
    width: float = 0.7,
) -> list[Path]:
    """Write `<stem>.pdf`, `<stem>.png` and `<stem>.tex` (figure environment) into `out_dir`.

    Raises ValueError, writing nothing, if some text would be cut off at the canvas's edge.
    """
    clipped = texts_outside(fig)
    if clipped:
        raise ValueError(f"figure {stem}: text outside the canvas, would be cut off: {clipped}")
    pdf, png, tex = (Path(out_dir) / name for name in figure_files([stem]))
    with atomic.atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata=PDF_METADATA)
    with atomic.atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    label = "fig:" + stem.removeprefix("fig_").replace("_", "-")
    atomic.write_text(tex, figure_tex(graphic=pdf.name, caption=caption, label=label, width=width))
    return [pdf, png, tex]
