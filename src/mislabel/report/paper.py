"""The paper as a LaTeX document that \\input's the rendered tables and figures, and its build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from mislabel import __version__
from mislabel.files import atomic
from mislabel.report.cells import latex_escape
from mislabel.report.figure_style import PAPER_FONT_PT
from mislabel.report.latex import template_env
from mislabel.workflow.artifacts import (
    EXTENSION_FIGURE_PREFIX,
    EXTENSION_TABLE_PREFIX,
    EXTRA_HISTOGRAM_PREFIX,
    HISTOGRAM_FIGURES,
    PAPER_TABLES,
    PAPER_TEX,
    PAPER_VS_OURS,
    RULEGRAPH,
)

DEFAULT_TITLE = (
    "A reproduction of Sugiura et al. (2024): Improving the generalization of trained models "
    "by unlearning mislabeled data"
)
LATEX_TIMEOUT_S = 300
_SAFE_PATH_RE = re.compile(r"^[A-Za-z0-9_./-]+$")


class Section(NamedTuple):
    """A paper section: title, one-paragraph intro (LaTeX) and the `.tex` files it inputs."""

    title: str
    intro: str
    items: tuple[str, ...]


TABLE_5_1, TABLE_5_2, TABLE_5_3 = PAPER_TABLES
# (title, intro, (the stems that belong to it, and the prefixes of those that do)).
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, ...], tuple[str, ...]]], ...] = (
    (
        "Experiment 1: can a trained model detect its mislabeled data?",
        "Each detector gives every training sample an anomaly score (its loss, or an "
        r"influence score \cite{koh2017}); the top $m$ scores are "
        r"flagged as $D_{\mathrm{detected}}$ (the caption says how $m$ was set). The table "
        "reports ROC AUC and the accuracy and precision of the flags; the histograms compare "
        "the scores of mislabeled and clean samples.",
        ((TABLE_5_1, *HISTOGRAM_FIGURES.values()), (EXTRA_HISTOGRAM_PREFIX,)),
    ),
    (
        "Experiment 2: does forgetting the known mislabeled set help?",
        r"Each unlearning method forgets $D_{\mathrm{forget}} = D_{\mathrm{mislabeled}}$, the "
        "samples whose labels were actually flipped: with an influence update "
        r"\cite{koh2017}, a Newton step (SSSE \cite{peste2021}), fine-tuning on the rest, or "
        "retraining from scratch.",
        ((TABLE_5_2,), ()),
    ),
    (
        "Experiment 3: the full method, detect then forget",
        r"Each unlearning method forgets $D_{\mathrm{forget}} = D_{\mathrm{detected}}$, next to "
        "the results of Experiment 2.",
        ((TABLE_5_3,), ()),
    ),
    (
        "The paper side by side",
        "The paper's published values of Tables 5.1-5.3 next to this reproduction's, cell by "
        "cell, with the cells where the paper's value falls outside our spread over seeds "
        "marked.",
        ((PAPER_VS_OURS,), ()),
    ),
    (
        "Beyond the paper",
        "The pipeline goes further than the paper. It adds detectors that do not use influence "
        r"functions (the area under the margin, AUM \cite{pleiss2020}, and confident learning "
        r"\cite{northcutt2021}), computes the influence scores and the influence-based "
        "unlearning with the Hessian of the full network next to that of the last layer "
        "(its top eigenpairs from ARPACK's implicitly restarted Lanczos iteration "
        r"\cite{lanczos1950,lehoucq1998}, the symmetric case of Arnoldi's method "
        r"\cite{arnoldi1951}, as influence functions at scale use them \cite{schioppa2022}), "
        "checks the predicted effect of removing "
        "training samples against actual leave-$k$-out retraining, estimates the number of "
        "mislabeled samples instead of taking $m$ from the known noise and repeats "
        "Experiment 3 with that budget, and compares more unlearning methods "
        r"(NegGrad+ \cite{kurmanji2023}, relabelling with fine-tuning) with retraining on "
        "the clean data in accuracy, agreement, distance in parameter space and time.",
        ((), (EXTENSION_TABLE_PREFIX, EXTENSION_FIGURE_PREFIX)),
    ),
    (
        "Additional results",
        "Further figures, not in the paper, among them the paper's results drawn as curves "
        "against the noise ratio.",
        ((), ("",)),
    ),
)


def tex_item(entry: str | os.PathLike) -> str:
    """Normalise a table/figure entry to a relative POSIX `.tex` path safe for \\input."""
    path = PurePosixPath(Path(entry).as_posix())
    if path.suffix != ".tex":
        path = path.with_name(path.name + ".tex")
    text = str(path)
    if path.is_absolute() or not _SAFE_PATH_RE.match(text):
        raise ValueError(
            f"table/figure entry {str(entry)!r} must be a relative path of letters, digits, "
            "'_', '-', '.' and '/'"
        )
    return text


def _section_of(stem: str) -> int:
    """Index of the first section that names `stem` or one of its prefixes."""
    return next(
        i
        for i, (_, _, (stems, prefixes)) in enumerate(SECTIONS)
        if stem in stems or stem.startswith(prefixes)
    )


def group_sections(items: Sequence[str]) -> list[Section]:
    """Assign each `.tex` item to the first matching experiment section, keeping given order."""
    buckets: dict[int, list[str]] = {}
    for item in items:
        buckets.setdefault(_section_of(PurePosixPath(item).stem), []).append(item)
    return [Section(SECTIONS[i][0], SECTIONS[i][1], tuple(buckets[i])) for i in sorted(buckets)]


def paper_tex(
    *,
    tables: Sequence[str | os.PathLike],
    figures: Sequence[str | os.PathLike],
    title: str = DEFAULT_TITLE,
    rulegraph: str | None = RULEGRAPH,
) -> str:
    """The text of `paper.tex` (pure; see `write_paper_tex`)."""
    items = [tex_item(entry) for entry in [*tables, *figures]]
    if rulegraph is not None and not _SAFE_PATH_RE.match(rulegraph):
        raise ValueError(f"rulegraph path {rulegraph!r} has characters unsafe for LaTeX")
    dirs = {str(PurePosixPath(item).parent) for item in items}
    graphicspath = sorted(d + "/" for d in dirs if d != ".")  # figures' graphics sit beside them
    return (
        template_env()
        .get_template("paper.tex.j2")
        .render(
            title=latex_escape(title),
            font_pt=PAPER_FONT_PT,
            version=__version__,
            sections=group_sections(items),
            rulegraph=rulegraph,
            graphicspath=graphicspath,
        )
    )


def write_paper_tex(
    out_dir: str | os.PathLike,
    *,
    tables: Sequence[str],
    figures: Sequence[str],
    title: str = DEFAULT_TITLE,
    rulegraph: str | None = RULEGRAPH,
) -> Path:
    """Write `out_dir/paper.tex`, an article that \\input's each table and figure `.tex`.

    Args:
      tables, figures: `.tex` files relative to `out_dir` (the suffix may be left out).
      rulegraph: graphic for Figure 1.1 (relative to `out_dir`), or None to leave it out.

    Returns:
      The path of `paper.tex`.
    """
    path = Path(out_dir) / PAPER_TEX
    atomic.write_text(
        path, paper_tex(tables=tables, figures=figures, title=title, rulegraph=rulegraph)
    )
    return path


def latex_command(engine: str, tex_name: str, out_dir: str) -> list[str]:
    """The pdflatex command line: non-interactive, stop at the first error, output elsewhere."""
    return [
        engine,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        f"-output-directory={out_dir}",
        tex_name,
    ]


def compile_paper(tex_path: str | os.PathLike, log_path: str | os.PathLike) -> bool:
    """Compile `tex_path` to a PDF next to it with pdflatex (two passes).

    Auxiliary files go to a temporary directory; only the PDF is moved (atomically) next to
    the `.tex`, and the transcript goes to `log_path`. A missing TeX engine is not an error:
    `log_path` says so and False is returned. (latexmk alone is not enough: it drives
    pdflatex.)

    Returns:
      True if the PDF was built, False if no TeX engine is installed.

    Raises:
      RuntimeError: if pdflatex fails; the message points to `log_path`.
    """
    tex = Path(tex_path).resolve()
    if not tex.is_file():
        raise ValueError(f"no such LaTeX file: {tex}")
    engine = shutil.which("pdflatex")
    if engine is None:
        found = "latexmk but no pdflatex" if shutil.which("latexmk") else "no latexmk or pdflatex"
        atomic.write_text(log_path, f"compile_paper: {found} on PATH; {tex.name} not compiled.\n")
        return False
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0")}
    transcript: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mislabel-latex-") as tmp:
        cmd = latex_command(engine, tex.name, tmp)
        for run in (1, 2):
            try:
                proc = subprocess.run(
                    cmd,
                    cwd=tex.parent,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=LATEX_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                transcript.append(f"$ {' '.join(cmd)}  (pass {run})\ntimed out\n")
                atomic.write_text(log_path, "".join(transcript))
                raise RuntimeError(f"pdflatex timed out on {tex}; see {log_path}") from err
            transcript.append(f"$ {' '.join(cmd)}  (pass {run}, exit {proc.returncode})\n")
            transcript.append(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                atomic.write_text(log_path, "".join(transcript))
                raise RuntimeError(f"pdflatex failed on {tex} (pass {run}); see {log_path}")
        built = Path(tmp) / tex.with_suffix(".pdf").name
        with atomic.atomic_path(tex.with_suffix(".pdf")) as dest:
            shutil.copyfile(built, dest)
    atomic.write_text(log_path, "".join(transcript))
    return True
