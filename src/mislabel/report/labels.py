"""How the report spells every name (detectors, unlearners, forget sets, datasets, metrics)
and the phrases its captions share (seeds, noise ratios, budgets, "not run" notes).

Known names come in paper order first, then the extensions; anything else is rendered
afterwards under its raw (escaped) name. Each label is a (LaTeX, plain text) pair; LaTeX
labels are also valid Matplotlib mathtext. Detector and unlearner labels are those of the
registries (`mislabel.registry`); the rest are the report's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import pandas as pd

from mislabel import registry
from mislabel.report.cells import LATEX, PM_LATEX, Style, latex_escape


class RegistryLabels(Mapping):
    """The labels of a registry's entries, in registry order after `extra`, read when asked
    (so a detector or unlearner registered after import is labelled too)."""

    def __init__(self, registry: Mapping[str, registry.Entry], extra: dict | None = None):
        self._registry, self._extra = registry, dict(extra or {})

    def __getitem__(self, name: str) -> tuple[str, str]:
        return self._extra[name] if name in self._extra else self._registry[name].label

    def __iter__(self) -> Iterator[str]:
        yield from self._extra
        yield from (name for name in self._registry if name not in self._extra)

    def __len__(self) -> int:
        return len(set(self._extra) | set(self._registry))


# Detectors and unlearners are labelled by their registry entries, in registry order.
DETECTOR_LABELS = RegistryLabels(registry.DETECTORS)
UNLEARNER_LABELS = RegistryLabels(
    registry.UNLEARNERS, {"pretrained": ("Pre-trained", "Pre-trained")}
)
# Table 5.2 names the retrained row after what it was trained on.
RETRAIN_ON_CLEAN: tuple[str, str] = (r"Retrained on $D_{\mathrm{clean}}$", "Retrained on D_clean")
# The forget sets, as sub-rows of one unlearner ("on ...") and as headings of panels and row
# groups ("forget ...").
_FORGET_SETS: dict[str, tuple[str, str]] = {
    "mislabeled": (r"$D_{\mathrm{mislabeled}}$", "D_mislabeled"),
    "detected": (r"$D_{\mathrm{detected}}$", "D_detected"),
    "detected_estimated": (r"$D_{\mathrm{detected}}$, estimated $m$", "D_detected, estimated m"),
}
TARGET_LABELS = {k: (f"on {tex}", f"on {plain}") for k, (tex, plain) in _FORGET_SETS.items()}
FORGET_LABELS = {
    k: (f"forget {tex}", f"forget {plain}") for k, (tex, plain) in _FORGET_SETS.items()
}
# Sub-rows of the estimated-budget table: the detected forget set, by how m was set.
BUDGET_TARGETS: dict[str, tuple[str, str]] = {
    "detected": (r"given $m$", "given m"),
    "detected_estimated": (r"estimated $\hat{m}$", "estimated m"),
}
# Curvature scopes of the leave-k-out validation, and the two sub-rows of a twin.
SCOPE_LABELS: dict[str, tuple[str, str]] = {
    "last_layer": ("Last layer", "Last layer"),
    "full": ("Full network (conjugate gradients)", "Full network (conjugate gradients)"),
    "full_lowrank": (
        "Full network (top-$k$ eigenpairs)",
        "Full network (top-k eigenpairs)",
    ),
}
CURVATURE_SCOPES: tuple[str, str] = ("last layer", "full network")
DATASET_LABELS: dict[str, str] = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "features": "own features",
}
# How many samples a detector flags (the detection summary's `budget` column).
BUDGET_PHRASES: dict[str, tuple[str, str]] = {
    "oracle": (
        r"$m$ = the number of flipped labels, the oracle budget",
        "m = the number of flipped labels, the oracle budget",
    ),
    "nominal": (
        r"$m = \mathrm{round}(nr)$, the nominal budget",
        "m = round(nr), the nominal budget",
    ),
}
# Table 5.1 groups: (column, cell kind, LaTeX heading, plain heading).
DETECTION_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("roc_auc", "auc", "ROC AUC", "ROC AUC"),
    ("accuracy", "percent", r"Accuracy (\%)", "Accuracy (%)"),
    ("precision", "percent", r"Precision (\%)", "Precision (%)"),
)
# The same for every detector (beyond the paper).
EXT_DETECTION_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("roc_auc", "auc", "ROC AUC", "ROC AUC"),
    (
        "precision",
        "percent",
        r"Precision (\%) of the top-$m$ flags",
        "Precision (%) of the top-m flags",
    ),
)
# The test metric of Tables 5.2-5.3: config value -> (summary column, LaTeX, plain phrase).
TEST_METRICS: dict[str, tuple[str, str, str]] = {
    "accuracy": ("test_accuracy", r"Test accuracy (\%)", "Test accuracy (%)"),
    "balanced_accuracy": (
        "balanced_accuracy",
        r"Balanced test accuracy (\%, the mean of the per-class accuracies)",
        "Balanced test accuracy (%, the mean of the per-class accuracies)",
    ),
}
# Detector order beyond the paper: the baselines (loss, AUM, confident learning), then the
# influence scores, then their full-network twins.
EXT_DETECTORS: tuple[str, ...] = (
    *(
        d
        for d in registry.DETECTORS
        if d not in registry.INFLUENCE_DETECTORS and not d.endswith(registry.FULL_SUFFIX)
    ),
    *registry.INFLUENCE_DETECTORS,
    *(d + registry.FULL_SUFFIX for d in registry.INFLUENCE_DETECTORS),
)


def ordered(present: Iterable[str], known: Sequence[str]) -> list[str]:
    """Known names in paper order, then unknown names sorted."""
    found = set(present)
    return [k for k in known if k in found] + sorted(found - set(known))


def label_of(name: str, labels: dict[str, tuple[str, str]], style: Style) -> str:
    """Display label of a known name, or the escaped raw name."""
    return labels[name][style.which] if name in labels else style.escape(name)


def unlearner_label(unlearner: str, target: str, style: Style = LATEX) -> str:
    """Row label of an unlearner; retraining on the known mislabeled set is "on D_clean"."""
    if unlearner == "retrain" and target == "mislabeled":
        return RETRAIN_ON_CLEAN[style.which]
    return label_of(unlearner, UNLEARNER_LABELS, style)


def dataset_label(dataset: str) -> str:
    """Display name of a dataset (escaped for LaTeX)."""
    return DATASET_LABELS.get(dataset, latex_escape(dataset))


def ratio_label(ratio: float) -> str:
    """Column header for a noise ratio (0.05 -> "0.05")."""
    return f"{ratio:g}"


def ratio_heading(ratio: float, style: Style = LATEX) -> str:
    """The heading of one noise ratio's block of rows."""
    value = ratio_label(ratio)
    return (f"Noise ratio $r = {value}$", f"Noise ratio r = {value}")[style.which]


def check_metric(metric: str) -> tuple[str, str, str]:
    """(summary column, LaTeX, plain phrase) of a test metric (`TEST_METRICS`)."""
    if metric not in TEST_METRICS:
        raise ValueError(f"unknown test metric {metric!r}; choose one of {list(TEST_METRICS)}")
    return TEST_METRICS[metric]


NOT_RUN = "not run in this configuration"


def seed_phrase(n_seeds: int, *, pm: str = PM_LATEX) -> str:
    """Caption phrase for how cells aggregate seeds."""
    if n_seeds == 1:
        return "1 seed"
    return f"mean{pm}std over {n_seeds} seeds"


def band_phrase(k: int) -> str:
    """Caption phrase for curves: mean line and +-std band over k seeds."""
    if k > 1:
        return f"line: mean, band: $\\pm$ std over {k} seeds"
    return seed_phrase(k)


def per_ratio(n_seeds: int, by: str = "") -> str:
    """The caption tail of a table with one column per noise ratio:
    `per [<by> and ]noise ratio $r$ (<how the cells aggregate seeds>).`"""
    return f"per {by + ' and ' if by else ''}noise ratio $r$ ({seed_phrase(n_seeds)})."


def budget_phrase(det: pd.DataFrame, style: Style = LATEX) -> str:
    """Caption phrase for the number m of flags in `det` (its `budget` column; summaries
    written before that column existed used the nominal budget)."""
    modes = sorted(set(det["budget"].astype(str))) if "budget" in det.columns else ["nominal"]
    return "; ".join(
        BUDGET_PHRASES[m][style.which] if m in BUDGET_PHRASES else style.escape(m) for m in modes
    )


def plural(count: int, noun: str) -> str:
    """`1 seed`, `2 seeds`."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def heading(text: str) -> str:
    """`text` with its first letter upper-cased (the rest kept, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """`text` as a sentence: first letter upper-cased, a full stop."""
    return f"{heading(text)}."


def with_note(caption: str, missing: bool) -> str:
    """`caption`, plus a sentence saying the data was not produced when `missing`."""
    return f"{caption} {sentence(NOT_RUN)}" if missing else caption
