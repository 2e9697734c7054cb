"""The network and how it is trained: the MLP (`mlp`), SGD training with per-epoch
records (`train`), and float64 contexts for exact curvature (`precision`).
"""
