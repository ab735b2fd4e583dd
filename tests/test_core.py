"""The shared core: checkpoints round-trip, resume reproduces an uninterrupted run, every --help works."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import torch
import typer
from typer.core import TyperGroup
from torch import nn

from neuralab.cli import app
from neuralab.core.data import index_batches
from neuralab.core.errors import UserError
from neuralab.core.runs import Run, load_checkpoint, save_checkpoint
from neuralab.core.runtime import seed_everything, training_precision
from neuralab.core.train import Loop, evaluator, fit

from .helpers import run_cli


def tiny_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def make_model():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


def train_tiny(root, interrupt_at=None, resume_run=None):
    x, y = tiny_problem()
    seed_everything(3)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    calls = {"n": 0}

    def step(m, idx):
        calls["n"] += 1
        if interrupt_at is not None and calls["n"] == interrupt_at:
            raise KeyboardInterrupt
        logits = m(x[idx])
        return nn.functional.cross_entropy(logits, y[idx]), {
            "count": len(idx), "correct": (logits.argmax(1) == y[idx]).sum().item()}

    run = resume_run or Run.create(root, "toy", {"seed": 3}, name="r")
    loop = Loop(epochs=4, batches=lambda e: index_batches(256, 32, seed=3, epoch=e), step=step,
                evaluate=evaluator(lambda: index_batches(256, 64), step), monitor="val_accuracy")
    return fit(run, model, opt, loop, kind="toy", config={"seed": 3}, resume=resume_run is not None)


def test_resume_after_interrupt_matches_uninterrupted(tmp_path):
    clean = train_tiny(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        train_tiny(tmp_path / "b", interrupt_at=12 * 2 + 3)  # 8 train + 4 eval steps an epoch: mid-epoch 3
    broken = Run(tmp_path / "b" / "toy" / "r")
    assert len(broken.metrics()) == 2 and broken.result is None
    resumed = train_tiny(tmp_path / "b", resume_run=broken)
    assert [m["epoch"] for m in resumed.history] == [1, 2, 3, 4]
    for a, b in zip(clean.history, resumed.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-7)
        assert a["val_accuracy"] == b["val_accuracy"]


def test_best_checkpoint_is_the_later_epoch_on_a_tie(tmp_path):
    x, y = tiny_problem()
    model = make_model()
    scores = iter([0.5, 0.9, 0.9, 0.7])          # epochs 2 and 3 tie for best

    def step(m, idx):
        return nn.functional.cross_entropy(m(x[idx]), y[idx]), {"count": len(idx)}

    run = Run.create(tmp_path, "toy", {"seed": 3}, name="r")
    loop = Loop(epochs=4, batches=lambda e: index_batches(256, 64, seed=3, epoch=e), step=step,
                evaluate=lambda m: {"val_accuracy": next(scores)}, monitor="val_accuracy")
    result = fit(run, model, torch.optim.Adam(model.parameters()), loop, kind="toy", config={"seed": 3})
    _, meta, _ = load_checkpoint(result.best_path, "toy")
    assert meta["step"] == 3 and meta["metric"] == {"val_accuracy": 0.9}


def test_checkpoint_round_trips_with_state(tmp_path):
    model = make_model()
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 8)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c", model, kind="toy", config={"a": 1}, step=7,
                           metric={"acc": 0.5}, state={"optimizer": opt.state_dict(), "note": (1, "x")})
    weights, meta, state = load_checkpoint(path, "toy")
    assert meta["step"] == 7 and meta["config"] == {"a": 1}
    assert state["note"] == (1, "x")
    for k, v in model.state_dict().items():
        assert torch.equal(weights[k], v)
    opt2 = torch.optim.Adam(make_model().parameters())
    opt2.load_state_dict(state["optimizer"])
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert json.loads(path.with_suffix(".json").read_text())["kind"] == "toy"


def test_checkpoints_and_metrics_are_written_with_one_permission_policy(tmp_path):
    run = Run.create(tmp_path, "toy", {"seed": 1})
    run.log_metrics({"epoch": 1})
    path = save_checkpoint(run.path / "c", make_model(), kind="toy", config={})
    modes = {p.name: p.stat().st_mode & 0o777 for p in (path, path.with_suffix(".json"), run.path / "config.json",
                                                       run.path / "metrics.jsonl")}
    assert len(set(modes.values())) == 1, modes


def test_checkpoint_of_another_kind_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c", make_model(), kind="toy", config={})
    with pytest.raises(UserError, match="kind 'toy', expected 'calc'"):
        load_checkpoint(path, "calc")
    with pytest.raises(UserError, match="missing.safetensors: no such file or directory"):
        load_checkpoint(tmp_path / "missing.safetensors")


def saved_with_state(tmp_path):
    opt = torch.optim.Adam(make_model().parameters())
    return save_checkpoint(tmp_path / "c", make_model(), kind="toy", config={}, state={"optimizer": opt.state_dict(),
                                                                                         "epoch": 3})


@pytest.mark.parametrize("epoch, fault", [
    ({"__tensor__": "state.nope"}, ".__tensor__: names 'state.nope', which the .safetensors file does not hold"),
    ({"__dict__": {"a": 1}}, ".__dict__: must be a list of [key, value] pairs"),
    ({"__dict__": [[{"__dict__": []}, 3]]}, ".__dict__[0][0]: a dict cannot be a key"),
    ({"__dict__": [[{"__tuple__": [[]]}, 3]]}, ".__dict__[0][0]: a tuple holding a list cannot be a key"),
    ({"__tuple__": 5}, ".__tuple__: must be a list"),
])
def test_a_sidecar_state_entry_that_names_nothing_is_one_line_naming_it(tmp_path, epoch, fault):
    path = saved_with_state(tmp_path)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    assert meta["state"]["__dict__"][1][0] == "epoch"
    meta["state"]["__dict__"][1][1] = epoch
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(UserError) as e:
        load_checkpoint(path, "toy")
    assert str(e.value) == f"{sidecar}: state.__dict__[1][1]{fault}"


def test_non_finite_weights_are_refused_at_load(tmp_path):
    model = make_model()
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    path = save_checkpoint(tmp_path / "c", model, kind="toy", config={})
    with pytest.raises(UserError, match="c.safetensors: weight .* holds non-finite values"):
        load_checkpoint(path, "toy")


def test_weights_of_another_shape_name_the_weight(tmp_path):
    from neuralab.core.runs import load_weights

    state = {k: v for k, v in make_model().state_dict().items()}
    name = next(iter(state))
    bigger = {**state, name: torch.zeros(*[d + 1 for d in state[name].shape])}
    with pytest.raises(UserError, match=rf"CK: weight {name} has shape .*, but the model its config describes needs"):
        load_weights(make_model(), bigger, "CK")
    with pytest.raises(UserError, match=rf"CK: the checkpoint lacks the weight {name} \(1 missing, 0 extra\)"):
        load_weights(make_model(), {k: v for k, v in state.items() if k != name}, "CK")


@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.one_of(
    st.none(), st.integers(-3, 3), st.text(max_size=8), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["__tensor__", "__dict__", "__tuple__", "__ndarray__", "x"]),
                    st.one_of(st.text(max_size=12), st.integers(), st.lists(st.lists(st.integers(), max_size=2), max_size=2)),
                    max_size=2))), min_size=1, max_size=4))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_sidecar_edits_load_or_give_one_line_naming_the_sidecar(tmp_path, edits):
    """Any value put anywhere in the sidecar: the checkpoint loads, or one UserError names the file."""
    path = saved_with_state(tmp_path)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    slots = []   # (container, key) of every value in the sidecar; the state's structure is the loader's own format

    def walk(node):
        for key in (range(len(node)) if isinstance(node, list) else list(node)):
            slots.append((node, key))
            if isinstance(node[key], (dict, list)):
                walk(node[key])
    walk(meta if edits[0][0] % 4 == 0 else meta["state"])
    for where, value in edits:
        container, key = slots[where % len(slots)]
        container[key] = value
    sidecar.write_text(json.dumps(meta))
    try:
        load_checkpoint(path, "toy")
    except UserError as e:
        assert str(e).startswith(str(tmp_path)) and "\n" not in str(e)


def all_command_paths(command, prefix=()):
    yield prefix
    if isinstance(command, TyperGroup):
        context = typer.Context(command)
        for name in command.list_commands(context):
            yield from all_command_paths(command.get_command(context, name), prefix + (name,))


@pytest.mark.parametrize("path", list(all_command_paths(typer.main.get_command(app))), ids=" ".join)
def test_help_works_for_every_command(path):
    result = run_cli([*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout


def test_calc_predict_starts_without_the_other_parts_libraries(tmp_path):
    """Start-up is most of a one-picture `calc predict`: it must not import what only other parts need."""
    script = ("import sys\nfrom neuralab.cli import main\ntry:\n"
              f"    main(['calc', 'predict', '--checkpoint', {str(tmp_path / 'none.safetensors')!r}, '--compose', '1+2'])\n"
              "except SystemExit as e:\n    print(e.code, sorted(m for m in ('sympy', 'matplotlib') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "none.safetensors" in done.stderr    # the checkpoint was looked for: the command's own imports ran
    assert done.stdout.split() == ["2", "[]"]


def test_unknown_flag_is_one_line_exit_2():
    result = run_cli(["data", "info", "--no-such-flag"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error: No such option: --no-such-flag (neuralab data info)"]


def test_finished_run_is_found_only_when_config_matches(tmp_path):
    from neuralab.core.runs import find_finished

    run = Run.create(tmp_path, "toy", {"seed": 1, "depth": 2})
    assert find_finished(tmp_path, "toy", {"seed": 1, "depth": 2}) is None  # not finished yet
    run.finish({"accuracy": 0.9})
    assert find_finished(tmp_path, "toy", {"seed": 1, "depth": 2}).path == run.path
    assert find_finished(tmp_path, "toy", {"seed": 1, "depth": 3}) is None


def test_a_run_is_continued_only_on_the_data_it_was_trained_on(tmp_path):
    run = Run.create(tmp_path, "toy", {"seed": 1}, data_sha256="a" * 64)
    run.refuse_other_data("a" * 64)
    with pytest.raises(UserError, match="trained on other MNIST data"):
        run.refuse_other_data("b" * 64)


def test_a_figure_that_fails_to_draw_leaves_the_saved_one_whole(tmp_path):
    from matplotlib.figure import Figure

    from neuralab.core.io import save_figure

    target = tmp_path / "figs" / "curve.svg"   # svg is written while drawn, png only after
    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])
    save_figure(fig, target)
    saved = target.read_bytes()
    assert b"<svg" in saved

    broken = Figure()
    broken.subplots().plot([0, 1], [0, 1])
    broken.text(0, 0, "$\\notacommand$")   # mathtext fails only when drawn, half-way through the write
    with pytest.raises(ValueError):
        save_figure(broken, target)
    assert target.read_bytes() == saved
    assert [p.name for p in target.parent.iterdir()] == ["curve.svg"]   # no temp file left behind


def test_every_result_file_carries_its_schema_and_one_provenance_sentence():
    from neuralab.core.provenance import SCHEMA, provenance
    from neuralab.core.reference import measured_sentence

    record = provenance(["bench/x.py", "--json", "out.json"])
    assert record["schema"] == SCHEMA and record["command"] == "python bench/x.py --json out.json"
    sentence = measured_sentence(record)
    assert sentence.startswith("Measured by `python bench/x.py --json out.json` on ") and sentence.endswith(".")
    assert f"torch {record['machine']['torch']}" in sentence
    assert measured_sentence({"command": "old"}) == ("Measured by `old` (the file predates the provenance record: it "
                                                     "names no date, machine or commit).")


def test_bf16_trains_in_fp32_where_the_cpu_has_no_native_bfloat16(monkeypatch):
    """On an AVX2 CPU oneDNN has no bfloat16 LSTM (caption training raised) and emulates bfloat16
    convolutions several times slower than fp32: a run asking for bf16 trains in fp32 there."""
    cpu = torch.device("cpu")
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert training_precision("bf16", cpu) == "fp32" and training_precision("fp32", cpu) == "fp32"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert training_precision("bf16", cpu) == "bf16"


def test_work_spread_over_cores_comes_back_in_order_and_may_spread_again_inside():
    import threading
    import time

    from neuralab.core.parallel import cores, each

    def slow_square(k):
        time.sleep(0.02 * (5 - k))            # the first items finish last
        return k * k, threading.current_thread().name

    got = each(slow_square, range(5))
    assert [value for value, _ in got] == [0, 1, 4, 9, 16]
    if cores() >= 2:
        assert len({name for _, name in got}) >= 2          # side by side, not one after the other
    inner = []                  # spreading from inside the pool's threads would wait for ever on a full pool
    nested = threading.Thread(target=lambda: inner.extend(each(lambda k: each(slow_square, range(k)), [2, 3, 4])),
                              daemon=True)
    nested.start()
    nested.join(30)
    assert [[value for value, _ in values] for values in inner] == [[0, 1], [0, 1, 4], [0, 1, 4, 9]]


def test_a_deadline_holds_in_the_work_spread_over_cores():
    import time

    from neuralab.core import deadline
    from neuralab.core.parallel import each

    with deadline.within(0.0):
        time.sleep(0.01)
        with pytest.raises(deadline.TooSlow):
            each(lambda _: deadline.check("page.jpg"), range(4))
