"""The results as pages of plain text: where they come from (the config, the dataset, the
seeds, the command that rebuilds them), then Tables 5.1-5.3, and the tables beyond the
paper (every detector, the estimated noise ratio, every unlearner).

The workflow renders `mislabel.workflow.artifacts.RESULTS_MD` (Tables 5.1-5.3, carried by the
README in a rendered block, `mislabel.report.include`), `RESULTS_BEYOND_MD` (carried by
docs/paper.md) and `RESULTS_HTML` (all of it, for `snakemake --report`).
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mislabel import __version__
from mislabel.files.atomic import write_text
from mislabel.report.cells import MARKDOWN, PLAIN, Row, Style, grid_markdown
from mislabel.report.curvature_tables import has_slope, loo_header, loo_rows
from mislabel.report.detection_tables import budget_rows, detection_rows
from mislabel.report.frames import (
    DETECTION_COLUMNS,
    PAPER_TARGETS,
    UNLEARNING_COLUMNS,
    estimators,
    has_values,
    load_loo,
    load_results,
    paper_detection,
    paper_unlearning,
    sorted_ratios,
    with_numeric,
    with_timing,
)
from mislabel.report.labels import (
    DETECTOR_LABELS,
    EXT_DETECTION_METRICS,
    EXT_DETECTORS,
    TARGET_LABELS,
    budget_phrase,
    check_metric,
    dataset_label,
    label_of,
    ordered,
    plural,
    ratio_label,
)
from mislabel.report.unlearning_tables import (
    accuracy_rows,
    full_method_rows,
    retrained_rows,
    unlearner_metrics,
    unlearning_rows,
)
from mislabel.workflow.paths import PAPER


def provenance(config: Mapping, config_name: str) -> tuple[str, str]:
    """(what the results come from, the command that rebuilds them: with the default
    config, into its `paper_dir`)."""
    seeds = [int(s) for s in config["seeds"]]
    classes = ", ".join(str(c) for c in config["classes"])
    ratios = ", ".join(f"{float(r):g}" for r in config["noise_ratios"])
    cells = "cells mean ± std over seeds" if len(seeds) > 1 else "one run per cell"
    source = (
        f"{dataset_label(config['dataset'])}, classes {classes}, noise ratios {ratios}; "
        f"{plural(len(seeds), 'seed')} ({', '.join(map(str, seeds))}), {cells}; "
        f"config `{config_name}`; mislabel {__version__}."
    )
    layered = "" if config_name == "config.yaml" else f" --configfile {config_name}"
    command = f".venv/bin/snakemake --cores 8{layered} --config seeds=[{','.join(map(str, seeds))}]"
    paper_dir = str(config.get("paper_dir", PAPER)).rstrip("/")
    if config_name == "config.yaml" and paper_dir != PAPER:
        command += f" paper_dir={paper_dir}"
    return source, command


Table = tuple[str, list[str], list[Row]]  # (title, header, rows)


def ratio_columns(ratios: Sequence[float]) -> list[str]:
    return ["r", *(ratio_label(r) for r in ratios)]


def headline_tables(det: pd.DataFrame, unl: pd.DataFrame, metric: str, style: Style) -> list[Table]:
    """Tables 5.1, 5.2 and 5.3 (the paper's detectors and unlearners)."""
    value, _, what = check_metric(metric)
    det, unl = paper_detection(det), paper_unlearning(unl)
    det_ratios, unl_ratios = sorted_ratios(det), sorted_ratios(unl)
    return [
        (
            f"Table 5.1: detection ({budget_phrase(det, style)})",
            ratio_columns(det_ratios),
            detection_rows(det, det_ratios, style),
        ),
        (
            f"Table 5.2: {what} after forgetting the mislabeled samples",
            ratio_columns(unl_ratios),
            unlearning_rows(unl, unl_ratios, target="mislabeled", style=style, value=value),
        ),
        (
            f"Table 5.3: {what} of the full method, detect then forget",
            ratio_columns(unl_ratios),
            full_method_rows(unl, unl_ratios, style, value=value),
        ),
    ]


def beyond_tables(
    det: pd.DataFrame, unl: pd.DataFrame, loo: pd.DataFrame, style: Style
) -> list[Table]:
    """Every detector, the estimated noise ratio, every unlearner, every unlearner against
    retraining, and the leave-k-out validation, as in `table_ext_detectors`,
    `table_ext_budget`, `table_ext_unlearners_accuracy`, `table_ext_unlearners` and
    `table_ext_loo`; a table whose data this run did not produce is left out."""
    det_ratios, unl_ratios = sorted_ratios(det), sorted_ratios(unl)
    tables = [
        (
            f"Every detector: ROC AUC and precision (%) of the top m ({budget_phrase(det, style)})",
            ratio_columns(det_ratios),
            detection_rows(
                det, det_ratios, style, metrics=EXT_DETECTION_METRICS, known=EXT_DETECTORS
            ),
        )
    ]
    names = estimators(det)
    if names:
        labels = [label_of(n, DETECTOR_LABELS, style) for n in names]
        tables.append(
            (
                "The noise ratio estimated without knowing it: the actual fraction of flipped "
                "labels, then each estimate",
                ["r", "flipped (actual)", *labels],
                budget_rows(det, names, style),
            )
        )
    targets = [t for t in PAPER_TARGETS if (unl["target"] == t).any()]
    if targets:
        tables.append(
            (
                "Every unlearner: test accuracy (%)",
                ratio_columns(unl_ratios),
                accuracy_rows(unl, unl_ratios, targets, style),
            )
        )
    metrics = unlearner_metrics(unl)
    all_targets = [t for t in ordered(unl["target"], list(TARGET_LABELS)) if t != "none"]
    if all_targets and has_values(unl, metrics[0][0]):
        tables.append(
            (
                "Every unlearner against the model retrained on the clean data (each cell: "
                "mean ± std over the seeds at one noise ratio)",
                ["unlearner", *(head[style.which] for _, _, head in metrics)],
                retrained_rows(unl, metrics, all_targets, style),
            )
        )
    if not loo.empty:
        tables.append(
            (
                "Leave-k-out validation: predicted against actual loss change when k training "
                "samples are removed and the model retrained",
                loo_header(has_slope(loo), style),
                loo_rows(loo, has_slope(loo), style),
            )
        )
    return tables


def _markdown(source: str, command: str, tables: Sequence[Table]) -> str:
    parts = [f"From {source} Rebuild them with `{command}`.\n"]
    parts += [f"### {title}\n\n{grid_markdown(rows, header)}" for title, header, rows in tables]
    return "\n".join(parts)


def results_markdown(
    det: pd.DataFrame, unl: pd.DataFrame, config: Mapping, config_name: str, metric: str
) -> str:
    """Tables 5.1-5.3 in Markdown (headings at level 3, for inclusion in a README)."""
    return _markdown(*provenance(config, config_name), headline_tables(det, unl, metric, MARKDOWN))


def beyond_markdown(
    det: pd.DataFrame, unl: pd.DataFrame, loo: pd.DataFrame, config: Mapping, config_name: str
) -> str:
    """The tables beyond the paper in Markdown (for inclusion in docs/paper.md)."""
    return _markdown(*provenance(config, config_name), beyond_tables(det, unl, loo, MARKDOWN))


def _html_table(title: str, header: Sequence[str], rows: Sequence[Row]) -> str:
    lines = [
        f"<h3>{html.escape(title)}</h3>",
        "<table>",
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>",
    ]
    for row in rows:
        label = html.escape(row.label)
        if row.kind in ("group", "head"):
            tag = "em" if row.kind == "group" else "strong"
            lines.append(f'<tr><td colspan="{len(header)}"><{tag}>{label}</{tag}></td></tr>')
            continue
        indent = ' class="sub"' if row.kind == "sub" else ""
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in row.cells)
        lines.append(f"<tr><td{indent}>{label}</td>{cells}</tr>")
    return "\n".join([*lines, "</table>"])


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
    "table{border-collapse:collapse;margin-bottom:2em}"
    "th,td{padding:.2em .8em;text-align:right;border-bottom:1px solid #ddd}"
    "td:first-child,th:first-child{text-align:left}td.sub{padding-left:2em}"
    "figure{margin:0 0 2em}figure img{max-width:100%}figcaption{font-size:.9em}"
)


_LATEX_TEXT = (
    (r"\pm", "±"),
    (r"\%", "%"),
    (r"\_", "_"),
    (r"\setminus", "\\"),
    (r"\hat{m}", "m̂"),
    (r"\ldots", "..."),
)


def latex_text(latex: str) -> str:
    """A figure caption's LaTeX as plain text: math kept as its letters (``$D_{\\mathrm{
    clean}}$`` -> ``D_clean``), the few symbols the captions use spelled out."""
    text = latex
    for macro, plain in _LATEX_TEXT:
        text = text.replace(macro, plain)
    text = re.sub(r"\\(?:mathrm|text|mathbf|emph)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"_\{([^{}]*)\}", r"_\1", text)
    return text.replace("$", "").replace("{", "").replace("}", "").replace("--", "–")


def figure_caption(png: Path) -> str:
    """The caption of a rendered figure, from the `.tex` beside its `.png`, as plain text."""
    tex = png.with_suffix(".tex")
    if not tex.is_file():
        return ""
    for line in tex.read_text().splitlines():
        if "\\caption{" in line:
            return latex_text(line.split("\\caption{", 1)[1].rsplit("}", 1)[0])
    return ""


def _html_figure(png: Path, caption: str) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _code_spans(text: str) -> str:
    """Escaped `text` with its Markdown code spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def results_html(
    det: pd.DataFrame,
    unl: pd.DataFrame,
    loo: pd.DataFrame,
    config: Mapping,
    config_name: str,
    metric: str,
    figures: Sequence[tuple[Path, str]] = (),
) -> str:
    """The results page as a standalone HTML document: Tables 5.1-5.3, the tables beyond
    the paper, then `figures` ((PNG, caption) pairs, embedded)."""
    source, command = provenance(config, config_name)
    headline = [_html_table(*t) for t in headline_tables(det, unl, metric, PLAIN)]
    beyond = [_html_table(*t) for t in beyond_tables(det, unl, loo, PLAIN)]
    shown = ["<h2>Figures</h2>", *(_html_figure(*f) for f in figures)] if figures else []
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8"><title>mislabel results</title>',
            f"<style>{STYLE}</style></head><body>",
            "<h1>Results</h1>",
            f"<p>From {_code_spans(source)}<br>Rebuild them with "
            f"<code>{html.escape(command)}</code>.</p>",
            "<h2>The paper's tables</h2>",
            *headline,
            "<h2>Beyond the paper</h2>",
            *beyond,
            *shown,
            "</body></html>",
            "",
        ]
    )


def render_results_page(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    config: Mapping,
    out_md: str | os.PathLike,
    out_beyond_md: str | os.PathLike,
    out_html: str | os.PathLike,
    *,
    loo_csv: str | os.PathLike | None = None,
    timing_csv: str | os.PathLike | None = None,
    config_name: str = "config.yaml",
    metric: str = "accuracy",
    figures: Sequence[str | os.PathLike] = (),
) -> list[Path]:
    """Write the results page: Tables 5.1-5.3 in Markdown, the tables beyond the paper in
    Markdown, and both in one HTML page with the `figures` (PNGs, each captioned from the
    `.tex` beside it) embedded. `loo_csv` and `timing_csv` (the leave-k-out and timing
    summaries) feed the validation table and the time column, when given."""
    dataset = config["dataset"]
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    det = with_numeric(det, ["flipped_ratio", "estimated_ratio"])
    unl = with_timing(load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset), timing_csv)
    unl = with_numeric(unl, [*(col for col, _, _ in unlearner_metrics(unl)), "damping"])
    loo = load_loo(loo_csv, dataset=dataset)
    write_text(out_md, results_markdown(det, unl, config, config_name, metric))
    write_text(out_beyond_md, beyond_markdown(det, unl, loo, config, config_name))
    shown = [(Path(png), figure_caption(Path(png))) for png in figures]
    write_text(out_html, results_html(det, unl, loo, config, config_name, metric, shown))
    return [Path(out_md), Path(out_beyond_md), Path(out_html)]
