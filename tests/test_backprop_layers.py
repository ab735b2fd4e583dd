"""Wider networks (`--layers`): every scalar gradient, the paths summed per weight and the matrix
form, against torch.autograd at float64; exactly, as fractions, where float64 is exact."""

import json
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.backprop.matrix import deltas
from neuralab.backprop.network import ACTIVATIONS, LOSSES, REDUCTIONS, BackpropConfig, descend
from neuralab.backprop.symbolic import analyse, numeric_factors

from .helpers import run_cli
from .test_backprop import close, descend_like_torch, torch_descend

F = Fraction


def exact_config(layers, weights, data, biases=None):
    """Integers and a power-of-two rate: every float64 operation of torch is exact here."""
    return BackpropConfig(activations=["relu"] * (len(layers) - 2) + ["linear"], layers=layers,
                          weights=[F(w) for w in weights], biases=None if biases is None else [F(b) for b in biases],
                          data=[tuple(F(v) for v in p) for p in data], lr=F(1, 4))


NETWORKS = {
    "1-2-1": exact_config([1, 2, 1], [1, -1, 2, 1], [(1, 3), (2, 1)]),
    "2-3-1": exact_config([2, 3, 1], [1, 0, -1, 1, 2, -2, 1, 1, -1], [(1, 2, 3), (-1, 1, 0)], biases=[0, 1, 0, -1]),
    "1-2-2": exact_config([1, 2, 2], [1, 2, 2, 1, 1, 3], [(1, 2, 0), (2, 1, 1)]),   # w0 reaches L by two paths
}


@pytest.mark.parametrize("name", NETWORKS)
def test_gradients_and_final_weights_equal_torch_as_fractions(name):
    config = NETWORKS[name]
    ref_grads, ref_final, _ = torch_descend(config)
    steps = descend(config)
    for step, ref in zip(steps, ref_grads, strict=True):
        assert step.grad == {k: Fraction(v) for k, v in ref.items()}
    assert steps[-1].after == {k: Fraction(v) for k, v in ref_final.items()}
    assert all(isinstance(v, Fraction) for v in steps[-1].after.values())


def test_a_weight_with_two_paths_sums_both_products():
    config = NETWORKS["1-2-2"]
    rule = analyse(config).rules["w0_0_0"]
    assert len(rule.paths) == 2
    point = descend(config)[0].passes[0]
    products = [math.prod(row) for row in numeric_factors(rule, point.visit)]
    assert all(p != 0 for p in products)  # both paths carry gradient here: neither can be dropped
    assert sum(products) == point.grad["w0_0_0"]
    assert len(analyse(NETWORKS["2-3-1"]).rules["w0_0_0"].paths) == 1


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    layers = draw(st.lists(st.integers(1, 3), min_size=depth + 1, max_size=depth + 1))
    n_weights = sum(a * b for a, b in zip(layers, layers[1:]))
    finite = st.floats(-2, 2, allow_nan=False)
    bias = draw(st.booleans())
    return BackpropConfig(
        activations=draw(st.lists(st.sampled_from(list(ACTIVATIONS)), min_size=depth, max_size=depth)),
        layers=layers, weights=draw(st.lists(finite, min_size=n_weights, max_size=n_weights)),
        biases=draw(st.lists(finite, min_size=sum(layers[1:]), max_size=sum(layers[1:]))) if bias else None,
        data=draw(st.lists(st.tuples(*[finite] * (layers[0] + layers[-1])), min_size=1, max_size=2)),
        lr=draw(st.floats(0.001, 1.0)), loss=draw(st.sampled_from(list(LOSSES))),
        reduction=draw(st.sampled_from(REDUCTIONS)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_match_torch_and_the_matrix_form(config):
    for step in descend_like_torch(config):
        for point in step.passes:   # delta (a)^T, layer by layer, is every weight's gradient of the point
            for d in deltas(config, step.before, point):
                for j, row in enumerate(d.weight_grad):
                    for k, g in enumerate(row):
                        assert close(g, point.grad[config.weight_name(d.layer, j, k)])
                    if config.bias:
                        assert close(d.delta[j], point.grad[config.bias_name(d.layer, j)])


def test_cli_layers_writes_the_matrix_form_and_json(tmp_path):
    out = tmp_path / "run"
    r = run_cli(["backprop", "--layers", "1,2,2", "--activations", "relu,linear", "--weights", "1,2,2,1,1,3",
                 "--data", "1,2,0", "--data", "2,1,1", "--lr", "1/4", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    derivation = (out / "derivation.md").read_text()
    assert "## Matrix form" in derivation and r"\delta^{(0)}" in derivation
    assert "reach the loss by more than one path" in derivation
    assert (out / "graph-point2.png").is_file()
    result = json.loads(r.stdout)
    assert result["layers"] == [1, 2, 2] and result["steps"][0]["points"][0]["y"] == [2.0, 0.0]
    assert {k: Fraction(v) for k, v in result["final_exact"].items()} == descend(NETWORKS["1-2-2"])[-1].after


@pytest.mark.parametrize("args, where", [
    (["--layers", "1,2,1", "--weights", "1,2,3"], "--weights"),
    (["--layers", "1,x,1"], "--layers"),
    (["--layers", "1,9,1", "--weights", ",".join(["1"] * 18)], "--layers"),
    (["--layers", "1,2"], "--layers"),
    (["--layers", "1,2,1", "--weights", "1,2,3,4", "--biases", "1"], "--biases"),
    (["--layers", "2,2,1", "--weights", "1,2,3,4,5,6", "--data", "1,2"], "--data"),
])
def test_cli_layers_bad_input_one_line_exit_2(tmp_path, args, where):
    out = tmp_path / "never"
    r = run_cli(["backprop", "--activations", "relu,linear", *args, "--out", str(out)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0], r.stderr
    assert not out.exists()
