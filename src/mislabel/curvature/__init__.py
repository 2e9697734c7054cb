"""Curvature of the loss: the last layer's exact Hessian (`last_layer`), the full
network's Hessian-vector products and eigenpairs (`full`), and the one inverse interface
of both scopes (`inverse`); a bare softmax head's curvature from its structure
(`softmax_head`: gradients, Hessian-vector products, the dense Hessian in chunks) and its
influence scores at any size (`head`: exact or EK-FAC, within a memory budget).
"""
