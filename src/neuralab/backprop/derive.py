"""The derivation writer: the whole hand answer as Markdown with LaTeX math.

Sections follow the assignment's format: the loss chosen, the compute graph, the partial derivative
of the loss for every parameter (a product of local derivatives, then simplified), the update
expression and value for every data point, and the final parameters. Every number comes from the
engine's own forward and backward passes (`network.descend`), every formula from its local
derivatives (`symbolic.analyse`).
"""

from __future__ import annotations

from fractions import Fraction

from neuralab.backprop import matrix
from neuralab.backprop.matrix import column_tex, matrix_tex
from neuralab.backprop.network import LOSS_TEX, BackpropConfig, PointPass, Step
from neuralab.backprop.symbolic import (
    Analysis,
    factor_num_tex,
    name_tex,
    name_text,
    num_tex,
    num_text,
    numeric_factors,
    partial_tex,
    tex,
)

_ACT_TEX = {"relu": r"\operatorname{{relu}}\left({}\right)", "sigmoid": r"\sigma\left({}\right)",
            "tanh": r"\tanh\left({}\right)", "linear": "{}"}

LOSS_WHY = {
    "half-squared": "the target is a continuous number (regression), so a squared error; the factor "
                    "$\\tfrac{1}{2}$ cancels the 2 that differentiating the square brings down.",
    "squared": "the target is a continuous number (regression), so a squared error.",
    "absolute": "the target is a continuous number (regression); the absolute error weighs every "
                "miss linearly. Its derivative at $e = 0$ is $\\operatorname{sign}(0) = 0$, as in torch.",
}

REDUCTION_HOW = {
    "sgd": "**sgd**: one update per data point, in the order given; each point's forward pass uses "
           "the weights left by the previous update.",
    "sum": "**sum**: one update for all points: every point's forward pass uses the starting "
           "weights, and the update uses the sum of their gradients.",
    "mean": "**mean**: one update for all points: every point's forward pass uses the starting "
            "weights, and the update uses the mean of their gradients.",
}


def network_tex(config: BackpropConfig) -> str:
    h = "x"
    for i, act in enumerate(config.activations):
        z = f"w_{{{i}}} {h}" + (f" + b_{{{i}}}" if config.bias else "")
        h = _ACT_TEX[act].format(z)
    return rf"\hat{{y}} = {h}"


def layers_lines(config: BackpropConfig) -> list[str]:
    """A wider network, layer by layer, with its starting matrices."""
    params = config.initial_params()
    lines = [f"**Network.** layers {'-'.join(map(str, config.layers))}: {config.layers[0]} input(s), then "
             + ", ".join(f"{n} {act} neuron(s)" for n, act in zip(config.layers[1:], config.activations))
             + ("" if config.bias else ", no biases") + ". Layer $l$ computes:", "",
             "$$z^{(l)} = W^{(l)} a^{(l-1)}" + (" + b^{(l)}" if config.bias else "")
             + r", \quad a^{(l)} = f_l\left(z^{(l)}\right), \quad a^{(-1)} = x, \quad \hat{y} = a^{(\text{last})}$$", "",
             r"with $w^{(l)}_{jk}$ the weight from input $k$ to neuron $j$. The starting matrices:", ""]
    rows = []
    for l, (n_in, n_out) in enumerate(zip(config.layers, config.layers[1:])):
        w = [[params[config.weight_name(l, j, k)] for k in range(n_in)] for j in range(n_out)]
        row = f"W^{{({l})}} &= {matrix_tex(w)}"
        if config.bias:
            row += rf", \quad b^{{({l})}} = {column_tex([params[config.bias_name(l, j)] for j in range(n_out)])}"
        rows.append(row)
    return lines + [_aligned(rows), ""]


def point_tex(config: BackpropConfig, x: tuple, y: tuple) -> str:
    """(x, y) = (1, 2) for a chain; x = (1, 2), y = 3 for a wider network."""
    def vec(values):
        return num_tex(values[0]) if len(values) == 1 else "(" + ", ".join(num_tex(v) for v in values) + ")"
    if config.is_chain():
        return f"(x, y) = ({vec(x)}, {vec(y)})"
    return f"x = {vec(x)}, y = {vec(y)}"


def params_tex(params: dict) -> str:
    return ", ".join(f"{name_tex(k)} = {num_tex(v)}" for k, v in params.items())


def _aligned(rows: list[str]) -> str:
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def header(config: BackpropConfig) -> list[str]:
    return (["# Backpropagation by hand: one gradient-descent step", ""] + problem_lines(config)
            + ["## Loss", "", loss_line(config), "", "**How the data points are used.** " + REDUCTION_HOW[config.reduction], ""])


def loss_line(config: BackpropConfig, why: bool = True) -> str:
    """The loss, and (for an answer) why it fits."""
    line = f"**{config.loss}**: $L = {LOSS_TEX[config.loss]}$, with $\\hat{{y}}$ the prediction and $y$ the target."
    if why:
        line += f" Why: {LOSS_WHY[config.loss]}"
    if config.layers[-1] > 1:
        line += (f" With {config.layers[-1]} outputs the loss is the sum of one such term per output: $L = "
                 + " + ".join(f"L_{{{j}}}" for j in range(config.layers[-1])) + "$.")
    return line


def problem_lines(config: BackpropConfig) -> list[str]:
    """The exercise as given: the network, its start, the learning rate and the data."""
    if config.is_chain():
        points = ", ".join(f"$({num_tex(x)}, {num_tex(y)})$" for x, y in config.data)
        network = [f"**Network.** ${network_tex(config)}$, one neuron per layer"
                   + ("" if config.bias else ", no biases") + ".", ""]
    else:
        points = "; ".join(f"${point_tex(config, *config.split(p))}$" for p in config.data)
        network = layers_lines(config)
    return [*network,
            f"**Start.** ${params_tex(config.initial_params())}$; learning rate $\\eta = {num_tex(config.lr)}$.", "",
            f"**Data** {'$(x, y)$' if config.is_chain() else 'points'}: {points}.", ""]


def graph_section(config: BackpropConfig, analysis: Analysis, pictures: list[tuple[str, str]]) -> list[str]:
    lines = ["## Compute graph", "",
             "Every node of the engine's graph, inputs first (the derivation uses these names):", "",
             _aligned([f"{name_tex(name)} &= {definition}" for name, definition in analysis.definitions]), ""]
    if "relu" in config.activations:
        lines += [r"At exactly $z = 0$ relu's derivative is taken as $0$ (the subgradient torch uses), "
                  r"written $\mathbb{1}[z > 0]$.", ""]
    for caption, file in pictures:
        lines += [f"![{caption}]({file})", "", f"*{caption}: forward value and gradient at every node.*", ""]
    return lines


def partials_section(analysis: Analysis) -> list[str]:
    lines = ["## Local derivatives", "",
             "In the order `backward()` visits the graph, from the loss back to the inputs:", "",
             _aligned([f"{partial_tex(e.parent, e.child)} &= {tex(e.local)}" for e in analysis.edges]), "",
             "## Partial derivatives by the chain rule", "",
             "Each is the product of the local derivatives along the path from the loss to the parameter, "
             "then simplified with sympy:", ""]
    for name, rule in analysis.rules.items():
        lines += [_aligned([f"\\frac{{\\partial L}}{{\\partial {name_tex(name)}}} &= {rule.factors_tex()}",
                            f"&= {rule.locals_tex()}", f"&= {tex(rule.simplified)}"]), ""]
    two_paths = [name_tex(n) for n, rule in analysis.rules.items() if len(rule.paths) > 1]
    if two_paths:
        lines += [f"${', '.join(two_paths)}$ reach the loss by more than one path: their partial derivative "
                  "is the sum of one product per path.", ""]
    return lines


def matrix_section(config: BackpropConfig) -> list[str]:
    if config.is_chain():
        return []
    return ["## Matrix form", "", "The same partial derivatives, a layer at a time, with $f_l'$ applied "
            "element-wise and $\\odot$ the element-wise product:", "", _aligned(matrix.FORMULAS), ""]


def update_section(config: BackpropConfig, params: list[str]) -> list[str]:
    n = len(config.data)
    grad = {"sgd": lambda p: rf"\frac{{\partial L_n}}{{\partial {p}}}",
            "sum": lambda p: rf"\sum_{{n=1}}^{{{n}}} \frac{{\partial L_n}}{{\partial {p}}}",
            "mean": lambda p: rf"\frac{{1}}{{{n}}} \sum_{{n=1}}^{{{n}}} \frac{{\partial L_n}}{{\partial {p}}}"}
    rule = grad[config.reduction]
    rows = [f"{name_tex(p)} &:= {name_tex(p)} - \\eta \\, {rule(name_tex(p))}" for p in params]
    where = "for each data point $n$ in turn" if config.reduction == "sgd" else f"once, over all {n} points"
    return ["## Update expressions", "", f"With $L_n$ the loss of data point $n$, {where}:", "",
            _aligned(rows), ""]


def point_lines(config: BackpropConfig, analysis: Analysis, index: int, point: PointPass,
                params: dict) -> list[str]:
    forward = [n for n in reversed(point.visit) if n.op]
    lines = [f"**Forward**, point {index} ${point_tex(config, point.x, point.y)}$: "
             + "$" + ", ".join(f"{name_tex(n.label)} = {num_tex(n.data)}" for n in forward) + "$", "",
             "**Backward**, in visiting order:", "",
             "| node | value | ∂L / ∂node |", "|---|---|---|"]
    # plain text, as in the graph picture: a table of math cells is most of a long key's MathML
    lines += [f"| {name_text(n.label)} | {num_text(n.data)} | {num_text(n.grad)} |" for n in point.visit if n.label]
    rows = []
    for name, rule in analysis.rules.items():
        products = [r" \cdot ".join(factor_num_tex(v) for v in row) for row in numeric_factors(rule, point.visit)]
        rows.append(f"\\frac{{\\partial L_{{{index}}}}}{{\\partial {name_tex(name)}}} &= "
                    f"{' + '.join(products)} = {num_tex(point.grad[name])}")
    lines += ["", _aligned(rows), ""]
    return lines if config.is_chain() else lines + matrix.lines(config, params, index, point)


def step_lines(config: BackpropConfig, analysis: Analysis, steps: list[Step]) -> list[str]:
    lines = []
    for k, step in enumerate(steps, start=1):
        first = k if config.reduction == "sgd" else 1
        title = f"## Step {k}: data point {k}" if config.reduction == "sgd" else f"## The step: all {len(step.passes)} points"
        lines += [title, "", f"Weights before: ${params_tex(step.before)}$.", ""]
        for i, point in enumerate(step.passes, start=first):
            lines += point_lines(config, analysis, i, point, step.before)
        lr = num_tex(config.lr)
        rows = []
        for name in step.before:
            if config.reduction == "sgd":
                g = factor_num_tex(step.grad[name])
            else:
                terms = " + ".join(factor_num_tex(p.grad[name]) for p in step.passes)
                scale = rf"\tfrac{{1}}{{{len(step.passes)}}}" if config.reduction == "mean" else ""
                g = rf"{scale}\left({terms}\right)"
            rows.append(f"{name_tex(name)} &:= {num_tex(step.before[name])} - {lr} \\cdot {g} "
                        f"= {num_tex(step.after[name])}")
        lines += ["**Update:**", "", _aligned(rows), ""]
    return lines


def final_lines(config: BackpropConfig, steps: list[Step]) -> list[str]:
    start, final = config.initial_params(), steps[-1].after
    lines = ["## Final parameters", "", "| parameter | start | final |", "|---|---|---|"]
    lines += [f"| ${name_tex(k)}$ | {num_tex(start[k])} | **{num_tex(final[k])}** |" for k in final]
    return lines + [""]


def render(config: BackpropConfig, analysis: Analysis, steps: list[Step], pictures: list[tuple[str, str]]) -> str:
    """The whole derivation. `pictures`: (caption, relative file) of each graph picture to show."""
    params = list(config.initial_params())
    exact = all(isinstance(v, (int, Fraction)) for v in steps[-1].after.values())
    note = ["*All numbers are exact.*" if exact else "*sigmoid and tanh leave exact arithmetic: numbers are shown "
            "to 6 significant digits (result.json holds them in full).*", ""]
    lines = (header(config) + note + graph_section(config, analysis, pictures) + partials_section(analysis)
             + matrix_section(config) + update_section(config, params) + step_lines(config, analysis, steps) + final_lines(config, steps))
    return "\n".join(lines)
