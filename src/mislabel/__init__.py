"""mislabel: find mislabeled training samples in a trained model and unlearn them.

`mislabel.find_issues` finds label issues from predicted probabilities you already have
(`mislabel.find`); it is imported on first use, so ``import mislabel`` stays light.
"""

import importlib

__version__ = "0.3.0"
__all__ = ["__version__", "find_issues"]


def __getattr__(name: str):
    # Loaded by name: modules that import `mislabel` for its version (every layer does)
    # must not depend on `mislabel.find`, which sits above most of them.
    if name == "find_issues":
        return importlib.import_module("mislabel.find").find_issues
    raise AttributeError(f"module 'mislabel' has no attribute {name!r}")
