"""A scalar autograd engine, about micrograd's size, that also explains itself.

A `Value` holds one number and the operation that made it. Its data may be a float, an exact
`Fraction`, or a sympy expression: the same graph then gives float gradients, exact ones, or
symbolic ones. Rational operations (+ - * /, integer powers, relu, abs) keep Fractions exact; exp,
log, sigmoid and tanh turn them into floats.

Each operation stores `_local`, a function giving the local derivative d(out)/d(child) for each
child from (out, *children). `backward()` applies these in reverse topological order, and the
derivation writer calls the very same functions on node *names*, so the printed chain rule cannot
drift from the code that computes the numbers.

Conventions at kinks, as torch: relu'(0) = 0 and |.|'(0) = sign(0) = 0.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any, Callable

Number = Any  # int | float | Fraction | sympy.Expr
_ids = itertools.count()


def _is_num(a: Number) -> bool:
    return isinstance(a, (int, float, Fraction))


def _sympy():
    import sympy  # imported only when a graph is evaluated symbolically

    return sympy


def relu_fn(a: Number) -> Number:
    if _is_num(a):
        return a if a > 0 else a * 0  # a * 0 keeps the number type (Fraction stays Fraction)
    return _sympy().Max(0, a)


def step_fn(a: Number) -> Number:
    """1[a > 0]: the derivative of relu, with the subgradient 0 at a == 0 (as torch)."""
    if _is_num(a):
        return 1 if a > 0 else 0
    return _sympy().Heaviside(a, 0)


def sign_fn(a: Number) -> Number:
    """The derivative of |a|, with sign(0) = 0 (as torch)."""
    if _is_num(a):
        return (a > 0) - (a < 0)
    return _sympy().sign(a)


def exp_fn(a: Number) -> Number:
    return math.exp(a) if _is_num(a) else _sympy().exp(a)


def log_fn(a: Number) -> Number:
    return math.log(a) if _is_num(a) else _sympy().log(a)


def tanh_fn(a: Number) -> Number:
    return math.tanh(a) if _is_num(a) else _sympy().tanh(a)


def sigmoid_fn(a: Number) -> Number:
    if not _is_num(a):
        return 1 / (1 + _sympy().exp(-a))
    a = float(a)
    if a >= 0:  # the two forms avoid overflow in exp for large |a|
        return 1 / (1 + math.exp(-a))
    e = math.exp(a)
    return e / (1 + e)


def _as_value(v: Value | Number) -> Value:
    return v if isinstance(v, Value) else Value(v)


class Value:
    """One scalar node of a compute graph: its data, its gradient and how it was made."""

    def __init__(self, data: Number, children: tuple[Value, ...] = (), op: str = "", label: str = ""):
        self.data = data
        self.grad: Number = 0
        self.children = children
        self.op = op            # "" for a leaf
        self.label = label      # a sympy-style name ("w_0", "yhat"); "" for an unnamed constant
        self.id = next(_ids)    # creation order; the picture uses it to lay out leaves
        self._local: Callable[..., tuple] = lambda out: ()

    def __repr__(self) -> str:
        return f"Value({self.label or self.op or 'const'}={self.data}, grad={self.grad})"

    # -- operations: each sets `_local(out, *children) -> (d out/d child, ...)` ----------------
    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")
        out._local = lambda o, a, b: (1, 1)  # d(a+b)/da = 1, d(a+b)/db = 1
        return out

    def __sub__(self, other: Value | Number) -> Value:
        # a primitive, not a + (-b): the loss graph stays one node per term of the hand derivation
        other = _as_value(other)
        out = Value(self.data - other.data, (self, other), "-")
        out._local = lambda o, a, b: (1, -1)  # d(a-b)/da = 1, d(a-b)/db = -1
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")
        out._local = lambda o, a, b: (b, a)  # d(ab)/da = b, d(ab)/db = a
        return out

    def __pow__(self, n: int | float | Fraction) -> Value:
        assert _is_num(n), "only constant exponents"
        out = Value(self.data ** n, (self,), f"**{n}")
        out._local = lambda o, a: (n * a ** (n - 1),)  # d(a^n)/da = n a^(n-1)
        return out

    def relu(self) -> Value:
        out = Value(relu_fn(self.data), (self,), "relu")
        out._local = lambda o, a: (step_fn(a),)  # d relu(a)/da = 1[a > 0], 0 at a == 0
        return out

    def sigmoid(self) -> Value:
        out = Value(sigmoid_fn(self.data), (self,), "sigmoid")
        out._local = lambda o, a: (o * (1 - o),)  # d sigma(a)/da = sigma(a)(1 - sigma(a))
        return out

    def tanh(self) -> Value:
        out = Value(tanh_fn(self.data), (self,), "tanh")
        out._local = lambda o, a: (1 - o ** 2,)  # d tanh(a)/da = 1 - tanh(a)^2
        return out

    def exp(self) -> Value:
        out = Value(exp_fn(self.data), (self,), "exp")
        out._local = lambda o, a: (o,)  # d e^a/da = e^a
        return out

    def log(self) -> Value:
        out = Value(log_fn(self.data), (self,), "log")
        out._local = lambda o, a: (1 / a,)  # d log(a)/da = 1/a
        return out

    def __abs__(self) -> Value:
        out = Value(abs(self.data), (self,), "abs")
        out._local = lambda o, a: (sign_fn(a),)  # d|a|/da = sign(a), 0 at a == 0
        return out

    @staticmethod
    def affine(weights: list[Value], inputs: list[Value], bias: Value | None = None) -> Value:
        """sum_k w_k a_k (+ b): one neuron's pre-activation as one node, children (w_0, a_0, w_1, a_1, ..., b)."""
        children = tuple(v for pair in zip(weights, inputs) for v in pair) + ((bias,) if bias is not None else ())
        data = sum((w.data * a.data for w, a in zip(weights, inputs)), bias.data if bias is not None else 0)
        out = Value(data, children, "affine")
        # d/dw_k = a_k, d/da_k = w_k, d/db = 1
        out._local = lambda o, *c: tuple(c[i + 1] if i % 2 == 0 else c[i - 1] for i in range(2 * len(weights))) \
            + ((1,) if bias is not None else ())
        return out

    @staticmethod
    def total(terms: list[Value]) -> Value:
        """sum_j t_j as one node: a vector output's loss adds one term per component."""
        out = Value(sum((t.data for t in terms[1:]), terms[0].data), tuple(terms), "sum")
        out._local = lambda o, *c: (1,) * len(c)  # d(sum)/d t_j = 1
        return out

    # -- derived operations reuse the ones above ----------------------------------------------
    def __neg__(self) -> Value:
        return self * -1

    def __truediv__(self, other: Value | Number) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other) - self

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other) * self ** -1

    # -- backward ------------------------------------------------------------------------------
    def local_derivatives(self, value_of: Callable[[Value], Number] = lambda v: v.data) -> tuple:
        """d(self)/d(child) for each child, evaluated on `value_of(node)` (data by default)."""
        return self._local(value_of(self), *(value_of(c) for c in self.children))

    def topological_order(self) -> list[Value]:
        """Every node this one depends on, each after all of its children (self last)."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children) if id(c) not in seen)
        return order

    def backward_order(self) -> list[Value]:
        """The order backward() visits the nodes: self first, each node before its children."""
        return list(reversed(self.topological_order()))

    def backward(self) -> list[Value]:
        """Fill `.grad` of every node with d(self)/d(node); returns the nodes in the order visited."""
        visit = self.backward_order()
        for node in visit:
            node.grad = 0
        self.grad = 1
        for node in visit:
            for child, d in zip(node.children, node.local_derivatives()):
                child.grad += d * node.grad  # chain rule: d self/d child += d node/d child * d self/d node
        return visit

