"""The same networks in torch at float64: the reference the engine, its exercises and their teaching
points are checked against (by the tests and by bench/exercises.py).

Nothing here shares code with the engine: the forward pass is written out in torch and torch's
autograd takes the derivatives.
"""

from __future__ import annotations

import torch

from neuralab.backprop.network import BackpropConfig

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "linear": lambda z: z}
LOSSES = {"half-squared": lambda e: 0.5 * e ** 2, "squared": lambda e: e ** 2, "absolute": lambda e: e.abs()}


def params_of(values: dict) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in values.items()}


def outputs(config: BackpropConfig, params: dict, x: tuple, kinks: list[float]) -> list[torch.Tensor]:
    """The network's outputs for inputs x; records every relu input (where the kinks are)."""
    h = [torch.tensor(float(v), dtype=torch.float64) for v in x]
    for l, act in enumerate(config.activations):
        layer = []
        for j in range(config.layers[l + 1]):
            z = sum(params[config.weight_name(l, j, k)] * h[k] for k in range(len(h)))
            if config.bias:
                z = z + params[config.bias_name(l, j)]
            if act == "relu":
                kinks.append(z.item())
            layer.append(ACTIVATIONS[act](z))
        h = layer
    return h


def point_loss(config: BackpropConfig, params: dict, point: tuple, kinks: list[float],
               only: int | None = None) -> torch.Tensor:
    """The loss of one data point, summed over outputs (or output `only`); records the kinks."""
    x, y = config.split(point)
    total = torch.zeros((), dtype=torch.float64)
    for j, (out, target) in enumerate(zip(outputs(config, params, x, kinks), y)):
        if only is None or j == only:
            e = out - float(target)
            if config.loss == "absolute":
                kinks.append(e.item())
            total = total + LOSSES[config.loss](e)
    return total


def descend(config: BackpropConfig) -> tuple[list[dict], dict, list[float]]:
    """Gradient descent with torch.autograd: (per-step gradients, final params, kinks)."""
    params = params_of(config.initial_params())
    groups = [[p] for p in config.data] if config.reduction == "sgd" else [list(config.data)]
    grads, kinks = [], []
    for group in groups:
        losses = torch.stack([point_loss(config, params, point, kinks) for point in group])
        total = losses.mean() if config.reduction == "mean" else losses.sum()
        g = torch.autograd.grad(total, list(params.values()), allow_unused=True)
        g = {k: 0.0 if gi is None else gi.item() for k, gi in zip(params, g)}
        grads.append(g)
        params = {k: (p - float(config.lr) * g[k]).detach().requires_grad_() for k, p in params.items()}
    return grads, {k: p.item() for k, p in params.items()}, kinks


def _two_outputs_carry_gradient(config: BackpropConfig, values: dict, point: tuple) -> bool:
    """Some weight gets a non-zero gradient from two outputs' losses: two paths that both count."""
    carrying: dict[str, int] = {}
    for keep in range(config.layers[-1]):
        params = params_of(values)
        grads = torch.autograd.grad(point_loss(config, params, point, [], only=keep), list(params.values()),
                                    allow_unused=True)
        for name, g in zip(params, grads):
            carrying[name] = carrying.get(name, 0) + int(g is not None and g.item() != 0)
    return max(carrying.values()) >= 2


def holds(point_name: str, config: BackpropConfig, steps) -> bool:
    """Whether a teaching point holds in torch at some data point, at the weights each step starts from."""
    for step in steps:
        for p in step.passes:
            point, relu_inputs = (*p.x, *p.y), []
            outputs(config, params_of(step.before), p.x, relu_inputs)
            if point_name == "inactive-relu" and any(z < 0 for z in relu_inputs):
                return True
            if point_name == "fitted-point" and point_loss(config, params_of(step.before), point, []).item() == 0:
                return True
            if point_name == "two-paths" and _two_outputs_carry_gradient(config, step.before, point):
                return True
    return False
