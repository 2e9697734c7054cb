"""Tests for mislabel.workflow.artifacts: the one owner of every rendered file name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mislabel.workflow import config as wc
from mislabel.workflow.artifacts import (
    CURVES,
    EXTENSION_FIGURES,
    EXTENSION_FILES,
    EXTENSION_TABLES,
    PAPER_TABLE_FILES,
    PAPER_TABLES,
    figure_files,
    histogram_stem,
)


def test_artifacts_import_nothing_heavy() -> None:
    code = (
        "import sys, mislabel.workflow.artifacts; "
        "heavy = {'numpy', 'pandas', 'matplotlib', 'jax'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_extension_files_constant() -> None:
    assert len(EXTENSION_FILES) == len(EXTENSION_TABLES) + 3 * len(EXTENSION_FIGURES)
    assert "table_ext_unlearners_accuracy.tex" in EXTENSION_FILES
    assert {"fig_ext_estimated_ratio.pdf", "fig_ext_estimated_ratio.png"} <= set(EXTENSION_FILES)
    assert len(set(EXTENSION_FILES)) == len(EXTENSION_FILES)


def test_stems_and_files() -> None:
    assert PAPER_TABLE_FILES == ("table_5_1.tex", "table_5_2.tex", "table_5_3.tex")
    assert figure_files(["fig_a"]) == ["fig_a.pdf", "fig_a.png", "fig_a.tex"]
    assert [histogram_stem(d) for d in ("loss", "if_train_minus_z", "aum")] == [
        "fig_5_1",
        "fig_5_4",
        "fig_extra_aum",
    ]
    with pytest.raises(ValueError, match="must match"):
        histogram_stem("a b")


def test_workflow_paths_are_built_from_the_artifact_names() -> None:
    files = wc.paper_files(["loss", "aum"], "p")
    assert files[:3] == [f"p/{name}" for name in PAPER_TABLE_FILES]
    assert f"p/{CURVES[0]}.png" in files and "p/fig_extra_aum.tex" in files
    assert files[-3:] == ["p/fig_1_1.pdf", "p/fig_1_1.png", "p/paper.tex"]
    assert wc.extension_stems() == [*EXTENSION_TABLES, *EXTENSION_FIGURES]
    assert len(files) == len(set(files)) == 3 + 3 * (2 + len(CURVES)) + len(EXTENSION_FILES) + 3
    assert len(PAPER_TABLES) == 3
