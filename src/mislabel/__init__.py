"""mislabel: find mislabeled training samples in a trained model and unlearn them.

`mislabel.find_issues` finds label issues from predicted probabilities you already have
(`mislabel.find`); it is imported on first use, so ``import mislabel`` stays light.
"""

__version__ = "0.3.0"
__all__ = ["__version__", "find_issues"]


def __getattr__(name: str):
    if name == "find_issues":
        from mislabel.find import find_issues

        return find_issues
    raise AttributeError(f"module 'mislabel' has no attribute {name!r}")
