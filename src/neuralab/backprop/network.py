"""The chain network y = act_k(w_k ... act_0(w_0 x + b_0) ... + b_k), its losses, and gradient descent.

Every layer has one neuron. Node names follow the hand derivation: `z<i>` = w_i a_{i-1} (+ b_i),
`a<i>` = act_i(z<i>), `yhat` the prediction, `e` = yhat - y, `L` the loss; with biases on,
`m<i>` = w_i a_{i-1} and `z<i>` = m<i> + b_i. Parameters are `w0, w1, ...` and `b0, b1, ...`
from the input side. Numbers given as Fractions stay exact wherever the operations allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from neuralab.backprop.engine import Number, Value
from neuralab.core.errors import UserError

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "linear": lambda v: v,  # no node: a<i> is z<i>
}


def _named(v: Value, label: str) -> Value:
    v.label = label
    return v


def _half_squared(yhat: Value, y: Value) -> Value:
    e = _named(yhat - y, "e")
    return _named(e ** 2, "q") * Fraction(1, 2)  # 1/2 (yhat - y)^2: the 1/2 cancels the 2 of the square


def _squared(yhat: Value, y: Value) -> Value:
    return _named(yhat - y, "e") ** 2


def _absolute(yhat: Value, y: Value) -> Value:
    return abs(_named(yhat - y, "e"))


LOSSES: dict[str, Callable[[Value, Value], Value]] = {
    "half-squared": _half_squared,
    "squared": _squared,
    "absolute": _absolute,
}
LOSS_TEX = {"half-squared": r"\tfrac{1}{2}(\hat{y} - y)^2", "squared": r"(\hat{y} - y)^2",
            "absolute": r"|\hat{y} - y|"}
REDUCTIONS = ("sgd", "sum", "mean")
MAX_LAYERS = 20          # a chain longer than this is no longer a derivation to read by hand
MAX_POINTS = 20          # data points, one compute graph each
MAX_MAGNITUDE = 1e6      # inputs, so that products over 20 layers stay far inside a float


@dataclass
class BackpropConfig:
    """One gradient-descent exercise. Defaults: the 2017 assignment's question 1.1."""

    activations: list[str] = field(default_factory=lambda: ["relu", "relu"])  # two one-neuron ReLU layers
    weights: list[Fraction] = field(default_factory=lambda: [Fraction(1), Fraction(2)])  # w0 = 1, w1 = 2
    bias: bool = False  # the assignment's network has no biases; when on they start at 0
    data: list[tuple[Fraction, Fraction]] = field(
        default_factory=lambda: [(Fraction(1), Fraction(2)), (Fraction(2), Fraction(3))])  # (x, y) points
    lr: Fraction = Fraction(1, 10)  # the assignment's learning rate
    loss: str = "half-squared"  # a regression target; what the 2017 solution actually used
    reduction: str = "sgd"  # one update per point in order; equals `sum` here (first gradient is 0)

    def __post_init__(self):
        """A config that exists is valid: anything that cannot make a run raises UserError naming its flag."""
        if not self.activations:
            raise UserError("--activations: give at least one layer")
        for act in self.activations:
            if act not in ACTIVATIONS:
                raise UserError(f"--activations: unknown activation {act!r} (choose from {', '.join(ACTIVATIONS)})")
        if len(self.weights) != len(self.activations):
            raise UserError(f"--weights: {len(self.weights)} value(s) for {len(self.activations)} layer(s) "
                            f"(--activations {','.join(self.activations)})")
        if self.loss not in LOSSES:
            raise UserError(f"--loss: unknown loss {self.loss!r} (choose from {', '.join(LOSSES)})")
        if self.reduction not in REDUCTIONS:
            raise UserError(f"--reduction: unknown reduction {self.reduction!r} (choose from {', '.join(REDUCTIONS)})")
        if not self.data:
            raise UserError("--data: give at least one data point x,y")
        if len(self.activations) > MAX_LAYERS:
            raise UserError(f"--activations: {len(self.activations)} layers, at most {MAX_LAYERS} (a derivation a reader can follow)")
        if len(self.data) > MAX_POINTS:
            raise UserError(f"--data: {len(self.data)} points, at most {MAX_POINTS}")
        for flag, values in (("--weights", self.weights), ("--data", [v for p in self.data for v in p]), ("--lr", [self.lr])):
            if any(abs(v) > MAX_MAGNITUDE for v in values):
                raise UserError(f"{flag}: every number must be within ±{MAX_MAGNITUDE:g}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise UserError(f"--lr: the learning rate must be a finite number > 0, got {self.lr}")

    def initial_params(self) -> dict[str, Number]:
        params = {f"w{i}": w for i, w in enumerate(self.weights)}
        if self.bias:
            params.update({f"b{i}": Fraction(0) for i in range(len(self.weights))})
        return params

    def to_json(self) -> dict:
        """The resolved config with exact numbers written as text ("0.1", "1/3")."""
        return {"activations": list(self.activations), "weights": [str(w) for w in self.weights],
                "bias": self.bias, "data": [[str(x), str(y)] for x, y in self.data], "lr": str(self.lr),
                "loss": self.loss, "reduction": self.reduction}


def parse_number(text: str, where: str) -> Fraction:
    """A decimal or fraction as an exact Fraction ("0.1" -> 1/10); UserError if malformed or not finite."""
    text = text.strip()
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        try:
            float(text)  # parses "nan" and "inf", which Fraction refuses
        except ValueError:
            raise UserError(f"{where}: {text!r} is not a number") from None
        raise UserError(f"{where}: {text!r} is not a finite number") from None
    try:
        float(value)
    except OverflowError:
        raise UserError(f"{where}: {text!r} is too large (beyond a float)") from None
    return value


def parse_list(text: str, where: str) -> list[Fraction]:
    """A comma-separated list of numbers, e.g. "1,2"."""
    if not text.strip():
        raise UserError(f"{where}: empty list")
    return [parse_number(part, where) for part in text.split(",")]


@dataclass
class Graph:
    """One forward pass: the loss node and the leaves it was built from."""

    loss: Value
    prediction: Value
    params: dict[str, Value]  # leaf nodes by name, "w0", ..., "b0", ...


def build_graph(activations: list[str], params: dict[str, Number], x: Number, y: Number, loss: str) -> Graph:
    """The compute graph of one data point, in the node names of the hand derivation."""
    h = Value(x, label="x")
    leaves = {name: Value(v, label=name) for name, v in params.items()}
    for i, act in enumerate(activations):
        if f"b{i}" in leaves:
            z = _named(_named(leaves[f"w{i}"] * h, f"m{i}") + leaves[f"b{i}"], f"z{i}")
        else:
            z = _named(leaves[f"w{i}"] * h, f"z{i}")
        h = ACTIVATIONS[act](z)
        if h is not z:
            _named(h, f"a{i}")
    _named(h, "yhat")
    target = Value(y, label="y")
    return Graph(_named(LOSSES[loss](h, target), "L"), h, leaves)


@dataclass
class PointPass:
    """Forward and backward of one data point."""

    x: Number
    y: Number
    graph: Graph
    visit: list[Value]            # the nodes in the order backward() visited them
    grad: dict[str, Number]       # dL/dparam for this point


@dataclass
class Step:
    """One parameter update, from one point (sgd) or all of them (sum, mean)."""

    passes: list[PointPass]
    before: dict[str, Number]
    grad: dict[str, Number]       # the gradient the update used
    after: dict[str, Number]


def forward_backward(config: BackpropConfig, params: dict[str, Number], x: Number, y: Number) -> PointPass:
    graph = build_graph(config.activations, params, x, y, config.loss)
    visit = graph.loss.backward()
    return PointPass(x, y, graph, visit, {name: leaf.grad for name, leaf in graph.params.items()})


def descend(config: BackpropConfig) -> list[Step]:
    """Gradient descent as the reduction says: one step per point (sgd), or one step for all."""
    params = config.initial_params()
    groups = [[p] for p in config.data] if config.reduction == "sgd" else [list(config.data)]
    steps = []
    try:
        for group in groups:
            passes = [forward_backward(config, params, x, y) for x, y in group]
            scale = Fraction(1, len(group)) if config.reduction == "mean" else 1
            grad = {name: scale * sum(p.grad[name] for p in passes) for name in params}
            after = {name: params[name] - config.lr * grad[name] for name in params}
            steps.append(Step(passes, dict(params), grad, after))
            params = after
    except (OverflowError, ZeroDivisionError, ValueError) as e:
        raise UserError(f"the numbers overflow or leave the domain ({e}); use smaller weights or data") from None
    return steps
