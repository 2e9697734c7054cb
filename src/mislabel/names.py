"""Every detector, unlearning method and forget-set target by name (no heavy imports).

The workflow, the CLI, the library and the report all take their names from here, so a
new method is one more entry, not a new special case.

A ``_full`` suffix on an influence detector or a closed-form unlearner means the same
method with the Hessian over every network parameter (matrix-free) instead of the last
layer's exact Hessian (the paper).
"""

from __future__ import annotations

FULL_SUFFIX = "_full"
SCOPES = ("last_layer", "full")

# Detectors: the paper's four, the influence ones over the full network, then AUM and
# confident learning (both also estimate how many samples are mislabeled).
PAPER_DETECTORS = ("loss", "if_self", "if_train", "if_train_minus_z")
INFLUENCE_DETECTORS = ("if_self", "if_train", "if_train_minus_z")
ESTIMATING_DETECTORS = ("aum", "cleanlab")
DETECTORS = (
    *PAPER_DETECTORS,
    *(d + FULL_SUFFIX for d in INFLUENCE_DETECTORS),
    *ESTIMATING_DETECTORS,
)

# Unlearners: the paper's four, the closed-form updates over the full network, NegGrad+
# and relabelling.
PAPER_METHODS = ("influence", "ssse", "finetune", "retrain")
CLOSED_FORM_METHODS = ("influence", "ssse")
METHODS = (
    *PAPER_METHODS,
    *(m + FULL_SUFFIX for m in CLOSED_FORM_METHODS),
    "neggrad_plus",
    "relabel",
)

TARGETS = ("mislabeled", "detected", "detected_estimated")


def split_scope(name: str) -> tuple[str, str]:
    """``"if_self_full" -> ("if_self", "full")``; ``"ssse" -> ("ssse", "last_layer")``."""
    if name.endswith(FULL_SUFFIX):
        return name[: -len(FULL_SUFFIX)], "full"
    return name, "last_layer"


def check_name(name: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise a ValueError naming the allowed values if `name` is not one of them."""
    if name not in allowed:
        raise ValueError(f"unknown {what} {name!r}; allowed: {', '.join(allowed)}")
