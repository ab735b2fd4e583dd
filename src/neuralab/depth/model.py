"""The assignment's MLP in PyTorch, with Keras's defaults, and a table of named variants.

Each hidden layer is Dense(512) -> activation -> Dropout(0.2); the head is Dense(10) whose
softmax lives in the loss (cross-entropy on logits equals Keras's softmax + categorical
cross-entropy). Keras initialises Dense kernels glorot-uniform and biases to zero, and PyTorch
does not, so we set both explicitly. A variant changes one thing at a time; tests parametrize
over `VARIANTS`, so a new entry is tested automatically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from neuralab.core.errors import UserError

ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}


@dataclass(frozen=True)
class Variant:
    """One named change to the Keras model; `summary` says what it changes and why."""

    name: str
    summary: str
    init: str = "glorot"        # hidden-layer kernels: "glorot" (Keras default) or "he"
    batchnorm: bool = False     # BatchNorm1d between each hidden Dense and its activation
    residual: bool = False      # hidden layers 2..depth add their output to their input
    optimizer: str = "sgd"      # "sgd" (plain, no momentum) or "adam"
    lr: float = 0.01            # Keras's SGD default; Adam's default is 0.001
    schedule: str = "constant"  # "constant" (Keras's default) or "cosine": lr annealed to 0 by the last step


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("keras", "The assignment's model as published: glorot-uniform kernels, zero biases, "
            "plain SGD at lr 0.01. With ReLU it is the published fix."),
    Variant("he", "He-uniform kernels (limit sqrt(6/fan_in)) in the hidden layers: keeps the "
            "variance of ReLU activations constant from layer to layer, so signals and gradients "
            "neither shrink nor grow with depth.", init="he"),
    Variant("batchnorm", "BatchNorm before each activation: re-centres and re-scales every "
            "pre-activation per batch, which keeps sigmoids out of their flat tails and lets SGD "
            "take larger effective steps.", batchnorm=True),
    Variant("residual", "Identity shortcuts around hidden layers 2..depth: the gradient reaches "
            "early layers through the sum without passing through every activation's derivative.",
            residual=True),
    Variant("adam", "Adam (lr 0.001, Keras's defaults) instead of plain SGD: per-weight step sizes "
            "that do not shrink with the gradient, so layers with tiny gradients still move.",
            optimizer="adam", lr=0.001),
    Variant("adam-cosine", "Adam as above, its learning rate annealed to 0 along a cosine by the last "
            "step: large steps early, and small ones at the end that settle the weights instead of "
            "letting the last epochs' noise decide the final figure.", optimizer="adam", lr=0.001,
            schedule="cosine"),
)}


def get_variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise UserError(f"--variant: unknown variant {name!r} (choose from {', '.join(VARIANTS)})")
    return VARIANTS[name]


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise UserError(f"--activations: unknown activation {name!r} (choose from {', '.join(ACTIVATIONS)})")
    return name


def glorot_uniform_(weight: torch.Tensor) -> torch.Tensor:
    """Keras's default kernel init: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_out, fan_in = weight.shape  # torch Linear stores (out, in)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return weight.uniform_(-a, a)


def he_uniform_(weight: torch.Tensor) -> torch.Tensor:
    """Keras's he_uniform: U(-a, a) with a = sqrt(6 / fan_in)."""
    a = math.sqrt(6.0 / weight.shape[1])
    with torch.no_grad():
        return weight.uniform_(-a, a)


def dense(n_in: int, n_out: int, init: str = "glorot") -> nn.Linear:
    """A Linear layer initialised as Keras would: the chosen kernel init and zero bias."""
    layer = nn.Linear(n_in, n_out)
    (he_uniform_ if init == "he" else glorot_uniform_)(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Hidden(nn.Module):
    """Dense -> [BatchNorm] -> activation -> Dropout. Expects (B, n_in); returns (B, width)."""

    def __init__(self, n_in: int, width: int, activation: str, variant: Variant, dropout: float):
        super().__init__()
        self.dense = dense(n_in, width, variant.init)
        self.norm = nn.BatchNorm1d(width) if variant.batchnorm else nn.Identity()
        self.act = ACTIVATIONS[activation]()
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.drop(self.act(self.norm(self.dense(h))))


class DepthMLP(nn.Module):
    """Expects images (B, 1, 28, 28) or (B, 784) in [0, 1]; returns logits (B, 10)."""

    def __init__(self, depth: int, activation: str, variant: Variant, width: int = 512,
                 dropout: float = 0.2):
        super().__init__()
        self.residual = variant.residual
        self.hidden = nn.ModuleList(Hidden(784 if i == 0 else width, width, activation, variant, dropout)
                                    for i in range(depth))
        self.head = dense(width, 10)  # glorot in every variant, as Keras's output Dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)  # (B, 784)
        for i, layer in enumerate(self.hidden):
            out = layer(h)  # (B, width)
            h = h + out if self.residual and i > 0 else out  # the first layer changes width: no shortcut
        return self.head(h)  # (B, 10)

    def dense_layers(self) -> list[nn.Linear]:
        """Every Dense in order, head last: the layers whose gradient norms we record."""
        return [layer.dense for layer in self.hidden] + [self.head]

    def activations(self) -> list[nn.Module]:
        return [layer.act for layer in self.hidden]


def build_model(variant: str | Variant, activation: str, depth: int, width: int = 512,
                dropout: float = 0.2) -> DepthMLP:
    """The model for (variant, activation, depth); uses torch's global RNG for the init."""
    variant = get_variant(variant) if isinstance(variant, str) else variant
    if depth < 1:
        raise UserError(f"--depths: depth must be at least 1, got {depth}")
    return DepthMLP(depth, check_activation(activation), variant, width, dropout)


def make_optimizer(model: nn.Module, variant: str | Variant) -> torch.optim.Optimizer:
    variant = get_variant(variant) if isinstance(variant, str) else variant
    if variant.optimizer == "adam":
        # Keras's Adam epsilon is 1e-7 (torch's default is 1e-8)
        return torch.optim.Adam(model.parameters(), lr=variant.lr, eps=1e-7)
    return torch.optim.SGD(model.parameters(), lr=variant.lr)
