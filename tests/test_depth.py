"""The depth study: Keras-faithful init, the variant table, the diagnostics and the CLI."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from neuralab.core.errors import UserError
from neuralab.core.runs import Run
from neuralab.depth import experiment, plan
from neuralab.depth.diagnostics import Monitor, dead_units, saturated_fraction, spread
from neuralab.depth.model import (
    ACTIVATIONS,
    VARIANTS,
    build_model,
    dense,
    make_optimizer,
)
from tests.helpers import run_cli


@pytest.mark.parametrize("n_in,n_out,init", [(784, 512, "glorot"), (512, 10, "glorot"), (512, 512, "he")])
def test_init_matches_keras_bounds(n_in, n_out, init):
    torch.manual_seed(0)
    layer = dense(n_in, n_out, init)
    a = math.sqrt(6 / (n_in + n_out)) if init == "glorot" else math.sqrt(6 / n_in)
    w = layer.weight.detach().double()
    assert w.abs().max() <= a
    assert w.abs().max() > 0.99 * a                      # uses the whole interval
    assert abs(w.std().item() - a / math.sqrt(3)) < 0.03 * a / math.sqrt(3)  # std of U(-a, a)
    assert torch.count_nonzero(layer.bias) == 0


def test_keras_model_layers_all_glorot():
    torch.manual_seed(0)
    model = build_model("keras", "sigmoid", 3)
    for d in model.dense_layers():
        fan_out, fan_in = d.weight.shape
        assert d.weight.abs().max() <= math.sqrt(6 / (fan_in + fan_out))
    assert [tuple(d.weight.shape) for d in model.dense_layers()] == [(512, 784), (512, 512), (512, 512), (10, 512)]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("depth", [1, 3])
def test_every_variant_builds_and_trains(name, activation, depth):
    torch.manual_seed(0)
    model = build_model(name, activation, depth, width=32)
    optimizer = make_optimizer(model, name)
    assert isinstance(optimizer, torch.optim.Adam if VARIANTS[name].optimizer == "adam" else torch.optim.SGD)
    assert optimizer.defaults["lr"] == VARIANTS[name].lr
    assert len(model.dense_layers()) == depth + 1
    assert any(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == VARIANTS[name].batchnorm
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    logits = model(x)
    assert logits.shape == (8, 10) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, y).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_residual_adds_the_input_of_later_layers():
    torch.manual_seed(0)
    model = build_model("residual", "relu", 2, width=16).eval()
    x = torch.rand(4, 784)
    h1 = model.hidden[0](x)
    assert torch.allclose(model(x), model.head(h1 + model.hidden[1](h1)))


def test_saturation_and_dead_on_hand_made_values():
    h = torch.tensor([[0.01, 0.5, 0.96, 0.05], [0.94, 0.99, 0.2, 0.951]])
    assert saturated_fraction(h).item() == pytest.approx(4 / 8)   # 0.01, 0.96, 0.99, 0.951
    r = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert dead_units(r).tolist() == [True, False, True]
    assert spread(torch.tensor([[0.0, 1.0], [2.0, 1.0]])).item() == pytest.approx(math.sqrt(2) / 2)


def test_monitor_records_mean_gradient_norm_and_dead_units():
    torch.manual_seed(0)
    model = build_model("keras", "relu", 2, width=6, dropout=0.0).double()
    with torch.no_grad():  # units 0 and 3 of layer 2 can never fire, the others always do
        model.hidden[1].dense.bias.copy_(torch.tensor([-1e3, 10, 10, -1e3, 10, 10]))
    monitor = Monitor(model.dense_layers(), model.activations(), "relu")
    model.train()
    expected = torch.zeros(3, dtype=torch.float64)
    for seed in (1, 2):  # two batches; reference norms from autograd.grad on a fresh graph
        x = torch.rand(5, 784, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        y = torch.tensor([0, 1, 2, 3, 4])
        loss = nn.functional.cross_entropy(model(x), y)
        grads = torch.autograd.grad(loss, [d.weight for d in model.dense_layers()], retain_graph=True)
        expected += torch.stack([g.norm() for g in grads]) / 2
        loss.backward()
        model.zero_grad()
    out = monitor.collect()
    assert out["grad_norm"] == pytest.approx(expected.tolist(), rel=1e-9)
    assert out["dead"][1] == pytest.approx(2 / 6)
    with torch.no_grad():
        model.eval()(torch.rand(3, 784, dtype=torch.float64))  # eval passes are not counted
    assert monitor.collect() == {"grad_norm": [0.0, 0.0, 0.0]}
    monitor.remove()


def test_sigmoid_monitor_counts_saturated_outputs():
    model = build_model("keras", "sigmoid", 1, width=4, dropout=0.0)
    with torch.no_grad():
        model.hidden[0].dense.weight.zero_()
        model.hidden[0].dense.bias.copy_(torch.tensor([-10.0, 10.0, 0.0, 1.0]))  # 2 of 4 saturated
    monitor = Monitor(model.dense_layers(), model.activations(), "sigmoid")
    model.train()(torch.rand(3, 784))
    out = monitor.collect()
    assert out["saturated"] == [pytest.approx(0.5)]
    assert out["train_spread"] == [pytest.approx(0.0, abs=1e-7)]  # zero weights: every input looks alike


def test_probe_spread_is_eval_mode_std_across_examples():
    torch.manual_seed(0)
    model = build_model("keras", "sigmoid", 2, width=8)  # dropout 0.2: must be off in the probe
    monitor = Monitor(model.dense_layers(), model.activations(), "sigmoid")
    x = torch.rand(50, 784)
    model.train()
    monitor.probe(model, x)
    assert model.training  # the mode is restored
    with torch.no_grad():
        h1 = torch.sigmoid(model.hidden[0].dense(x))
        h2 = torch.sigmoid(model.hidden[1].dense(h1))
    out = monitor.collect()
    assert out["spread"] == pytest.approx([h1.std(0).mean().item(), h2.std(0).mean().item()], rel=1e-6)
    assert "train_spread" not in out and "saturated" not in out  # the probe is not a training batch


def test_summary_markdown_means_over_seeds():
    rows = [{"variant": "keras", "activation": "relu", "depth": 1, "test_accuracy": a} for a in (0.9, 0.92)]
    rows.append({"variant": "adam", "activation": "relu", "depth": 3, "test_accuracy": 0.98})
    table = experiment.summary_markdown(rows, [1, 3])
    assert "| keras | relu | 0.910 (n=2) | – |" in table
    assert "| adam | relu | – | 0.980 (n=1) |" in table
    spread = experiment.summary_markdown(rows, [1, 3], spread=True)
    assert "| keras | relu | 0.910 ± 0.014 (n=2) | – |" in spread      # sample sd of 0.90, 0.92
    assert "| adam | relu | – | 0.980 (n=1) |" in spread               # no spread from one seed


def test_plan_profiles_and_overrides():
    quick = plan.plan_configs(plan.make_plan("quick"))
    assert {(c.variant, c.activation, c.depth) for c in quick} >= {("keras", a, d) for a in ("sigmoid", "relu")
                                                                  for d in (1, 2, 3)}
    full = plan.make_plan("full")
    assert full[1].depths == (1, 2, 3, 5, 10) and full[1].variants == tuple(VARIANTS) and full[1].seeds == 3
    grids = plan.make_plan(None, variants=["he,adam", "residual"], depths="2,5", seeds=2, epochs=4)
    configs = plan.plan_configs(grids)
    assert len(configs) == 3 * 2 * 2 * 2 and {c.seed for c in configs} == {1234, 1235}
    assert {c.epochs for c in configs} == {4}


@pytest.fixture(scope="module")
def fake_mnist(tmp_path_factory):
    """Random uint8 'digits' in the Keras npz layout (the loader checks the 60000/10000 shapes)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("fake") / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 60000), x_test=rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, 10000))
    return path


def test_cli_quick_writes_summary_and_reuses_runs(fake_mnist, tmp_path):
    args = ["depth", "run", "--profile", "quick", "--epochs", "1", "--depths", "1", "--variant", "keras",
            "--activations", "relu",
            "--out", str(tmp_path), "--data-dir", str(fake_mnist), "--device", "cpu", "--json"]
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    with open(tmp_path / "depth" / "summary.csv") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == experiment.SUMMARY_COLUMNS
        assert [(r["variant"], r["activation"], r["depth"], r["seed"]) for r in reader] == [
            ("keras", "relu", "1", "1234")]
    assert [(r["activation"], r["depth"]) for r in rows] == [("relu", 1)]
    assert all(0.0 <= r["test_accuracy"] <= 1.0 and r["test_loss"] > 0 for r in rows)
    assert (tmp_path / "depth" / "summary.md").read_text().startswith("| variant | activation | depth 1 |")
    run_dirs = sorted(p.parent for p in (tmp_path / "depth").glob("*/result.json"))
    metrics = Run(run_dirs[0]).metrics()
    assert [m["epoch"] for m in metrics] == [0, 1]
    assert len(metrics[1]["grad_norm"]) == 2 and "dead" in metrics[1] and "saturated" not in metrics[1]
    assert rows[0]["test_accuracy"] == metrics[1]["test_accuracy"]
    again = run_cli(args)  # finished runs with the same config are reused, not retrained
    assert again.exit_code == 0 and json.loads(again.stdout) == rows
    assert sorted(p.parent for p in (tmp_path / "depth").glob("*/result.json")) == run_dirs


def test_dry_run_trains_one_small_run(fake_mnist, tmp_path):
    result = run_cli(["depth", "run", "--dry-run", "--out", str(tmp_path), "--data-dir", str(fake_mnist),
                      "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [(r["variant"], r["activation"], r["depth"]) for r in json.loads(result.stdout)] == [("keras", "relu", 1)]


def test_an_interrupted_run_is_continued_to_the_figures_of_an_uninterrupted_one(fake_mnist, tmp_path, monkeypatch):
    args = ["depth", "run", "--epochs", "2", "--depths", "1", "--activations", "relu", "--seeds", "1",
            "--data-dir", str(fake_mnist), "--device", "cpu", "--json"]
    clean = run_cli([*args, "--out", str(tmp_path / "a")])
    assert clean.exit_code == 0, clean.stderr
    real, calls = experiment.evaluate, []

    def interrupted_in_epoch_2(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(experiment, "evaluate", interrupted_in_epoch_2)
    assert run_cli([*args, "--out", str(tmp_path / "b")]).exit_code == 130
    assert not list((tmp_path / "b" / "depth").glob("*/result.json"))
    monkeypatch.setattr(experiment, "evaluate", real)
    resumed = run_cli([*args, "--out", str(tmp_path / "b")])
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout) == json.loads(clean.stdout)
    (run_dir,) = [p for p in (tmp_path / "b" / "depth").iterdir() if p.is_dir()]   # continued, not started again
    assert [m["epoch"] for m in Run(run_dir).metrics()] == [0, 1, 2]

    calls.clear()            # the same interruption, continued by naming the run with --resume
    monkeypatch.setattr(experiment, "evaluate", interrupted_in_epoch_2)
    assert run_cli([*args, "--out", str(tmp_path / "c")]).exit_code == 130
    monkeypatch.setattr(experiment, "evaluate", real)
    (run_dir,) = [p for p in (tmp_path / "c" / "depth").iterdir() if p.is_dir()]
    named = run_cli(["depth", "run", "--resume", str(run_dir), "--data-dir", str(fake_mnist), "--device", "cpu"])
    assert named.exit_code == 0, named.stderr
    assert Run(run_dir).result["test_accuracy"] == json.loads(clean.stdout)[0]["test_accuracy"]
    assert [m["epoch"] for m in Run(run_dir).metrics()] == [0, 1, 2]
    again = run_cli(["depth", "run", "--resume", str(run_dir), "--data-dir", str(fake_mnist)])
    assert again.exit_code == 2 and "the run has finished" in again.stderr


@pytest.mark.parametrize("flags,message", [
    (["--variant", "vgg"], "--variant: unknown variant 'vgg'"),
    (["--depths", "1,x"], "--depths: expected comma-separated integers"),
    (["--activations", "tanh"], "--activations: unknown activation 'tanh'"),
    (["--seeds", "0"], "--seeds: must be 1..100"),
    (["--seeds", "1000000000"], "--seeds: must be 1..100"),
    (["--depths", "99999999999999999999999"], "--depths: expected integers in 1..100"),
    (["--epochs", "100000"], "--epochs: must be 1..1000"),
    (["--holdout", "40000"], "--holdout: 40000 is outside 0..30000"),
    (["--profile", "huge"], "Invalid value for '--profile'"),
    (["--device", "tpu"], "Invalid value for '--device'"),
])
def test_cli_bad_input_is_one_line_exit_2(flags, message, tmp_path):
    result = run_cli(["depth", "run", "--out", str(tmp_path), *flags])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {message}") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "depth").exists()


def _fake_finished_run(root, config) -> None:
    """A finished run with made-up metrics whose figures identify the cell they belong to."""
    run = Run.create(root, "depth", config, f"{config.variant}-{config.activation}-d{config.depth}", config.data_sha256)
    acc = 0.5 + config.depth / 100 + (0.3 if config.activation == "relu" else 0.0)
    layers = range(1, config.depth + 1)
    unit_key = "saturated" if config.activation == "sigmoid" else "dead"
    for epoch in range(config.epochs + 1):
        record = {"epoch": epoch, "grad_norm": [0.01 * 4.0 ** i for i in range(config.depth + 1)],
                  "spread": [0.2 / 4.0 ** i for i in layers], "train_spread": [0.06 for _ in layers],
                  unit_key: [0.001 * epoch for _ in layers]}
        if epoch:
            record.update(train_accuracy=acc - 0.01, test_accuracy=acc, train_loss=1.0, test_loss=1.0)
        run.log_metrics(record)
    run.finish({"test_accuracy": acc, "test_loss": 1.0})


def test_section_reads_every_number_from_the_runs(fake_mnist, tmp_path, monkeypatch):
    from dataclasses import replace

    from neuralab.core import mnist
    from neuralab.core.section import SectionContext
    from neuralab.depth import section

    monkeypatch.setenv("NEURALAB_MNIST", str(fake_mnist))
    sha = mnist.load().sha256
    monkeypatch.setitem(plan.PROFILES, "budget", plan.PROFILES["quick"][:1])   # the six runs, 2 epochs
    variants = replace(plan.PROFILES["quick"][1], epochs=1)   # keras sigmoid depth 3 again, at 1 epoch
    monkeypatch.setattr(plan, "variant_grid", lambda seconds_left, seconds_per_epoch: variants)
    configs = {tuple(sorted(vars(c).items())): c for c in plan.plan_configs([plan.PROFILES["quick"][0], variants])}
    for config in configs.values():
        _fake_finished_run(tmp_path / "runs", replace(config, data_sha256=sha))
    ctx = SectionContext(out_dir=tmp_path / "report", assets_dir=tmp_path / "report" / "assets" / "depth",
                         runs_root=tmp_path / "runs", profile="budget", reuse=True)
    result = section.build(ctx)  # every run is reused: nothing trains
    assert len(list((tmp_path / "runs" / "depth").iterdir())) == len(configs)
    assert result.ours == {f"{a} depth {d}": pytest.approx(0.5 + d / 100 + (0.3 if a == "ReLU" else 0))
                           for a in ("ReLU", "sigmoid") for d in (1, 2, 3)}
    md = result.text()
    assert "| sigmoid | 3 | 0.149 |" in result.lead   # the published run beside ours, in the lead table
    assert "the head's gradient is 64× the first layer's, a factor 4.0 per layer" in md  # 0.64 / 0.01
    assert "was 0.05, 0.0125, 0.0031" in md and "0.2% of sigmoid outputs" in md  # max over training epochs
    for name in ("accuracy-sigmoid.png", "accuracy-relu.png", "diagnostics.png", "summary.csv"):
        assert (ctx.assets_dir / name).is_file() and f"(assets/depth/{name})" in md
    assert "| adam | sigmoid | 0.530 (n=1) |" in (ctx.assets_dir / "summary.md").read_text()   # depth 3 only
    assert "n=2" not in md and "(n=1, 2 ep)" in md   # the 1-epoch variant run is not mixed into the 2-epoch cell


def test_the_variant_table_gets_the_epochs_its_time_pays_for():
    per_run = len(plan.VARIANT_CELL.variants)          # one epoch of every variant
    assert plan.variant_grid(3 * per_run * 4.0, 4.0).epochs == 3
    assert plan.variant_grid(1000 * per_run, 4.0).epochs == 10    # never beyond the protocol's 10
    assert plan.variant_grid(per_run * 4.0 - 0.1, 4.0) is None    # not one epoch of every variant: no table
    assert plan.variant_grid(50.0, 0.0).epochs == 10


def test_the_explanation_follows_the_figures_it_quotes():
    from neuralab.depth.section import _bullets

    facts = {"depth": 3, "epochs": 10, "sig_grad0": [0.01, 0.04, 0.16, 0.64], "relu_grad0": [0.1, 0.1, 0.1, 0.1],
             "sig_ratio0": 64.0, "relu_ratio0": 1.0, "sig_ratio_last": 50.0, "relu_ratio_last": 1.0,
             "sig_per_layer0": 4.0, "relu_per_layer0": 1.0, "sig_spread0": [0.2, 0.05, 0.01],
             "relu_spread0": [0.3, 0.3, 0.3], "sig_spread_last": [0.2, 0.05, 0.01], "relu_spread_last": [0.3, 0.3, 0.3],
             "sig_train_spread_last": [0.06, 0.06, 0.06], "max_saturated": 0.01, "max_dead": 0.0,
             "sig_acc": 0.11, "relu_acc": 0.95, "sig_train_acc": 0.11}
    collapsed = _bullets(facts)
    assert "Gradients vanish" in collapsed and "input fades" in collapsed and "class prior" in collapsed
    assert "noise drowns" in collapsed and "do not die" in collapsed
    healthy = _bullets({**facts, "sig_ratio0": 1.2, "sig_per_layer0": 1.05, "sig_spread0": [0.2, 0.2, 0.2],
                        "sig_train_spread_last": [0.001, 0.001, 0.001], "max_dead": 0.4, "sig_acc": 0.9})
    assert "Gradients do not vanish" in healthy and "does not fade" in healthy and "does not drown" in healthy
    assert "class prior" not in healthy and "up to 40.0% of the ReLU units" in healthy


def test_the_cosine_variant_anneals_adam_to_zero_and_the_others_keep_their_rate(fake_mnist, tmp_path):
    data = experiment.load_tensors(fake_mnist, torch.device("cpu"))
    lrs = {}
    for variant in ("adam", "adam-cosine"):
        run = experiment.train_run(experiment.DepthConfig(variant=variant, activation="relu", depth=1, epochs=2),
                                   data, tmp_path)
        lrs[variant] = [m["lr"] for m in run.metrics() if m["epoch"]]
    steps = 2 * -(-len(data.y_train) // 128)
    assert lrs["adam"] == [0.001, 0.001]
    # the schedule sets each step's rate before it: the last step of epoch e ran at cos(pi (k-1)/steps)
    half = steps // 2 - 1
    assert lrs["adam-cosine"] == pytest.approx([0.0005 * (1 + math.cos(math.pi * half / steps)),
                                                0.0005 * (1 + math.cos(math.pi * (steps - 1) / steps))])


def test_the_saved_deep_variant_runs_are_quoted_with_their_spread_and_provenance(tmp_path):
    from neuralab.core.section import SectionContext
    from neuralab.depth import section

    rows = [{"variant": "residual", "activation": "sigmoid", "depth": 10, "seed": 1234 + i, "test_accuracy": a}
            for i, a in enumerate((0.90, 0.92))]
    (tmp_path / "depth").mkdir()
    (tmp_path / "depth" / "deep-variants.json").write_text(json.dumps(
        {"command": "python bench/depth_results.py R", "date": "2026-12-01T19:00:00+00:00", "commit": "abcdef1234",
         "machine": {"cpu": "Some CPU", "cores": 2, "torch": "2.13.0"}, "epochs": [10], "rows": rows}))

    def context(bench_dir):
        return SectionContext(out_dir=tmp_path, assets_dir=tmp_path, runs_root=tmp_path, profile="budget",
                              bench_dir=bench_dir)

    text = "\n".join(fold.markdown for fold in section._reference(context(tmp_path)))
    assert "2 seeds × 10 epochs (mean ± sd)" in text and "| residual | sigmoid | 0.910 ± 0.014 (n=2) |" in text
    assert "measured by `python bench/depth_results.py R` on 2026-12-01, Some CPU (2 cores)" in text
    assert section._reference(context(tmp_path / "none")) == []


def test_a_holdout_is_never_trained_on_and_judges_every_epoch_with_test_scored_once(tmp_path):
    rng = np.random.default_rng(0)
    x_train = torch.from_numpy(rng.random((300, 784), dtype=np.float32))   # (300, 784)
    x_train[200:] = float("nan")          # val: one step on any of these would make every weight NaN
    y_train = torch.from_numpy(rng.integers(0, 10, 300))
    data = experiment.Tensors(x_train, y_train, torch.from_numpy(rng.random((50, 784), dtype=np.float32)),
                              torch.from_numpy(rng.integers(0, 10, 50)), "fake")
    config = experiment.DepthConfig(variant="keras", activation="relu", depth=1, epochs=2, width=16, holdout=100)
    run = experiment.train_run(config, data, tmp_path)
    epochs = [m for m in run.metrics() if m["epoch"]]
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert all("val_accuracy" in m and not any(k.startswith("test_") for k in m) for m in epochs)
    assert math.isfinite(run.result["test_loss"]) and 0 <= run.result["test_accuracy"] <= 1
    assert run.result["val_accuracy"] == epochs[-1]["val_accuracy"]
    with pytest.raises(UserError, match="--holdout: 151 would leave fewer"):
        experiment.train_run(replace(config, holdout=151), data, tmp_path)


def test_the_target_bench_chooses_the_candidate_whose_worst_val_run_is_best():
    from tests.helpers import bench_module

    val = {"higher-mean": {1: [0.970, 0.999], 2: [0.990, 0.990]}, "steadier": {1: [0.980, 0.981], 2: [0.982, 0.983]}}
    assert bench_module("depth_target").chosen(val) == "steadier"


def test_the_saved_target_is_quoted_with_the_choice_on_val_and_only_the_chosen_test_figures(tmp_path):
    from neuralab.core.section import SectionContext
    from neuralab.depth import section

    def rows(accuracies):
        return [{"depth": d, "accuracies": a, "mean": sum(a) / len(a), "sd": 0.0} for d, a in zip((1, 2, 3), accuracies)]

    (tmp_path / "depth").mkdir()
    (tmp_path / "depth" / "target-val.json").write_text(json.dumps(
        {"command": "python bench/depth_target.py", "date": "2026-12-04T14:00:00+00:00", "commit": "abcdef1234",
         "machine": {"cpu": "Some CPU", "cores": 2, "torch": "2.13.0"}, "activation": "relu", "seeds": 2,
         "epochs": 10, "holdout": 10000, "target": 0.98, "chosen": "adam-cosine",
         "val": {"adam": rows([[0.97, 0.98]] * 3), "adam-cosine": rows([[0.985, 0.99]] * 3)},
         "test": rows([[0.981, 0.979], [0.99, 0.99], [0.99, 0.99]]), "train_seconds": {"adam": 300, "adam-cosine": 310}}))
    ctx = SectionContext(out_dir=tmp_path, assets_dir=tmp_path, runs_root=tmp_path, profile="budget", bench_dir=tmp_path)
    text = "\n".join(fold.markdown for fold in section._reference(ctx))
    assert "| adam (relu) | 0.9750 ± 0.0000 | 0.9750 ± 0.0000 | 0.9750 ± 0.0000 | 0.9700 | 300 s |" in text
    assert "Chosen on val: **adam-cosine**" in text
    assert "| 1 | 0.9800 ± 0.0000 | 0.9790 | 0.9810, 0.9790 |" in text
    assert "adam-cosine: worst test run 0.9790 against the target ≥ 0.98" in text and "**missed**" in text
    assert text.count("| 1 |") == 1                  # one test table: the chosen candidate's


def test_cli_holdout_judges_on_val_and_reports_test_once(fake_mnist, tmp_path):
    result = run_cli(["depth", "run", "--dry-run", "--holdout", "20000", "--out", str(tmp_path), "--data-dir",
                      str(fake_mnist), "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    [run_dir] = [p.parent for p in (tmp_path / "depth").glob("*/result.json")]
    [epoch] = [m for m in Run(run_dir).metrics() if m["epoch"]]
    assert row["val_accuracy"] == epoch["val_accuracy"] and "test_accuracy" not in epoch
    assert Run(run_dir).config["holdout"] == 20000 and 0 <= row["test_accuracy"] <= 1
