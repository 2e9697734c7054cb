"""What every figure shares: the page it is placed on, its fonts, an Agg canvas without
pyplot, legends, labels, and saving.

A figure is built at the width it is placed at in `paper.tex` (`PLACED_WIDTH_IN`: across
the text, or a single panel at 0.7 of it), so it prints at scale 1 and its fonts
(`FONT_RC`) print at their own sizes, none below `MIN_PRINTED_PT`. `save_figure` writes
`.pdf`, `.png` and a `.tex` figure environment that places the graphic at that width, next
to each other, atomically and with fixed metadata so reruns give identical bytes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from mislabel.files import atomic
from mislabel.report.latex import figure_tex
from mislabel.workflow.artifacts import figure_files

# The page of paper.tex: LaTeX's article class at 11 pt, one column, whose text is 360 pt
# wide (LaTeX points, 72.27 to the inch).
PAPER_FONT_PT = 11
TEXT_WIDTH_PT = 360.0
TEXT_WIDTH_IN = TEXT_WIDTH_PT / 72.27
# Where a figure is placed -> its printed width (inches): across the text (a grid of
# panels), or a single panel, centred at 0.7 of the text width.
PLACED_WIDTH_IN: dict[str, float] = {"text": TEXT_WIDTH_IN, "single": 0.7 * TEXT_WIDTH_IN}
# Font sizes (points) of every figure; built at its placed width, it prints at these sizes.
MIN_PRINTED_PT = 7.0
FONT_RC: dict[str, float] = {
    "font.size": 8.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.0,
    "figure.titlesize": 9.0,
}
# A grid at the text width: at most GRID_COLUMNS panels a row, each PANEL_HEIGHT_IN tall.
GRID_COLUMNS = 2
PANEL_HEIGHT_IN = 1.9
PNG_DPI = 150
# The most lines a panel shows, so that their bands stay apart.
MAX_SERIES = 5
PDF_METADATA: dict[str, Any] = {"CreationDate": None}
PNG_METADATA: dict[str, Any] = {"Software": None}


P = ParamSpec("P")


def with_fonts(build: Callable[P, Figure]) -> Callable[P, Figure]:
    """`build`, run with the figure fonts `FONT_RC` (whatever the user's matplotlibrc says);
    the texts keep their sizes after it returns."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(FONT_RC):
            return build(*args, **kwargs)

    return wrapper


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure of `width` x `height` inches on an Agg canvas (no pyplot,
    no global state)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def placed_figure(placement: str, height: float) -> Figure:
    """A figure as wide as it is placed (`PLACED_WIDTH_IN[placement]`), `height` inches."""
    if placement not in PLACED_WIDTH_IN:
        raise ValueError(f"placement must be one of {list(PLACED_WIDTH_IN)}, got {placement!r}")
    return new_figure(PLACED_WIDTH_IN[placement], height)


def grid_shape(panels: int, columns: int = GRID_COLUMNS) -> tuple[int, int]:
    """(rows, columns) of a grid of `panels` at the text width: one row of one or two,
    else rows of `columns`."""
    if panels < 1:
        raise ValueError(f"a figure needs at least one panel, got {panels}")
    cols = min(panels, columns)
    return -(-panels // cols), cols


def placement_of(fig: Figure) -> str:
    """The placement whose width `fig` was built at."""
    width = fig.get_size_inches()[0]
    for name, placed in PLACED_WIDTH_IN.items():
        if abs(width - placed) < 1e-6:
            return name
    raise ValueError(
        f"a {width:.2f} in wide figure is placed nowhere; build it with placed_figure "
        f"({', '.join(f'{k}: {v:.2f} in' for k, v in PLACED_WIDTH_IN.items())})"
    )


@with_fonts
def placeholder_figure(message: str) -> Figure:
    """A figure that only says `message` (for an output whose data was not produced)."""
    fig = placed_figure("single", 1.5)
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def add_legend(fig: Figure, *, spare: Axes | None = None, ncols: int = 2) -> None:
    """One legend with every series of every panel once: in the `spare` cell of the grid
    (one column), or below the panels in `ncols` columns."""
    entries: dict[str, Any] = {}
    for panel in fig.axes:
        for handle, label in zip(*panel.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if spare is not None:
        spare.legend(list(entries.values()), list(entries), loc="center")
        return
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=ncols)


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
) -> list[Path]:
    """Write `<stem>.pdf`, `<stem>.png` and `<stem>.tex` (figure environment) into `out_dir`;
    the `.tex` places the graphic at the width `fig` was built at (`PLACED_WIDTH_IN`).

    Raises ValueError, writing nothing, if `fig` is as wide as no placement, or if some text
    would be cut off at the canvas's edge.
    """
    width = PLACED_WIDTH_IN[placement_of(fig)] / TEXT_WIDTH_IN
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
