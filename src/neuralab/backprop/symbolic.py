"""The chain rule, symbolically: local derivatives and per-parameter products, from the engine's graph.

The network's graph is built once more with sympy symbols as data. Each local derivative is the
engine's own `_local` function evaluated on node *names* (`z1`, `a0`, ...), and the graph is walked
in the order `backward()` visits it, so what is printed is what the engine computes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from sympy.printing.latex import LatexPrinter

from neuralab.backprop.engine import Number, Value
from neuralab.backprop.network import BackpropConfig, build_graph


_LAYERED = re.compile(r"^([a-zA-Z]+)(\d+)_(\d+)(?:_(\d+))?$")   # w0_1_0, z1_0: layer, neuron (, input)


class _Tex(LatexPrinter):
    """sympy's LaTeX, with 1[z > 0] for relu's derivative, relu(z) for max(0, z), and a layer's
    names as w^{(l)}_{jk}, z^{(l)}_{j}."""

    def _print_Symbol(self, expr, style="plain"):
        match = _LAYERED.match(expr.name)
        if match is None:
            return super()._print_Symbol(expr, style)
        base, layer, row, col = match.groups()
        return f"{base}^{{({layer})}}_{{{row}{col or ''}}}"

    def _print_Heaviside(self, expr, exp=None):
        tex = rf"\mathbb{{1}}[{self._print(expr.args[0])} > 0]"
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _print_Max(self, expr, exp=None):
        if len(expr.args) == 2 and sp.S.Zero in expr.args:
            other = expr.args[1] if expr.args[0] == 0 else expr.args[0]
            tex = rf"\operatorname{{relu}}\left({self._print(other)}\right)"
            return tex if exp is None else rf"{tex}^{{{exp}}}"
        return super()._print_Max(expr, exp)


def tex(expr) -> str:
    return _Tex().doprint(sp.sympify(expr))


def name_tex(label: str) -> str:
    """The LaTeX of a node name: "w0" -> "w_{0}", "yhat" -> "\\hat{y}"."""
    return tex(sp.Symbol(label))


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_INDEXED = re.compile(r"^([a-zA-Z]+?)(\d*)$")


def name_text(label: str) -> str:
    """A node name as plain Unicode, for pictures: "w0_1_0" -> "w⁽⁰⁾₁₀", "yhat" -> "ŷ", "x1" -> "x₁"."""
    if match := _LAYERED.match(label):
        base, layer, row, col = match.groups()
        index = f"({layer})".translate(_SUP) + (row + (col or "")).translate(_SUB)
    elif match := _INDEXED.match(label):
        base, index = match.group(1), match.group(2).translate(_SUB)
    else:
        return label
    return ("ŷ" if base == "yhat" else base) + index


def symbol_of(node: Value):
    """A node as a symbol of its name; an unnamed constant as its exact value."""
    if node.label:
        return sp.Symbol(node.label)
    if isinstance(node.data, Fraction):
        return sp.Rational(node.data.numerator, node.data.denominator)
    return sp.sympify(node.data)


def partial_tex(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {name_tex(top)}}}{{\partial {name_tex(bottom)}}}"


@dataclass
class Edge:
    """d parent / d child, the local derivative backward() multiplies in."""

    parent: str
    child: str
    local: sp.Expr  # in node names


@dataclass
class ChainRule:
    """dL/dparam as a sum over the graph's paths of products of local derivatives."""

    param: str
    paths: list[list[Edge]]  # one per route from the loss back to the parameter
    simplified: sp.Expr

    def factors_tex(self) -> str:
        return " + ".join(r" \cdot ".join(partial_tex(e.parent, e.child) for e in p) for p in self.paths)

    def locals_tex(self) -> str:
        return " + ".join(r" \cdot ".join(_factor_tex(e.local) for e in p) for p in self.paths)


def _factor_tex(expr) -> str:
    text = tex(expr)
    return rf"\left({text}\right)" if isinstance(expr, sp.Add) or text.startswith("-") else text


@dataclass
class Analysis:
    definitions: list[tuple[str, str]]  # (node name, its definition in LaTeX), forward order
    edges: list[Edge]                   # every local derivative, in backward() order
    rules: dict[str, ChainRule]         # by parameter name


_OP_TEX = {"+": "{} + {}", "-": "{} - {}", "*": "{} {}", "relu": r"\operatorname{{relu}}({})",
           "sigmoid": r"\sigma({})", "tanh": r"\tanh({})", "exp": "e^{{{}}}", "log": r"\log({})",
           "abs": r"\left|{}\right|"}


def definition_tex(node: Value) -> str:
    args = [name_tex(c.label) if c.label else tex(symbol_of(c)) for c in node.children]
    if node.op == "affine":  # children w_0, a_0, w_1, a_1, ... (, b)
        products = [f"{w} {a}" for w, a in zip(args[0::2], args[1::2])]
        return " + ".join(products + args[2 * len(products):])
    if node.op == "sum":
        return " + ".join(args)
    if node.op.startswith("**"):
        return f"{args[0]}^{{{node.op[2:]}}}"
    if node.op == "*" and not node.children[1].label:  # a constant factor reads better in front
        args = args[::-1]
    return _OP_TEX[node.op].format(*args)


def _simplify(expr: sp.Expr) -> sp.Expr:
    """sympy.simplify with 1[z > 0] and sign(e) held opaque: it would turn them into Piecewise."""
    opaque = {f: sp.Dummy() for f in expr.atoms(sp.Heaviside, sp.sign)}
    return sp.simplify(expr.xreplace(opaque)).xreplace({d: f for f, d in opaque.items()})


def analyse(config: BackpropConfig) -> Analysis:
    """Definitions, local derivatives and chain-rule products of the config's network (shared, read-only:
    the graph's shape does not depend on the numbers, so each shape is analysed once)."""
    return _analyse(tuple(config.layers), tuple(config.activations), config.bias, config.loss)


@functools.lru_cache(maxsize=64)
def _analyse(layers: tuple[int, ...], activations: tuple[str, ...], bias: bool, loss: str) -> Analysis:
    n_weights = sum(a * b for a, b in zip(layers, layers[1:]))
    config = BackpropConfig(activations=list(activations), layers=list(layers), weights=[0] * n_weights,
                            bias=bias, data=[(0,) * (layers[0] + layers[-1])], loss=loss)
    graph = build_graph(config, dict.fromkeys(config.initial_params(), 0.0), *config.split(config.data[0]))
    visit = graph.loss.backward_order()  # the order backward() multiplies the local derivatives in
    definitions = [(n.label, definition_tex(n)) for n in reversed(visit) if n.op]
    edges: list[Edge] = []
    paths: dict[int, list[list[Edge]]] = {id(graph.loss): [[]]}
    for node in visit:
        for child, local in zip(node.children, node.local_derivatives(symbol_of)):
            if not child.label:
                continue  # constants get no gradient worth printing
            edge = Edge(node.label, child.label, sp.sympify(local))
            edges.append(edge)
            paths.setdefault(id(child), []).extend(p + [edge] for p in paths.get(id(node), []))
    rules = {}
    for name, leaf in graph.params.items():
        total = sum((sp.Mul(*(edge.local for edge in p)) for p in paths[id(leaf)]), sp.S.Zero)
        rules[name] = ChainRule(name, paths[id(leaf)], _simplify(total))
    return Analysis(definitions, edges, rules)


def numeric_factors(rule: ChainRule, visit: list[Value]) -> list[list[Number]]:
    """The numbers of each local derivative on rule's paths, from one numeric forward pass."""
    by_name = {n.label: n for n in visit if n.label}
    out = []
    for path in rule.paths:
        row = []
        for edge in path:
            parent = by_name[edge.parent]
            locals_ = parent.local_derivatives()
            row.append(next(d for c, d in zip(parent.children, locals_) if c.label == edge.child))
        out.append(row)
    return out


def num_text(v: Number) -> str:
    """A number as plain text: exact Fractions as decimals when they terminate ("0.6"), else "p/q";
    floats to 6 significant digits."""
    if isinstance(v, (int, Fraction)):
        v = Fraction(v)
        q, twos, fives = v.denominator, 0, 0
        while q % 2 == 0:
            q, twos = q // 2, twos + 1
        while q % 5 == 0:
            q, fives = q // 5, fives + 1
        if q != 1:
            return f"{v.numerator}/{v.denominator}"
        digits = max(twos, fives)
        scaled = str(abs(v.numerator) * 10 ** digits // v.denominator).rjust(digits + 1, "0")
        text = scaled if digits == 0 else f"{scaled[:-digits]}.{scaled[-digits:]}"
        return "-" + text if v < 0 else text
    return f"{float(v) + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0


def num_tex(v: Number) -> str:
    """A number for LaTeX: as num_text, with \\frac for non-terminating fractions."""
    text = num_text(v)
    if "/" in text:
        p, q = text.lstrip("-").split("/")
        return ("-" if text.startswith("-") else "") + rf"\frac{{{p}}}{{{q}}}"
    if "e" in text:  # 1e-07 -> 1 \cdot 10^{-7}
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return text


def factor_num_tex(v: Number) -> str:
    """num_tex, in parentheses when negative, for use inside a product."""
    text = num_tex(v)
    return rf"\left({text}\right)" if text.startswith("-") else text
