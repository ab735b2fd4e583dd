"""The backprop part: engine and chain networks against torch.autograd (float64), the assignment's
reference answers exactly, relu at 0, the derivation, and the CLI (errors, --json, run directory)."""

import json
import math
from fractions import Fraction

import pytest
import sympy as sp
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from neuralab.backprop import reference
from neuralab.backprop.engine import Value
from neuralab.backprop.network import (
    ACTIVATIONS,
    LOSSES,
    REDUCTIONS,
    BackpropConfig,
    descend,
)
from neuralab.backprop.symbolic import analyse, num_text

from .helpers import run_cli

torch_descend = reference.descend


def close(a, b):
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


finite = st.floats(-2, 2, allow_nan=False)


@st.composite
def configs(draw):
    n = draw(st.integers(1, 5))
    return BackpropConfig(
        activations=draw(st.lists(st.sampled_from(list(ACTIVATIONS)), min_size=n, max_size=n)),
        weights=draw(st.lists(finite, min_size=n, max_size=n)), bias=draw(st.booleans()),
        data=draw(st.lists(st.tuples(finite, finite), min_size=1, max_size=3)),
        lr=draw(st.floats(0.001, 1.0)), loss=draw(st.sampled_from(list(LOSSES))),
        reduction=draw(st.sampled_from(REDUCTIONS)))


def descend_like_torch(config):
    """The engine's steps, after checking every gradient and final weight against torch (float64)."""
    ref_grads, ref_final, kinks = torch_descend(config)
    # a kink input within rounding of 0 may fall on either side in two float implementations
    assume(all(k == 0.0 or abs(k) > 1e-6 for k in kinks))
    steps = descend(config)
    assert len(steps) == len(ref_grads)
    for step, ref in zip(steps, ref_grads):
        assert step.grad.keys() == ref.keys()
        for name, g in step.grad.items():
            assert close(g, ref[name]), (name, g, ref[name])
    for name, w in steps[-1].after.items():
        assert close(w, ref_final[name]), (name, w, ref_final[name])
    return steps


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_gradients_match_torch_autograd(config):
    descend_like_torch(config)


def test_engine_operations_match_torch():
    a, b = Value(0.7), Value(-1.3)
    c = (a * b + b ** 3 - a / b).tanh() + (a.exp() + b.sigmoid()).log() - abs(b) * a.relu() + 2 / a
    c.backward()
    ta = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-1.3, dtype=torch.float64, requires_grad=True)
    tc = (ta * tb + tb ** 3 - ta / tb).tanh() + (ta.exp() + tb.sigmoid()).log() - tb.abs() * ta.relu() + 2 / ta
    tc.backward()
    assert close(c.data, tc.item())
    assert close(a.grad, ta.grad.item()) and close(b.grad, tb.grad.item())


@pytest.mark.parametrize("loss, reduction, w0, w1", [
    ("half-squared", "sgd", "0.6", "1.8"), ("half-squared", "sum", "0.6", "1.8"),
    ("squared", "sgd", "0.2", "1.6"), ("squared", "sum", "0.2", "1.6"),
    ("half-squared", "mean", "0.8", "1.9"),
])
def test_reference_answers_exactly(loss, reduction, w0, w1):
    steps = descend(BackpropConfig(loss=loss, reduction=reduction))
    final = steps[-1].after
    assert final == {"w0": Fraction(w0), "w1": Fraction(w1)}  # exact, not 0.6000000000000001
    assert num_text(final["w0"]) == w0 and num_text(final["w1"]) == w1


def test_first_point_has_zero_gradient():
    first = descend(BackpropConfig())[0]
    assert first.passes[0].graph.prediction[0].data == 2
    assert first.grad == {"w0": 0, "w1": 0}


def test_relu_at_zero_has_gradient_zero_like_torch():
    z = Value(0.0)
    z.relu().backward()
    tz = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(tz).backward()
    assert z.grad == tz.grad.item() == 0.0
    steps = descend(BackpropConfig(data=[(Fraction(0), Fraction(1))]))  # z0 = w0 * 0 = 0 exactly
    assert steps[0].grad["w0"] == 0


@pytest.mark.parametrize("config", [
    BackpropConfig(),
    BackpropConfig(activations=["sigmoid", "tanh", "relu"], weights=[0.5, -1.5, 2.0], bias=True,
                   loss="absolute", data=[(0.3, 0.9)]),
    BackpropConfig(activations=["linear", "tanh"], weights=[1.0, 0.7], loss="squared", data=[(-1.2, 0.4)]),
])
def test_simplified_partials_evaluate_to_engine_gradients(config):
    analysis = analyse(config)
    point = descend(config)[0].passes[0]
    values = {sp.Symbol(n.label): n.data for n in point.visit if n.label}
    for name, rule in analysis.rules.items():
        assert close(rule.simplified.subs(values).evalf(), point.grad[name]), name


def test_cli_default_run_writes_the_answer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run_cli(["backprop"])
    assert r.exit_code == 0, r.stderr
    assert "w0 = 0.6, w1 = 1.8" in r.stdout
    (run_dir,) = (tmp_path / "runs" / "backprop").iterdir()
    for name in ("config.json", "result.json", "derivation.md", "graph-point1.png", "graph-point1.svg",
                 "graph-point2.png", "graph-point2.svg"):
        assert (run_dir / name).is_file(), name
    md = (run_dir / "derivation.md").read_text()
    assert r"w_{0} &:= 1 - 0.1 \cdot 4 = 0.6" in md and r"w_{1} &:= 2 - 0.1 \cdot 2 = 1.8" in md
    assert r"\mathbb{1}[z_{1} > 0]" in md and "0.6000000000000001" not in md


def test_cli_json_shape(tmp_path):
    out = tmp_path / "mean"
    r = run_cli(["backprop", "--json", "--reduction", "mean", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["final"] == {"w0": 0.8, "w1": 1.9}
    assert len(result["steps"]) == 1 and len(result["steps"][0]["points"]) == 2  # one step over both points
    assert set(result["steps"][0]["grad"]) == {"w0", "w1"}
    assert (out / "derivation.md").is_file() and (out / "graph-point2.svg").is_file()


def test_cli_bias_names_and_custom_data(tmp_path):
    r = run_cli(["backprop", "--json", "--activations", "tanh", "--weights", "0.5", "--bias", "--data", "1,-1",
                 "--lr", "1/4", "--loss", "absolute", "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.stderr
    result = json.loads(r.stdout)
    assert set(result["final"]) == {"w0", "b0"}
    t = math.tanh(0.5)
    assert close(result["steps"][0]["grad"]["b0"], 1 - t * t)  # d|tanh(b + w x) + 1|/db at b = 0


@pytest.mark.parametrize("args, where", [
    (["--weights", "1,abc"], "--weights"),
    (["--data", "1,x"], "--data"),
    (["--data", "1,2,3"], "--data"),
    (["--data", ""], "--data"),
    (["--lr", "fast"], "--lr"),
    (["--weights", "1,2,3"], "--weights"),
    (["--activations", "relu", "--weights", "1,2"], "--weights"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--activations", "relu,softplus"], "--activations"),
    (["--loss", "huber"], "--loss"),
    (["--reduction", "median"], "--reduction"),
    (["--weights", "1e308,1e308"], "--weights"),
    (["--data", "1e308,1e308"], "--data"),
    (["--lr", "1e308"], "--lr"),
    (["--activations", ",".join(["relu"] * 2000), "--weights", ",".join(["1"] * 2000)], "--activations"),
])
def test_cli_bad_input_one_line_exit_2(tmp_path, args, where):
    out = tmp_path / "never"
    r = run_cli(["backprop", *args, "--out", str(out)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and where in lines[0], r.stderr
    assert not out.exists()  # nothing half-written


def test_a_reused_out_folder_keeps_no_graph_of_an_earlier_exercise(tmp_path):
    out = tmp_path / "D"
    assert run_cli(["backprop", "--out", str(out)]).exit_code == 0                       # two data points
    assert run_cli(["backprop", "--data", "1,2", "--out", str(out)]).exit_code == 0       # one
    assert sorted(p.name for p in out.glob("graph-point*")) == ["graph-point1.png", "graph-point1.svg"]


def test_report_section_answers_1_1_and_reuses_its_runs(tmp_path):
    from neuralab.backprop import section
    from neuralab.core.section import SectionContext

    ctx = SectionContext(out_dir=tmp_path, assets_dir=tmp_path / "assets" / "backprop", runs_root=tmp_path / "runs",
                         profile="budget")
    first = section.build(ctx)
    assert first.number == "1.1" and first.ours == first.published
    assert "| squared, sgd | 0.2 | 1.6 |" in first.text() and "| half-squared, mean | 0.8 | 1.9 |" in first.text()
    assert "mean squared error" in first.text()
    for link in ("assets/backprop/graph-point1.png", "assets/backprop/graph-point2.png"):
        assert f"]({link})" in first.text() and (tmp_path / link).is_file()
    again = section.build(ctx)
    assert again.run_dirs == first.run_dirs  # finished runs are reused, not recomputed
