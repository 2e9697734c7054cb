"""Curvature of the loss: the last layer's exact Hessian (`last_layer`), the full
network's Hessian-vector products and eigenpairs (`full`), and the one inverse interface
of both scopes (`inverse`).
"""
