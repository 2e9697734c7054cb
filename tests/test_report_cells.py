"""Tests for mislabel.report.cells: how a cell is printed and text escaped."""

from __future__ import annotations

import numpy as np
import pytest
from report_data_every import pm

from mislabel.report.cells import PM_PLAIN, column_decimals, count_cell, format_cell, latex_escape


def test_format_cell_single_seed() -> None:
    assert format_cell([0.93456], "auc") == "0.93"
    assert format_cell([0.93456], "percent") == "93.5"


def test_format_cell_several_seeds_uses_sample_std() -> None:
    values = [0.9, 1.0]
    std = np.std(values, ddof=1)
    assert format_cell(values, "auc") == f"0.95 $\\pm$ {std:.2f}"
    assert format_cell(values, "percent") == f"95.0 $\\pm$ {100 * std:.1f}"
    assert format_cell(values, "percent", pm=PM_PLAIN) == f"95.0 ± {100 * std:.1f}"


def test_format_cell_missing_and_nan() -> None:
    assert format_cell([], "auc") == "--"
    assert format_cell([np.nan], "percent") == "--"
    assert format_cell([np.nan, 0.5], "auc") == "0.50"  # NaN seeds are skipped


def test_format_cell_rejects_bad_kind_and_percentages() -> None:
    with pytest.raises(ValueError, match="kind"):
        format_cell([0.5], "ratio")
    with pytest.raises(ValueError, match="fractions"):
        format_cell([93.0], "percent")


def test_format_cell_extension_kinds() -> None:
    assert format_cell([-0.5, -0.6], "corr") == pm("-0.55", "0.07")
    assert format_cell([0.02, 0.03], "pp") == pm("+2.5", "0.7")
    assert format_cell([0.0512], "fraction") == "0.051"
    assert format_cell([1234.5, 1300.0], "real", decimals=1) == pm("1267.2", "46.3")
    assert format_cell([37, 40], "count") == pm("38", "2")
    with pytest.raises(ValueError, match="decimals"):
        format_cell([1.0], "real")
    with pytest.raises(ValueError, match="decimals"):
        format_cell([0.5], "auc", decimals=3)
    with pytest.raises(ValueError, match="correlations in"):
        format_cell([-1.5], "corr")


def test_a_column_of_reals_has_the_decimals_of_its_smallest_magnitude() -> None:
    assert column_decimals([0.27, 0.0642, 12.0]) == 3  # 0.064: two significant digits
    assert column_decimals([1234.5, 0.0, np.nan]) == 0
    assert column_decimals([1e-9]) == 4 and column_decimals([0.0, np.nan]) == 0
    cells = [format_cell(v, "real", pm=" ± ", decimals=3) for v in ([0.27, 0.2], [1, 1])]
    assert cells == ["0.235 ± 0.049", "1.000 ± 0.000"]


def test_latex_escape() -> None:
    assert latex_escape("a_b&c%$#{}") == r"a\_b\&c\%\$\#\{\}"


def test_count_cell_shows_one_count_or_a_range() -> None:
    assert count_cell([20, 20.0, np.nan]) == "20"
    assert count_cell([18, 20]) == "18--20"
    assert count_cell([np.nan]) == "--"
