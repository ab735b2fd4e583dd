"""The matrix form of backpropagation: delta vectors, computed layer by layer, and outer products.

For a wider network students often learn delta^(l) = dL/dz^(l) and
    delta^(last) = dL/dyhat ⊙ f'(z^(last)),   delta^(l) = (W^(l+1))^T delta^(l+1) ⊙ f'(z^(l)),
    dL/dW^(l) = delta^(l) (a^(l-1))^T,         dL/db^(l) = delta^(l),   a^(-1) = x.
`deltas` runs this recursion on one point's forward values, apart from the engine's scalar
backward pass, so the two answers check each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralab.backprop.engine import Number, Value
from neuralab.backprop.network import BackpropConfig, PointPass
from neuralab.backprop.symbolic import factor_num_tex, num_tex

FORMULAS = [r"\delta^{(l)} &= \frac{\partial L}{\partial z^{(l)}} \quad \text{(one entry per neuron of layer } l\text{)}",
            r"\delta^{(\text{last})} &= \frac{\partial L}{\partial \hat{y}} \odot f'\left(z^{(\text{last})}\right)",
            r"\delta^{(l)} &= \left(W^{(l+1)}\right)^{\top} \delta^{(l+1)} \odot f'\left(z^{(l)}\right)",
            r"\frac{\partial L}{\partial W^{(l)}} &= \delta^{(l)} \left(a^{(l-1)}\right)^{\top}, \quad "
            r"\frac{\partial L}{\partial b^{(l)}} = \delta^{(l)}, \quad a^{(-1)} = x"]


@dataclass
class LayerDelta:
    layer: int
    backprop: list[Number]        # dL/dyhat (last layer) or (W^(l+1))^T delta^(l+1)
    slope: list[Number]           # f'(z^(l)) per neuron
    delta: list[Number]
    inputs: list[Number]          # a^(l-1)
    weight_grad: list[list[Number]]   # delta a^T, (n_out, n_in)


def _slope(z: Value, a: Value) -> Number:
    """f'(z) by the activation node's own local derivative; 1 when the layer is linear (a is z)."""
    return 1 if a is z else a.local_derivatives()[0]


def deltas(config: BackpropConfig, params: dict[str, Number], point: PointPass) -> list[LayerDelta]:
    """The recursion from the output layer back to layer 0, on the point's forward values."""
    graph = point.graph
    upstream = [out.grad for out in graph.prediction]   # dL/dyhat: the loss's own derivative
    out = []
    for l in reversed(range(len(config.activations))):
        slope = [_slope(z, a) for z, a in zip(graph.pre[l], graph.post[l])]
        delta = [u * s for u, s in zip(upstream, slope)]
        inputs = [v.data for v in (graph.post[l - 1] if l else graph.inputs)]
        out.append(LayerDelta(l, upstream, slope, delta, inputs, [[d * a for a in inputs] for d in delta]))
        upstream = [sum(params[config.weight_name(l, j, k)] * delta[j] for j in range(len(delta)))
                    for k in range(len(inputs))]   # (W^(l))^T delta^(l)
    return out


def column_tex(values: list[Number]) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(num_tex(v) for v in values) + r" \end{pmatrix}"


def matrix_tex(rows: list[list[Number]]) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(num_tex(v) for v in row) for row in rows) + r" \end{pmatrix}"


def lines(config: BackpropConfig, params: dict[str, Number], index: int, point: PointPass) -> list[str]:
    """One point's matrix form: every delta and weight gradient with its numbers."""
    rows = []
    for d in deltas(config, params, point):
        last = d.layer == len(config.activations) - 1
        upstream = (r"\frac{\partial L}{\partial \hat{y}}" if last
                    else rf"\left(W^{{({d.layer + 1})}}\right)^{{\top}} \delta^{{({d.layer + 1})}}")
        rows.append(rf"\delta^{{({d.layer})}} &= {upstream} \odot f'\left(z^{{({d.layer})}}\right) = "
                    rf"{column_tex(d.backprop)} \odot {column_tex(d.slope)} = {column_tex(d.delta)}")
        source = "x" if d.layer == 0 else f"a^{{({d.layer - 1})}}"
        row = " & ".join(factor_num_tex(v) for v in d.inputs)
        rows.append(rf"\frac{{\partial L_{{{index}}}}}{{\partial W^{{({d.layer})}}}} &= \delta^{{({d.layer})}} "
                    rf"\left({source}\right)^{{\top}} = {column_tex(d.delta)} \begin{{pmatrix}} {row} \end{{pmatrix}} "
                    rf"= {matrix_tex(d.weight_grad)}")
    return [f"**Matrix form**, point {index}:", "", "$$\\begin{aligned}\n" + " \\\\\n".join(rows)
            + "\n\\end{aligned}$$", ""]
