"""Table 5.2 as Markdown (`unlearning_tables.table_markdown`), cell for cell as in LaTeX."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_data_paper import body_rows, detection_df, unlearning_df, write

from mislabel.report import render_tables, table_markdown


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(detection_df(), tmp_path / "detection.csv"),
        write(unlearning_df(), tmp_path / "unlearning.csv"),
    )


def test_table_markdown_matches_latex_cells(csvs, tmp_path: Path) -> None:
    md = table_markdown(csvs[1])
    lines = md.strip().splitlines()
    assert lines[0] == "| r | 0.01 | 0.05 | 0.3 |"
    assert lines[1] == "|:--|--:|--:|--:|"
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == [
        "Pre-trained",
        "Influence function",
        "SSSE",
        "Fine-tuned",
        "Retrained on D_clean",
    ]
    t2 = render_tables(*csvs, tmp_path)[1].read_text()
    tex_cells = body_rows(t2)[0].rstrip(" \\").split(" & ")[1:]
    md_cells = lines[2].strip("| ").split(" | ")[1:]
    assert md_cells == [c.replace(" $\\pm$ ", " ± ") for c in tex_cells]
    assert "±" in md and "$" not in md.replace("$D", "")


def test_table_markdown_bad_target(csvs) -> None:
    assert "Retrained |" in table_markdown(csvs[1], target="detected")
    with pytest.raises(ValueError, match="no rows with target 'random'"):
        table_markdown(csvs[1], target="random")
