"""Which samples a budget flags (`FLAG_RULES`): largest-remainder apportionment, the class
pairs' cells and their selection worked by hand, the selection against a plain greedy loop
and against the paper's independent per-cell top-k, the global rule equal to `flag_top`,
and the report (flagged first, counts that agree) from the function and the command."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mislabel.detect import flag_top
from mislabel.detectors.probabilities import (
    DEFAULT_FLAG_BY,
    FLAG_RULES,
    RATIO_FLAG_BY,
    apportion,
    assign_pairs,
    blended_count,
    calibrate_joint,
    confident_joint,
    flag_global,
    pair_cells,
)
from mislabel.find import find_issues
from tests.test_cli import fails, ok
from tests.test_find_issues import planted_probs

# Six samples, three classes, probabilities exact in binary. Labels 0, 0, 0, 1, 1, 2.
HAND_PROBS = np.array(
    [
        [0.125, 0.4375, 0.4375],  # y 0: margins p_1 - p_0 = p_2 - p_0 = 0.3125
        [0.25, 0.5, 0.25],  # y 0: p_1 - p_0 = 0.25, p_2 - p_0 = 0
        [0.375, 0.125, 0.5],  # y 0: p_1 - p_0 = -0.25, p_2 - p_0 = 0.125
        [0.5, 0.375, 0.125],  # y 1: p_0 - p_1 = 0.125
        [0.0625, 0.875, 0.0625],
        [0.0625, 0.0625, 0.875],
    ]
)
HAND_LABELS = np.array([0, 0, 0, 1, 1, 2])


def test_apportion_by_largest_remainder_by_hand():
    # 3 x (3, 1, 0, 2) / 6 = 1.5, 0.5, 0, 1: floors 1, 0, 0, 1; the one left goes to the
    # larger remainder, 0.5 at entries 0 and 1 alike: the lower index.
    np.testing.assert_array_equal(apportion(np.array([3, 1, 0, 2]), 3), [2, 0, 0, 1])
    np.testing.assert_array_equal(apportion(np.array([3, 1, 0, 2]), 6), [3, 1, 0, 2])
    np.testing.assert_array_equal(apportion(np.array([3, 1, 0, 2]), 12), [6, 2, 0, 4])
    np.testing.assert_array_equal(apportion(np.array([0, 0]), 5), [0, 0])
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = rng.integers(0, 40, 7)
        total = int(rng.integers(0, 300))
        share = apportion(w, total)
        assert share.sum() == (total if w.sum() else 0) and share.min() >= 0
        # every share within one of its exact quota
        assert np.all(np.abs(share - w * total / max(w.sum(), 1)) < 1)


def test_the_class_pairs_select_by_margin_each_sample_once_by_hand():
    # Cells (0, 1), (0, 2) and (1, 0) one each. Sample 0 leads both cells of row 0 (0.3125;
    # the tie goes to class 1), so cell (0, 2) takes its runner-up, sample 2 (0.125), not
    # sample 1 (0). The paper's cells read independently would both pick sample 0.
    cells = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]])
    toward = assign_pairs(HAND_LABELS, HAND_PROBS, cells)
    np.testing.assert_array_equal(toward, [1, -1, 2, 0, -1, -1])
    # Two in cell (0, 1): samples 0 (0.3125) and 1 (0.25).
    cells = np.array([[0, 2, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(
        assign_pairs(HAND_LABELS, HAND_PROBS, cells), [1, 1, -1, -1, -1, -1]
    )


def test_the_cells_are_the_calibrated_joint_scaled_and_capped_by_hand():
    # Thresholds: class 0 mean(0.125, 0.25, 0.375) = 0.25, class 1 mean(0.375, 0.875) =
    # 0.625, class 2 0.875. Confidently of 0: samples 1, 2 (labelled 0) and 3 (labelled 1);
    # sample 4 of 1, sample 5 of 2, sample 0 of none. Joint [[2,0,0],[1,1,0],[0,0,1]],
    # calibrated to the label counts 3, 2, 1: [[3,0,0],[1,1,0],[0,0,1]]. One off-diagonal
    # sample, in cell (1, 0).
    joint = calibrate_joint(confident_joint(HAND_LABELS, HAND_PROBS), HAND_LABELS)
    np.testing.assert_array_equal(joint, [[3, 0, 0], [1, 1, 0], [0, 0, 1]])
    cells = pair_cells(HAND_LABELS, HAND_PROBS, 1)
    np.testing.assert_array_equal(cells, [[0, 0, 0], [1, 0, 0], [0, 0, 0]])
    # Asked for 3, row 1 would hold 3 of its 2 samples: it gets 2, and no other row has
    # weight for the third.
    np.testing.assert_array_equal(
        pair_cells(HAND_LABELS, HAND_PROBS, 3), [[0, 0, 0], [2, 0, 0], [0, 0, 0]]
    )
    assert not pair_cells(HAND_LABELS, HAND_PROBS, 0).any()
    flagged, cells = FLAG_RULES["per_class_pair"](HAND_LABELS, HAND_PROBS, None, 1)
    np.testing.assert_array_equal(flagged, [False, False, False, True, False, False])


def noisy_problem(n=300, c=4, seed=0, flips=40):
    probs, y = planted_probs(n, c, seed)
    rng = np.random.default_rng(seed + 1)
    idx = rng.choice(n, flips, replace=False)
    y[idx] = (y[idx] + rng.integers(1, c, flips)) % c
    return probs, y


def plain_greedy(y, probs, cells):
    """Every (sample, other class) pair by margin, largest first, one at a time."""
    n, c = probs.shape
    pairs = sorted(
        ((probs[s, j] - probs[s, y[s]], s, j) for s in range(n) for j in range(c) if j != y[s]),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    toward, room = np.full(n, -1), cells.copy()
    for _, s, j in pairs:
        if toward[s] < 0 and room[y[s], j] > 0:
            toward[s], room[y[s], j] = j, room[y[s], j] - 1
    return toward


@pytest.mark.parametrize("total", [0, 15, 40, 90, 150])
def test_every_cell_gets_exactly_its_count_and_no_sample_twice(total):
    probs, y = noisy_problem()
    cells = pair_cells(y, probs, total)
    assert np.all(cells.diagonal() == 0)
    assert np.all(cells.sum(axis=1) <= np.bincount(y, minlength=4))
    toward = assign_pairs(y, probs, cells)
    got = np.zeros_like(cells)
    np.add.at(got, (y[toward >= 0], toward[toward >= 0]), 1)
    np.testing.assert_array_equal(got, cells)  # so each flagged sample counts once
    np.testing.assert_array_equal(toward, plain_greedy(y, probs, cells))
    flagged, rule_cells = FLAG_RULES["per_class_pair"](y, probs, None, total)
    np.testing.assert_array_equal(flagged, toward >= 0)
    np.testing.assert_array_equal(rule_cells, cells)


def test_the_cells_total_what_was_asked_and_the_joint_gives_its_own():
    probs, y = noisy_problem()
    joint = calibrate_joint(confident_joint(y, probs), y)
    np.fill_diagonal(joint, 0)
    np.testing.assert_array_equal(pair_cells(y, probs, int(joint.sum())), joint)
    for total in (1, 25, 60, 140):
        assert pair_cells(y, probs, total).sum() == total


def test_with_one_cell_per_row_the_selection_is_each_cells_top_margins():
    """No sample can lead two cells: the paper's independent per-cell top-k."""
    probs, y = noisy_problem()
    cells = np.zeros((4, 4), np.int64)
    cells[0, 2], cells[1, 3], cells[3, 0] = 5, 3, 7
    expected = np.full(len(y), -1)
    for (i, j), k in np.ndenumerate(cells):
        if k:
            members = np.flatnonzero(y == i)
            margin = probs[members, j] - probs[members, i]
            expected[members[np.argsort(-margin, kind="stable")[:k]]] = j
    np.testing.assert_array_equal(assign_pairs(y, probs, cells), expected)


def test_bad_cells_are_refused():
    with pytest.raises(ValueError, match="zero diagonal"):
        assign_pairs(HAND_LABELS, HAND_PROBS, np.eye(3, dtype=np.int64))
    with pytest.raises(ValueError, match="more samples than are labelled"):
        assign_pairs(HAND_LABELS, HAND_PROBS, np.array([[0, 0, 0], [0, 0, 0], [2, 0, 0]]))


def test_the_global_rule_is_flag_top():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 60).astype(float)  # many ties
    for m in (0, 7, 33, 60):
        flagged, cells = flag_global(None, None, scores, m)
        np.testing.assert_array_equal(flagged, flag_top(scores, m))
        assert cells is None


def test_global_or_pair_is_the_union_of_both():
    probs, y = noisy_problem()
    scores = 1 - probs[np.arange(len(y)), y]
    m = 40
    union, cells = FLAG_RULES["global_or_pair"](y, probs, scores, m)
    pair, pair_cells_ = FLAG_RULES["per_class_pair"](y, probs, scores, m)
    np.testing.assert_array_equal(union, flag_top(scores, m) | pair)
    np.testing.assert_array_equal(cells, pair_cells_)
    assert m <= union.sum() <= 2 * m


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("flag_by", list(FLAG_RULES))
def test_the_report_lists_the_flagged_first_with_counts_that_agree(flag_by, tmp_path):
    probs, y = noisy_problem()
    issues = find_issues(probs, y, flag_by=flag_by, report_dir=tmp_path)
    rows = read_rows(tmp_path / "flagged.csv")
    flags = [r["flagged"] == "True" for r in rows]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary == issues.summary and summary["flag_by"] == flag_by
    k = summary["flagged"]
    assert flags == [True] * k + [False] * (len(y) - k) and k == issues.flagged_N.sum() > 0
    for part in (rows[:k], rows[k:]):
        scores = [float(r["score"]) for r in part]
        assert scores == sorted(scores, reverse=True)
    given = [int(r["given_label"]) for r in rows[:k]]
    assert np.bincount(given, minlength=4).tolist() == summary["flagged_per_given_label"]
    assert summary["budget"] == blended_count(y, probs)
    if flag_by == "global":
        assert summary["pair_cells"] is None and k == summary["budget"]
    else:
        cells = np.array(summary["pair_cells"])
        np.testing.assert_array_equal(cells, pair_cells(y, probs, summary["budget"]))
        if flag_by == "per_class_pair":
            assert k == cells.sum()


def test_the_default_rule_depends_on_whether_a_ratio_is_given():
    probs, y = noisy_problem()
    assert find_issues(probs, y).summary["flag_by"] == DEFAULT_FLAG_BY == "global_or_pair"
    with_ratio = find_issues(probs, y, ratio=0.1)
    assert with_ratio.summary["flag_by"] == RATIO_FLAG_BY == "global"
    assert with_ratio.summary["flagged"] == 30  # exactly round(N r)
    per_pair = find_issues(probs, y, ratio=0.1, flag_by="per_class_pair")
    assert np.sum(per_pair.summary["pair_cells"]) == per_pair.summary["flagged"] == 30
    with pytest.raises(ValueError, match="unknown flag-by rule 'top'") as err:
        find_issues(probs, y, flag_by="top")
    assert "\n" not in str(err.value)


def test_the_command_flags_by_the_rule_it_is_given(tmp_path, capsys):
    probs, y = noisy_problem()
    np.save(tmp_path / "p.npy", probs)
    np.save(tmp_path / "y.npy", y)
    common = f"find-issues --pred-probs {tmp_path / 'p.npy'} --labels {tmp_path / 'y.npy'}"
    out = ok(f"{common} --report-dir {tmp_path / 'cli'} --flag-by per_class_pair --json", capsys)
    issues = find_issues(probs, y, flag_by="per_class_pair", report_dir=tmp_path / "py")
    assert json.loads(out) == issues.summary
    for name in ("flagged.csv", "summary.json"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "py" / name).read_bytes()
    fails(f"{common} --report-dir {tmp_path / 'r'} --flag-by top", capsys, "--flag-by")
    help_text = " ".join(ok("find-issues --help", capsys).split())
    for word in ("--flag-by", *FLAG_RULES):
        assert word in help_text
