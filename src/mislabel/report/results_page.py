"""The headline results as one page, in Markdown and in HTML: where they come from (the
config, the dataset, the seeds, the command that rebuilds them), then Tables 5.1-5.3 with
plain-text cells.

The workflow renders both (`mislabel.artifacts.RESULTS_MD`, `RESULTS_HTML`); the HTML is
what `snakemake --report` shows, and the README carries the Markdown in a rendered block
(`mislabel.report.include`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mislabel import __version__
from mislabel.files.atomic import write_text
from mislabel.report.captions import budget_phrase, plural
from mislabel.report.cells import MARKDOWN, PM_PLAIN, Row, Style
from mislabel.report.detection_tables import detection_rows
from mislabel.report.frames import (
    DETECTION_COLUMNS,
    UNLEARNING_COLUMNS,
    load_results,
    paper_detection,
    paper_unlearning,
    sorted_ratios,
)
from mislabel.report.labels import check_metric, dataset_label, ratio_label
from mislabel.report.markdown import rows_markdown
from mislabel.report.unlearning_tables import full_method_rows, unlearning_rows

# Labels and cells as plain text, for the HTML layout, which escapes them itself.
PLAIN = Style(which=1, pm=PM_PLAIN, escape=str)


def provenance(config: Mapping, config_name: str) -> tuple[str, str]:
    """(what the results come from, the command that rebuilds them)."""
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
    return source, command


def headline_tables(
    det: pd.DataFrame, unl: pd.DataFrame, metric: str, style: Style
) -> list[tuple[str, list[Row], list[float]]]:
    """(title, rows, ratios) of Tables 5.1, 5.2 and 5.3 (the paper's detectors and methods)."""
    value, _, what = check_metric(metric)
    det, unl = paper_detection(det), paper_unlearning(unl)
    det_ratios, unl_ratios = sorted_ratios(det), sorted_ratios(unl)
    return [
        (
            f"Table 5.1: detection ({budget_phrase(det, style)})",
            detection_rows(det, det_ratios, style),
            det_ratios,
        ),
        (
            f"Table 5.2: {what} after forgetting the mislabeled samples",
            unlearning_rows(unl, unl_ratios, target="mislabeled", style=style, value=value),
            unl_ratios,
        ),
        (
            f"Table 5.3: {what} of the full method, detect then forget",
            full_method_rows(unl, unl_ratios, style, value=value),
            unl_ratios,
        ),
    ]


def results_markdown(
    det: pd.DataFrame, unl: pd.DataFrame, config: Mapping, config_name: str, metric: str
) -> str:
    """The results page in Markdown (headings at level 3, for inclusion in a README)."""
    source, command = provenance(config, config_name)
    parts = [f"From {source} Rebuild them with `{command}`.\n"]
    for title, rows, ratios in headline_tables(det, unl, metric, MARKDOWN):
        parts.append(f"### {title}\n\n{rows_markdown(rows, ratios)}")
    return "\n".join(parts)


def _html_table(title: str, rows: Sequence[Row], ratios: Sequence[float]) -> str:
    width = len(ratios) + 1
    lines = [
        f"<h2>{html.escape(title)}</h2>",
        "<table>",
        "<tr><th>r</th>" + "".join(f"<th>{ratio_label(r)}</th>" for r in ratios) + "</tr>",
    ]
    for row in rows:
        label = html.escape(row.label)
        if row.kind in ("group", "head"):
            tag = "em" if row.kind == "group" else "strong"
            lines.append(f'<tr><td colspan="{width}"><{tag}>{label}</{tag}></td></tr>')
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
)


def results_html(
    det: pd.DataFrame, unl: pd.DataFrame, config: Mapping, config_name: str, metric: str
) -> str:
    """The results page as a standalone HTML document."""
    source, command = provenance(config, config_name)
    tables = [_html_table(*table) for table in headline_tables(det, unl, metric, PLAIN)]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8"><title>mislabel results</title>',
            f"<style>{STYLE}</style></head><body>",
            "<h1>Results</h1>",
            f"<p>From {html.escape(source)}<br>Rebuild them with "
            f"<code>{html.escape(command)}</code>.</p>",
            *tables,
            "</body></html>",
            "",
        ]
    )


def render_results_page(
    detection_csv: str | os.PathLike,
    unlearning_csv: str | os.PathLike,
    config: Mapping,
    out_md: str | os.PathLike,
    out_html: str | os.PathLike,
    *,
    config_name: str = "config.yaml",
    metric: str = "accuracy",
) -> list[Path]:
    """Write the results page as Markdown and HTML."""
    dataset = config["dataset"]
    det = load_results(detection_csv, DETECTION_COLUMNS, dataset=dataset)
    unl = load_results(unlearning_csv, UNLEARNING_COLUMNS, dataset=dataset)
    write_text(out_md, results_markdown(det, unl, config, config_name, metric))
    write_text(out_html, results_html(det, unl, config, config_name, metric))
    return [Path(out_md), Path(out_html)]
