"""Repair a trained model: flag its likely mislabeled training samples, forget them, and
keep the result only if it is shown not to be worse.

- `head_repair.repair_head`: any classifier, through its last linear layer (features,
  labels and ``W``, ``b`` exported from any framework); `head`: that layer's files and
  input checks; `newton`: its damped Newton steps (its curvature:
  `mislabel.curvature.softmax_head`).
- `model_repair.repair_model`: a model file of `mislabel train` with its dataset file.
- `procedure`: detect, set the budget and forget, shared by both; `crossfit`: the same
  procedure on K folds, for out-of-fold predictions when no holdout is given;
  `judge`: the paired non-inferiority rule that decides what is written.

Importing this package imports no JAX; ``mislabel.repair.repair_head`` and
``mislabel.repair.repair_model`` load their module on first use.
"""

from __future__ import annotations

_LAZY = {
    "repair_head": "mislabel.repair.head_repair",
    "HeadRepair": "mislabel.repair.head_repair",
    "repair_model": "mislabel.repair.model_repair",
    "RepairRefused": "mislabel.repair.procedure",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mislabel.repair' has no attribute {name!r}")
