"""Tests for mislabel.report.labels: every registered name has a label, in a fixed order."""

from __future__ import annotations

from mislabel import registry
from mislabel.report.labels import (
    DETECTOR_LABELS,
    EXT_DETECTORS,
    FORGET_LABELS,
    TARGET_LABELS,
    UNLEARNER_LABELS,
    ordered,
)


def test_every_name_has_a_label_in_registry_order() -> None:
    assert list(DETECTOR_LABELS) == list(registry.DETECTORS)
    assert list(UNLEARNER_LABELS) == ["pretrained", *registry.UNLEARNERS]
    assert DETECTOR_LABELS["if_train_full"] == (
        r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}}, z)$, full network",
        "I_up,loss(D_train, z), full network",
    )
    assert UNLEARNER_LABELS["ssse_full"] == ("SSSE (full)", "SSSE (full)")
    assert set(registry.TARGETS) <= set(TARGET_LABELS) == set(FORGET_LABELS)


def test_detectors_beyond_the_paper_come_baselines_first() -> None:
    assert EXT_DETECTORS == (
        "loss",
        "aum",
        "cleanlab",
        "if_self",
        "if_train",
        "if_train_minus_z",
        "if_self_full",
        "if_train_full",
        "if_train_minus_z_full",
    )
    assert set(EXT_DETECTORS) == set(registry.DETECTORS)


def test_ordered_puts_unknown_names_last() -> None:
    assert ordered(["b_new", "aum", "loss", "a_new"], EXT_DETECTORS) == [
        "loss",
        "aum",
        "a_new",
        "b_new",
    ]
