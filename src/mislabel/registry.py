"""The registries: every detector, unlearner and forget-set target, by name (no heavy imports).

`DETECTORS` and `UNLEARNERS` map each name to an entry that says what runs it (a
``"module:function"`` loaded on first use, so reading the registry imports no JAX) and how
the report labels it. Everything else is generated from them: the config check, the
workflow's wildcard constraints, the CLI's choices and the report's labels. Adding a
detector is one module with a function of the detector signature and one line in
`DETECTORS` (or one `register_detector` call):

    detector function(names: tuple[str, ...], inp: DetectorInput) -> {name: Detection}
    unlearner function(name: str, inp: UnlearnInput) -> (TrainState, info dict)

(`mislabel.detectors.base`, `mislabel.unlearners.base`). Detectors with the same
`shares` key are scored in one call, sharing their expensive part (the influence ones of
one curvature scope share the per-sample gradients and the inverse Hessian).

A ``_full`` suffix on an influence detector or a closed-form unlearner means the same
method with the Hessian over every network parameter (matrix-free) instead of the last
layer's exact Hessian (the paper); the entry's `scope` says which.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FULL_SUFFIX = "_full"
SCOPES = ("last_layer", "full")


@dataclass(frozen=True)
class Entry:
    """A registered detector or unlearner.

    name: its name in configs, file names and the CLI; base: the score or update it
    computes (``if_self`` for ``if_self_full``); scope: the curvature scope (closed-form and
    influence methods); runner: ``"module:function"``; label: (LaTeX, plain text) for the
    report; paper: one of the paper's own; estimates: a detector that also estimates the
    number of mislabeled samples; shares: scored together with the detectors of the same key;
    needs_margins: a detector that needs the per-epoch training margins of the model.
    """

    name: str
    runner: str
    label: tuple[str, str]
    base: str = ""
    scope: str = "last_layer"
    paper: bool = False
    estimates: bool = False
    shares: str = ""
    needs_margins: bool = False

    def load(self) -> Callable:
        """The function that runs this entry (imported on first use)."""
        module, _, function = self.runner.partition(":")
        return getattr(importlib.import_module(module), function)

    @property
    def group(self) -> str:
        """Key of the detectors scored in one call (its own name if it shares nothing)."""
        return self.shares or self.name


_INFLUENCE = "mislabel.detectors.influence:score"
_CLOSED_FORM = "mislabel.unlearners.closed_form:run"
_INFLUENCE_LABELS: dict[str, tuple[str, str]] = {
    "if_self": (r"$I_{\mathrm{up,loss}}(z, z)$", "I_up,loss(z, z)"),
    "if_train": (r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}}, z)$", "I_up,loss(D_train, z)"),
    "if_train_minus_z": (
        r"$I_{\mathrm{up,loss}}(D_{\mathrm{train}} \setminus z, z)$",
        "I_up,loss(D_train \\ z, z)",
    ),
}


def _full_label(label: tuple[str, str], suffix: str) -> tuple[str, str]:
    return (f"{label[0]}{suffix}", f"{label[1]}{suffix}")


def _influence(base: str, scope: str) -> Entry:
    full = scope == "full"
    label = _INFLUENCE_LABELS[base]
    return Entry(
        base + FULL_SUFFIX if full else base,
        _INFLUENCE,
        _full_label(label, ", full network") if full else label,
        base=base,
        scope=scope,
        paper=not full,
        shares=f"influence:{scope}",
    )


def _closed_form(base: str, label: str, scope: str) -> Entry:
    full = scope == "full"
    name = base + FULL_SUFFIX if full else base
    text = f"{label} (full)" if full else label
    return Entry(name, _CLOSED_FORM, (text, text), base=base, scope=scope, paper=not full)


# Detectors: the paper's four, the influence ones over the full network, then AUM and
# confident learning (both also estimate how many samples are mislabeled).
CONFIDENT_LEARNING = "cleanlab"  # the detector that trains cross-validated models

DETECTORS: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry("loss", "mislabel.detectors.loss:score", ("Loss", "Loss"), paper=True),
        *(_influence(base, "last_layer") for base in _INFLUENCE_LABELS),
        *(_influence(base, "full") for base in _INFLUENCE_LABELS),
        Entry(
            "aum",
            "mislabel.detectors.aum:score",
            ("AUM", "AUM"),
            estimates=True,
            needs_margins=True,
        ),
        Entry(
            CONFIDENT_LEARNING,
            "mislabel.detectors.confident_learning:score",
            ("Confident learning (cleanlab)", "Confident learning (cleanlab)"),
            estimates=True,
        ),
    )
}

# Unlearners: the paper's four, the closed-form updates over the full network, NegGrad+
# and relabelling.
UNLEARNERS: dict[str, Entry] = {
    e.name: e
    for e in (
        _closed_form("influence", "Influence function", "last_layer"),
        _closed_form("ssse", "SSSE", "last_layer"),
        Entry("finetune", "mislabel.unlearners.training:run", ("Fine-tuned",) * 2, paper=True),
        Entry("retrain", "mislabel.unlearners.training:run", ("Retrained",) * 2, paper=True),
        _closed_form("influence", "Influence", "full"),
        _closed_form("ssse", "SSSE", "full"),
        Entry("neggrad_plus", "mislabel.unlearners.neggrad_plus:run", ("NegGrad+",) * 2),
        Entry("relabel", "mislabel.unlearners.relabel:run", ("Relabel + fine-tune",) * 2),
    )
}

TARGETS = ("mislabeled", "detected", "detected_estimated")

# Views of the built-in entries, for the paper's tables and the checks.
PAPER_DETECTORS = tuple(n for n, e in DETECTORS.items() if e.paper)
INFLUENCE_DETECTORS = tuple(n for n, e in DETECTORS.items() if e.paper and e.runner == _INFLUENCE)
ESTIMATING_DETECTORS = tuple(n for n, e in DETECTORS.items() if e.estimates)
PAPER_UNLEARNERS = tuple(n for n, e in UNLEARNERS.items() if e.paper)
# What can run on a classifier's exported last layer (`mislabel repair-head`): no training
# margins, and no _full steps (on a head the closed-form steps already move W and b).
HEAD_DETECTORS = tuple(n for n, e in DETECTORS.items() if not e.needs_margins)
HEAD_UNLEARNERS = tuple(n for n, e in UNLEARNERS.items() if e.scope != "full")
CLOSED_FORM_UNLEARNERS = tuple(
    n for n, e in UNLEARNERS.items() if e.paper and e.runner == _CLOSED_FORM
)

# What the check on real label errors (`mislabel.stages.real_errors`) scores on every sample:
# every detector but the `_full` twins (their Lanczos eigenpairs of the whole network's
# Hessian are by far the costliest part of scoring), then the scores of
# `mislabel.find.find_issues` on cross-validated probabilities, named by `real_errors_detectors`.
REAL_ERRORS_DETECTORS = tuple(n for n, e in DETECTORS.items() if e.scope != "full")
FIND_ISSUES_PREFIX = "find_issues:"


def real_errors_detectors(find_issues_names: Iterable[str]) -> tuple[str, ...]:
    """Every score name of the real-errors check: `REAL_ERRORS_DETECTORS`, then
    ``find_issues:<name>`` for each of `find_issues_names`
    (`mislabel.detectors.probabilities.PROB_DETECTORS`, which this module may not import)."""
    return REAL_ERRORS_DETECTORS + tuple(FIND_ISSUES_PREFIX + n for n in find_issues_names)


def register_detector(entry: Entry) -> None:
    """Add a detector (e.g. from a plug-in module) under a new name."""
    _register(DETECTORS, entry, "detector")


def register_unlearner(entry: Entry) -> None:
    """Add an unlearner under a new name."""
    _register(UNLEARNERS, entry, "unlearner")


def _register(registry: dict[str, Entry], entry: Entry, what: str) -> None:
    if entry.name in registry:
        raise ValueError(f"a {what} named {entry.name!r} is already registered")
    if not entry.name.replace("_", "").isalnum() or ":" not in entry.runner:
        raise ValueError(
            f"{what} {entry.name!r}: the name must be letters, digits and '_', and runner "
            f"'module:function', got {entry.runner!r}"
        )
    registry[entry.name] = entry
