"""Adapter for rules compile_paper and explain_no_tex: mislabel.report.paper.compile_paper."""

from mislabel.files.atomic import write_text
from mislabel.report.paper import compile_paper

sm = snakemake  # noqa: F821 (injected by Snakemake)
if "tex" in sm.input.keys():
    compile_paper(sm.input.tex, sm.log[0])
else:
    message = (
        "No TeX engine (pdflatex) on PATH: paper.tex was written but not compiled. Install "
        "one (Debian: apt-get install texlive-latex-base texlive-latex-recommended) and rerun."
    )
    write_text(sm.log[0], message + "\n")
    write_text(sm.output.note, message + "\n")
