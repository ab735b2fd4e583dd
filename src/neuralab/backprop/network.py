"""Small fully connected networks, their losses, and gradient descent, in the hand derivation's names.

`layers` gives the widths from the input, e.g. [1, 2, 1]; layer l has the weight matrix W^(l)
(n_{l+1} x n_l), an optional bias vector and one activation. A chain (every width 1, the 2017
assignment's network) keeps the short names: `z<i>` = w_i a_{i-1} (+ b_i), `a<i>` = act_i(z<i>),
`yhat`, `e` = yhat - y, `L`; with biases `m<i>` = w_i a_{i-1} and `z<i>` = m<i> + b_i. A wider network
names by layer and neuron: `w<l>_<j>_<k>` (input k to neuron j), `b<l>_<j>`, `z<l>_<j>`, `a<l>_<j>`,
inputs `x<k>`, outputs `yhat<j>` with per-component losses `L<j>` summed into `L`. Numbers given as
Fractions stay exact wherever the operations allow.
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


def _half_squared(yhat: Value, y: Value, suffix: str = "") -> Value:
    e = _named(yhat - y, f"e{suffix}")
    return _named(e ** 2, f"q{suffix}") * Fraction(1, 2)  # 1/2 (yhat - y)^2: the 1/2 cancels the 2 of the square


def _squared(yhat: Value, y: Value, suffix: str = "") -> Value:
    return _named(yhat - y, f"e{suffix}") ** 2


def _absolute(yhat: Value, y: Value, suffix: str = "") -> Value:
    return abs(_named(yhat - y, f"e{suffix}"))


LOSSES: dict[str, Callable[..., Value]] = {
    "half-squared": _half_squared,
    "squared": _squared,
    "absolute": _absolute,
}
LOSS_TEX = {"half-squared": r"\tfrac{1}{2}(\hat{y} - y)^2", "squared": r"(\hat{y} - y)^2",
            "absolute": r"|\hat{y} - y|"}
REDUCTIONS = ("sgd", "sum", "mean")
MAX_LAYERS = 20          # a chain longer than this is no longer a derivation to read by hand
MAX_WIDTH = 6            # neurons in one layer: a hand derivation names each weight by one-digit indices
MAX_WEIGHTS = 60         # every weight gets its own chain rule in the derivation
MAX_POINTS = 20          # data points, one compute graph each
MAX_MAGNITUDE = 1e6      # inputs, so that products over 20 layers stay far inside a float


@dataclass
class BackpropConfig:
    """One gradient-descent exercise. Defaults: the 2017 assignment's question 1.1."""

    activations: list[str] = field(default_factory=lambda: ["relu", "relu"])  # two one-neuron ReLU layers
    weights: list[Fraction] = field(default_factory=lambda: [Fraction(1), Fraction(2)])  # w0 = 1, w1 = 2; layer by layer, row by row
    bias: bool = False  # the assignment's network has no biases; when on they start at 0 unless `biases` says
    data: list[tuple[Fraction, ...]] = field(
        default_factory=lambda: [(Fraction(1), Fraction(2)), (Fraction(2), Fraction(3))])  # each point: inputs, then targets
    lr: Fraction = Fraction(1, 10)  # the assignment's learning rate
    loss: str = "half-squared"  # a regression target; what the 2017 solution actually used
    reduction: str = "sgd"  # one update per point in order; equals `sum` here (first gradient is 0)
    layers: list[int] | None = None  # widths from the input, e.g. [1, 2, 1]; None: a chain, one neuron per layer
    biases: list[Fraction] | None = None  # starting biases, layer by layer; None: all 0 (when `bias` is on)

    def __post_init__(self):
        """A config that exists is valid: anything that cannot make a run raises UserError naming its flag."""
        if not self.activations:
            raise UserError("--activations: give at least one layer")
        for act in self.activations:
            if act not in ACTIVATIONS:
                raise UserError(f"--activations: unknown activation {act!r} (choose from {', '.join(ACTIVATIONS)})")
        if len(self.activations) > MAX_LAYERS:
            raise UserError(f"--activations: {len(self.activations)} layers, at most {MAX_LAYERS} (a derivation a reader can follow)")
        self.layers = [1] * (len(self.activations) + 1) if self.layers is None else list(self.layers)
        self._check_shape()
        if self.loss not in LOSSES:
            raise UserError(f"--loss: unknown loss {self.loss!r} (choose from {', '.join(LOSSES)})")
        if self.reduction not in REDUCTIONS:
            raise UserError(f"--reduction: unknown reduction {self.reduction!r} (choose from {', '.join(REDUCTIONS)})")
        for flag, values in (("--weights", self.weights), ("--biases", self.biases or []),
                             ("--data", [v for p in self.data for v in p]), ("--lr", [self.lr])):
            if any(abs(v) > MAX_MAGNITUDE for v in values):
                raise UserError(f"{flag}: every number must be within ±{MAX_MAGNITUDE:g}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise UserError(f"--lr: the learning rate must be a finite number > 0, got {self.lr}")

    def _check_shape(self):
        layers = ",".join(map(str, self.layers))
        if len(self.layers) != len(self.activations) + 1:
            raise UserError(f"--layers {layers}: {len(self.layers) - 1} layer(s) of weights for "
                            f"{len(self.activations)} activation(s) (--activations {','.join(self.activations)})")
        if any(not 1 <= n <= MAX_WIDTH for n in self.layers):
            raise UserError(f"--layers {layers}: every width must be 1..{MAX_WIDTH}")
        shapes = [(n_out, n_in) for n_in, n_out in zip(self.layers, self.layers[1:])]
        wanted = sum(r * c for r, c in shapes)
        if wanted > MAX_WEIGHTS:
            raise UserError(f"--layers {layers}: {wanted} weights, at most {MAX_WEIGHTS} (one chain rule each)")
        if len(self.weights) != wanted and self.is_chain():
            raise UserError(f"--weights: {len(self.weights)} value(s) for {len(self.activations)} layer(s) "
                            f"(--activations {','.join(self.activations)})")
        if len(self.weights) != wanted:
            what = "layer by layer, row by row: " + ", ".join(f"W{l} {r}x{c}" for l, (r, c) in enumerate(shapes))
            raise UserError(f"--weights: {len(self.weights)} value(s), --layers {layers} needs {wanted} ({what})")
        if self.biases is not None:
            self.bias = True
            if len(self.biases) != sum(self.layers[1:]):
                raise UserError(f"--biases: {len(self.biases)} value(s), --layers {layers} needs "
                                f"{sum(self.layers[1:])} (one per neuron, layer by layer)")
        if not self.data:
            raise UserError("--data: give at least one data point")
        if len(self.data) > MAX_POINTS:
            raise UserError(f"--data: {len(self.data)} points, at most {MAX_POINTS}")
        n_in, n_out = self.layers[0], self.layers[-1]
        for point in self.data:
            if len(point) != n_in + n_out:
                raise UserError(f"--data {','.join(map(str, point))}: a data point here is {n_in + n_out} numbers "
                                f"({n_in} input(s), then {n_out} target(s))")

    def is_chain(self) -> bool:
        return all(n == 1 for n in self.layers)

    def weight_name(self, layer: int, row: int, col: int) -> str:
        return f"w{layer}" if self.is_chain() else f"w{layer}_{row}_{col}"

    def bias_name(self, layer: int, row: int) -> str:
        return f"b{layer}" if self.is_chain() else f"b{layer}_{row}"

    def node_name(self, kind: str, layer: int, row: int) -> str:
        return f"{kind}{layer}" if self.is_chain() else f"{kind}{layer}_{row}"

    def vector_name(self, kind: str, index: int, width: int) -> str:
        """An input, target or output component: `x` alone, `x0`, `x1` ... when there are several."""
        return kind if width == 1 else f"{kind}{index}"

    def initial_params(self) -> dict[str, Number]:
        """Every weight (layer by layer, row by row), then every bias."""
        names = [self.weight_name(l, j, k) for l, (n_in, n_out) in enumerate(zip(self.layers, self.layers[1:]))
                 for j in range(n_out) for k in range(n_in)]
        params = dict(zip(names, self.weights))
        if self.bias:
            names = [self.bias_name(l, j) for l, n_out in enumerate(self.layers[1:]) for j in range(n_out)]
            params.update(zip(names, self.biases or [Fraction(0)] * len(names)))
        return params

    def split(self, point: tuple) -> tuple[tuple, tuple]:
        """A data point's inputs and targets."""
        return tuple(point[:self.layers[0]]), tuple(point[self.layers[0]:])

    def to_json(self) -> dict:
        """The resolved config with exact numbers written as text ("0.1", "1/3")."""
        return {"activations": list(self.activations), "layers": list(self.layers),
                "weights": [str(w) for w in self.weights], "bias": self.bias,
                "biases": None if self.biases is None else [str(b) for b in self.biases],
                "data": [[str(v) for v in p] for p in self.data], "lr": str(self.lr),
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
    """One forward pass: the loss node, the leaves it was built from, and each layer's nodes."""

    loss: Value
    prediction: list[Value]       # the output components
    params: dict[str, Value]      # leaf nodes by name, "w0", ..., "b0", ...
    inputs: list[Value]
    pre: list[list[Value]]        # z of every neuron, layer by layer (delta^(l) is their grad)
    post: list[list[Value]]       # a of every neuron, layer by layer (the last is the prediction)


def _layer(config: BackpropConfig, leaves: dict[str, Value], l: int, h: list[Value]) -> tuple[list, list]:
    """Layer l's pre-activations and activations from the previous layer's outputs h."""
    pre, post = [], []
    for j in range(config.layers[l + 1]):
        w = [leaves[config.weight_name(l, j, k)] for k in range(len(h))]
        b = leaves.get(config.bias_name(l, j))
        if len(h) > 1:  # several inputs: one node sums them, so the graph stays one node per neuron
            z = Value.affine(w, h, b)
        elif b is not None:
            z = _named(w[0] * h[0], config.node_name("m", l, j)) + b
        else:
            z = w[0] * h[0]
        z = _named(z, config.node_name("z", l, j))
        a = ACTIVATIONS[config.activations[l]](z)
        if a is not z:
            _named(a, config.node_name("a", l, j))
        pre.append(z)
        post.append(a)
    return pre, post


def build_graph(config: BackpropConfig, params: dict[str, Number], x: tuple, y: tuple) -> Graph:
    """The compute graph of one data point, in the node names of the hand derivation."""
    inputs = [Value(v, label=config.vector_name("x", k, len(x))) for k, v in enumerate(x)]
    leaves = {name: Value(v, label=name) for name, v in params.items()}
    h, pre, post = inputs, [], []
    for l in range(len(config.activations)):
        z, h = _layer(config, leaves, l, h)
        pre.append(z)
        post.append(h)
    n_out = len(h)
    terms = []
    for j, out in enumerate(h):
        _named(out, config.vector_name("yhat", j, n_out))
        target = Value(y[j], label=config.vector_name("y", j, n_out))
        suffix = "" if n_out == 1 else str(j)
        terms.append(_named(LOSSES[config.loss](out, target, suffix), f"L{suffix}"))
    loss = terms[0] if n_out == 1 else _named(Value.total(terms), "L")
    return Graph(loss, h, leaves, inputs, pre, post)


@dataclass
class PointPass:
    """Forward and backward of one data point."""

    x: tuple                      # inputs
    y: tuple                      # targets
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


def forward_backward(config: BackpropConfig, params: dict[str, Number], point: tuple) -> PointPass:
    x, y = config.split(point)
    graph = build_graph(config, params, x, y)
    visit = graph.loss.backward()
    return PointPass(x, y, graph, visit, {name: leaf.grad for name, leaf in graph.params.items()})


def descend(config: BackpropConfig) -> list[Step]:
    """Gradient descent as the reduction says: one step per point (sgd), or one step for all."""
    params = config.initial_params()
    groups = [[p] for p in config.data] if config.reduction == "sgd" else [list(config.data)]
    steps = []
    try:
        for group in groups:
            passes = [forward_backward(config, params, point) for point in group]
            scale = Fraction(1, len(group)) if config.reduction == "mean" else 1
            grad = {name: scale * sum(p.grad[name] for p in passes) for name in params}
            after = {name: params[name] - config.lr * grad[name] for name in params}
            steps.append(Step(passes, dict(params), grad, after))
            params = after
    except (OverflowError, ZeroDivisionError, ValueError) as e:
        raise UserError(f"the numbers overflow or leave the domain ({e}); use smaller weights or data") from None
    return steps
