"""mislabel: find mislabeled training samples in a trained model and unlearn them."""

__version__ = "0.2.0"
