"""Backpropagation by hand, made mechanical: a scalar autograd engine (`engine.Value`), chain
networks with their losses and gradient descent (`network`), the symbolic chain rule (`symbolic`),
the Markdown derivation (`derive`), the compute-graph picture (`graph`) and the run writer (`answer`).
"""

from neuralab.backprop.engine import Value
from neuralab.backprop.network import BackpropConfig, descend

__all__ = ["BackpropConfig", "Value", "descend"]
