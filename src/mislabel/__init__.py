"""mislabel: find mislabeled training samples in a trained model and unlearn them."""

__version__ = "0.3.0"
