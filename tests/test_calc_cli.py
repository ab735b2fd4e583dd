"""calc CLI: the quick paths of train, eval and predict on tiny fake MNIST, and every bad input
the issue lists (one line, exit 2)."""

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neuralab.calc.config import ADDED, TOUCH_PER_SECOND, CalcConfig, from_flags, resolve
from neuralab.calc.data import Bank
from neuralab.calc.train import train as calc_train
from neuralab.core.errors import UserError
from neuralab.core.mnist import load
from neuralab.core.runs import Run, config_from, save_checkpoint

from .helpers import run_cli


@pytest.fixture(scope="module")
def fake_mnist(tmp_path_factory) -> Path:
    """A Keras-layout npz of the right shapes: each digit a fixed random pattern plus noise."""
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 200, (10, 28, 28), dtype=np.uint8)
    noise = rng.integers(0, 50, (1000, 28, 28), dtype=np.uint8)

    def split(n):
        y = rng.integers(0, 10, n)
        return protos[y] + noise[np.arange(n) % 1000], y

    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    (x_tr, y_tr), (x_te, y_te) = split(60000), split(10000)
    np.savez(path, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    return path


TINY = ["--digits", "2", "--train-size", "64", "--warmup", "64", "--epochs", "1", "--test-count", "40"]


def train(fake_mnist, tmp_path, *extra):
    result = run_cli(["calc", "train", *TINY, *extra, "--out", str(tmp_path / "runs"), "--data-dir", str(fake_mnist)])
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def symbolic(fake_mnist, tmp_path_factory):
    result = train(fake_mnist, tmp_path_factory.mktemp("sym"))
    return Path(result.stdout.strip().splitlines()[-1]), result


def test_train_prints_checkpoint_and_eval_reproduces_its_figure(symbolic, fake_mnist):
    checkpoint, result = symbolic
    assert checkpoint.is_file() and checkpoint.suffix == ".safetensors"
    run_dir = Path(result.stdout.splitlines()[-2].split(" ", 1)[1])
    printed = Run(run_dir).result["test"]
    ev = run_cli(["calc", "eval", "--checkpoint", str(checkpoint), "--count", "40", "--json",
                  "--data-dir", str(fake_mnist)])
    assert ev.exit_code == 0, ev.stderr
    figures = json.loads(ev.stdout)
    for key in ("exact_sum_accuracy", "char_accuracy", "digit_accuracy", "count"):
        assert figures[key] == printed[key]
    assert figures["count"] == 40


def test_an_interrupted_run_is_never_reused_and_resume_ends_as_an_uninterrupted_run(fake_mnist, tmp_path, monkeypatch):
    from neuralab.calc.config import KIND
    from neuralab.calc.models import SymbolicCalc
    from neuralab.core.runs import find_reusable

    clean = Run(Path(train(fake_mnist, tmp_path / "clean").stdout.splitlines()[-2].split(" ", 1)[1]))
    real_loss, calls = SymbolicCalc.loss, []

    def interrupted_in_epoch_2(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:              # one step per epoch: the warm-up's, then this one
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(SymbolicCalc, "loss", interrupted_in_epoch_2)
    broken = run_cli(["calc", "train", *TINY, "--out", str(tmp_path / "runs"), "--data-dir", str(fake_mnist)])
    assert broken.exit_code == 130 and "interrupted" in broken.stderr
    (run_dir,) = (tmp_path / "runs" / "calc").iterdir()
    assert not (run_dir / "result.json").exists() and (run_dir / "last.safetensors").is_file()
    config = resolve(CalcConfig(**{k: v for k, v in Run(run_dir).config.items() if k in CalcConfig.__dataclass_fields__}), None)
    assert find_reusable(tmp_path / "runs", KIND, config, data_sha256=load(fake_mnist).sha256) is None

    monkeypatch.setattr(SymbolicCalc, "loss", real_loss)
    resumed = run_cli(["calc", "train", "--resume", str(run_dir), "--data-dir", str(fake_mnist)])
    assert resumed.exit_code == 0, resumed.stderr
    test, reference = Run(run_dir).result["test"], clean.result["test"]
    for key in ("exact_sum_accuracy", "char_accuracy", "digit_accuracy", "count"):
        assert test[key] == reference[key]
    assert [m["train_loss"] for m in Run(run_dir).metrics()] == [m["train_loss"] for m in clean.metrics()]
    again = run_cli(["calc", "train", "--resume", str(run_dir), "--data-dir", str(fake_mnist)])
    assert again.exit_code == 2 and "the run has finished" in again.stderr


def test_a_run_on_other_data_is_not_reused(symbolic, fake_mnist, tmp_path):
    from neuralab.calc.config import KIND, CalcConfig
    from neuralab.core.runs import RUN_KEYS, find_reusable

    checkpoint, _ = symbolic
    saved = Run(checkpoint.parent)
    config = CalcConfig(**{k: v for k, v in saved.config.items() if k not in RUN_KEYS})
    assert find_reusable(checkpoint.parent.parent.parent, KIND, config, data_sha256=saved.config["data_sha256"]).path == saved.path
    assert find_reusable(checkpoint.parent.parent.parent, KIND, config, data_sha256="0" * 64) is None


SIDECAR_EDITS = {
    "an extra config field": lambda m: m["config"].update(colour="blue"),
    "no config": lambda m: m.pop("config"),
    "config null": lambda m: m.update(config=None),
    "digits deleted": lambda m: m["config"].pop("digits"),
    "digits a word": lambda m: m["config"].update(digits="five"),
    "views 0": lambda m: m["config"].update(views=0),
    "an unknown reader": lambda m: m["config"].update(reader="resnet"),
    "a list for a sidecar": lambda m: [m.clear(), m.update(__list__=True)],
    "a negative step": lambda m: m.update(step=-3),
}


@pytest.mark.parametrize("edit", SIDECAR_EDITS, ids=list(SIDECAR_EDITS))
def test_an_edited_sidecar_is_refused_in_one_line(symbolic, fake_mnist, tmp_path, edit):
    checkpoint, _ = symbolic
    copy = tmp_path / "c.safetensors"
    copy.write_bytes(checkpoint.read_bytes())
    meta = json.loads(checkpoint.with_suffix(".json").read_text())
    SIDECAR_EDITS[edit](meta)
    copy.with_suffix(".json").write_text("[1, 2, 3]" if meta.get("__list__") else json.dumps(meta))
    for command in (["eval", "--count", "5"], ["predict", "--compose", "12+3"]):
        result = run_cli(["calc", *command, "--checkpoint", str(copy), "--data-dir", str(fake_mnist)])
        assert result.exit_code == 2 and result.stderr.startswith("error: ") and str(copy.with_suffix("")) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_dry_run_trains_a_few_sums_and_finishes_the_run(fake_mnist, tmp_path):
    result = run_cli(["calc", "train", "--dry-run", "--out", str(tmp_path), "--data-dir", str(fake_mnist)])
    assert result.exit_code == 0, result.stderr
    (run_dir,) = (tmp_path / "calc").iterdir()
    done = Run(run_dir)
    assert done.result["test"]["count"] == 4 and [m["train_steps"] for m in done.metrics()] == [2, 2]


def test_scoring_on_other_data_than_the_training_data_warns(symbolic, fake_mnist, tmp_path):
    with np.load(fake_mnist) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["y_test"] = (arrays["y_test"] + 1) % 10                 # the same images, other labels
    np.savez(tmp_path / "mnist.npz", **arrays)
    args = ["calc", "eval", "--checkpoint", str(symbolic[0]), "--count", "5", "--json"]
    same = run_cli([*args, "--data-dir", str(fake_mnist)])
    other = run_cli([*args, "--data-dir", str(tmp_path / "mnist.npz")])
    assert same.exit_code == other.exit_code == 0
    assert json.loads(same.stdout)["same_mnist_as_training"] and "other MNIST data" not in same.stderr
    assert not json.loads(other.stdout)["same_mnist_as_training"] and "trained on other MNIST data" in other.stderr


def test_keep_last_scores_and_prints_the_final_epoch(fake_mnist, tmp_path):
    result = train(fake_mnist, tmp_path, "--epochs", "2", "--keep", "last")
    checkpoint = Path(result.stdout.strip().splitlines()[-1])
    assert checkpoint.name == "last.safetensors"
    assert json.loads(checkpoint.with_suffix(".json").read_text())["step"] == 3     # warm-up epoch + 2
    assert Run(checkpoint.parent).result["checkpoint"] == str(checkpoint)


def test_symbolic_checkpoint_reads_other_layouts(symbolic, fake_mnist):
    ev = run_cli(["calc", "eval", "--checkpoint", str(symbolic[0]), "--format", "fixed", "--digits", "3", "--json",
                  "--data-dir", str(fake_mnist)])
    assert ev.exit_code == 0, ev.stderr
    assert json.loads(ev.stdout)["count"] == 10000 // 6          # the protocol: floor(10000 / 2N)


def test_predict_compose_json_and_show(symbolic, fake_mnist, tmp_path):
    png = tmp_path / "out.png"
    res = run_cli(["calc", "predict", "--checkpoint", str(symbolic[0]), "--compose", "294+61+7", "--json",
                   "--show", str(png), "--data-dir", str(fake_mnist)])
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out["numbers"]) == 3 and out["running"] == np.cumsum(out["numbers"]).tolist()
    assert out["sum"] == out["running"][-1]
    assert Image.open(png).size[0] > 100


def test_predict_reads_strip_images_and_folders(symbolic, tmp_path):
    from .test_segment import glyph

    # the fake-MNIST model reads no real digits: this checks what is found and how it is reported;
    # test_calc_pictures checks the readings themselves with a model that reads
    inked = [g[:, g.any(0)] for g in (glyph(4), glyph(7))]               # cropped to their ink columns
    strip = np.concatenate([np.pad(inked[0], ((8, 8), (8, 4))), np.pad(inked[1], ((8, 8), (0, 8)))], 1)
    Image.fromarray(255 - strip).save(tmp_path / "a.png")
    folder = tmp_path / "b"
    folder.mkdir()
    Image.fromarray(np.pad(glyph(3), 6)).save(folder / "0.png")
    args = ["calc", "predict", "--checkpoint", str(symbolic[0]), str(tmp_path / "a.png"), str(folder), "--json"]
    refused = run_cli(args)                                  # the fake model trusts none of its readings
    assert refused.exit_code == 2 and "not digits the reader trusts" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and refused.stdout == ""
    res = run_cli(args + ["--doubt", "0"])
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert [len(r["digits"]) for r in out["read"]] == [2, 1]
    assert out["numbers"] == [int(r["reading"]) for r in out["read"]]
    assert out["running"] == [out["numbers"][0], sum(out["numbers"])] and out["sum"] == sum(out["numbers"])
    assert [r["source"] for r in out["read"]] == [str(tmp_path / "a.png"), str(folder)]
    assert out["read"][0]["digits"][0]["box"][0] < out["read"][0]["digits"][1]["box"][0]   # left to right
    assert out["read"][1]["digits"][0]["box"] is None                                      # folders have no boxes


def test_seed_model_quick_path_and_its_limits(fake_mnist, tmp_path):
    result = train(fake_mnist, tmp_path, "--model", "seed")
    checkpoint = result.stdout.strip().splitlines()[-1]
    res = run_cli(["calc", "predict", "--checkpoint", checkpoint, "--compose", "12+3", "--json",
                   "--data-dir", str(fake_mnist)])
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["numbers"] is None
    too_long = run_cli(["calc", "predict", "--checkpoint", checkpoint, "--compose", "123+4", "--data-dir", str(fake_mnist)])
    assert too_long.exit_code == 2 and "digits" in too_long.stderr


def test_bad_inputs_give_one_line_and_exit_2(symbolic, fake_mnist, tmp_path):
    ckpt = str(symbolic[0])
    not_image = tmp_path / "x.png"
    not_image.write_text("hello")
    empty = tmp_path / "empty"
    empty.mkdir()
    other = save_checkpoint(tmp_path / "other", torch.nn.Linear(2, 2), kind="depth", config={})
    cases = [
        ["calc", "predict", "--checkpoint", ckpt, str(not_image)],
        ["calc", "predict", "--checkpoint", ckpt, str(empty)],
        ["calc", "predict", "--checkpoint", ckpt, "--compose", "29++1", "--data-dir", str(fake_mnist)],
        ["calc", "predict", "--checkpoint", ckpt],
        ["calc", "predict", "--checkpoint", str(other), "--compose", "1+2"],
        ["calc", "eval", "--checkpoint", str(tmp_path / "missing.safetensors")],
        ["calc", "train", "--format", "roman"],
        ["calc", "train", "--digits", "0"],
        ["calc", "train", "--supervise", "running"],
        ["calc", "train", "--keep", "newest"],
        ["calc", "train", "--digits", "9", "--operands", "5"],
        ["calc", "eval", "--checkpoint", ckpt, "--count", "0"],
        ["calc", "eval", "--checkpoint", ckpt, "--count", "100000000", "--data-dir", str(fake_mnist)],
        ["calc", "eval", "--checkpoint", ckpt, "--format", "fixed", "--digits", "1000", "--count", "100000",
         "--data-dir", str(fake_mnist)],
        ["calc", "eval", "--checkpoint", ckpt, "--seed", "-30000"],
        ["calc", "train", "--seed", "-1", "--out", str(tmp_path / "r")],
        ["calc", "train", "--max-seconds", "-1", "--out", str(tmp_path / "r")],
        ["calc", "train", "--max-seconds", "1e9", "--out", str(tmp_path / "r")],
        ["calc", "train", "--profile", "huge", "--out", str(tmp_path / "r")],
        ["calc", "train", "--seed", "99999999999999999999", "--out", str(tmp_path / "r")],
        ["calc", "train", "--test-count", "1000000000000", "--out", str(tmp_path / "r")],
        ["calc", "train", "--test-count", "0", "--out", str(tmp_path / "r")],
        ["calc", "train", "--format", "fixed", "--digits", "1", "--train-size", "500", "--out", str(tmp_path / "r")],
        ["calc", "predict", "--checkpoint", ckpt, "--compose", "9" * 5000 + "+1", "--data-dir", str(fake_mnist)],
        ["calc", "predict", "--checkpoint", ckpt, "--compose", "\u0661+\u0662", "--data-dir", str(fake_mnist)],
        ["calc", "predict", "--checkpoint", ckpt, "--compose", "1+2", "--show", str(empty) + ".png/x.png",
         "--data-dir", str(fake_mnist)],
    ]
    (tmp_path / "empty.png").write_text("a file where a folder is needed")
    for args in cases:
        res = run_cli(args)
        assert res.exit_code == 2, (args, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, res.stderr)
    assert not (tmp_path / "r").exists()   # a refused training run leaves no folder


def test_short_starts_go_on_from_the_lowest_training_loss(fake_mnist, tmp_path):
    config = CalcConfig(format="fixed", digits=2, warmup=0, epochs=50, batch_size=8, val_size=10, test_count=20,
                        keep="last", views=1, max_seconds=8, starts=3, start_seconds=1.5, touch=0)
    run, _, test, _ = calc_train(config, tmp_path, data_dir=fake_mnist, device="cpu")
    metrics = run.metrics()
    last_loss = {m["stage"]: m["train_loss"] for m in metrics if m.get("stage", "").startswith("start")}
    assert sorted(last_loss) == ["start1", "start2", "start3"]
    kept = next(m for m in metrics if "start_kept" in m)
    assert f"start{kept['start_kept']}" == min(last_loss, key=last_loss.get)
    assert any("epoch" in m and "stage" not in m for m in metrics)      # the kept start went on
    assert test["train_seconds"] <= 8 + 2                                # the starts are inside the budget


@pytest.mark.parametrize("starts, start_seconds, max_seconds", [(2, 0, 60), (3, 20, 60), (2, 10, 0), (99, 1, 600)])
def test_short_starts_that_do_not_fit_their_budget_are_refused(starts, start_seconds, max_seconds):
    with pytest.raises(UserError, match="--start"):
        CalcConfig(format="fixed", digits=2, starts=starts, start_seconds=start_seconds, max_seconds=max_seconds)


def test_a_checkpoint_saved_before_short_starts_holdouts_and_averages_existed_still_loads():
    older = {k: v for k, v in asdict(CalcConfig()).items() if k not in ADDED}
    loaded = config_from(older, CalcConfig, "old.safetensors", ADDED)
    assert (loaded.starts, loaded.holdout, loaded.ema, loaded.distort, loaded.touch) == (1, 0, 0.0, 1.0, 0)
    with pytest.raises(UserError, match="lacks distort, ema, holdout, start_seconds, starts, touch"):
        config_from(older, CalcConfig, "old.safetensors")


def test_held_out_images_are_never_in_the_training_bank_and_make_the_validation_bank(fake_mnist):
    data = load(fake_mnist)
    train_bank, val_bank = Bank.train_and_val(data, "noise", holdout=5000)
    assert train_bank.n_digits == 55000 and val_bank.n_digits == 5000
    np.testing.assert_array_equal(train_bank.images[:55000], data.x_train[:55000])
    np.testing.assert_array_equal(val_bank.images[:5000], data.x_train[55000:])
    np.testing.assert_array_equal(val_bank.labels, data.y_train[55000:])
    whole, same = Bank.train_and_val(data, "noise", holdout=0)
    assert whole is same and whole.n_digits == 60000
    with pytest.raises(UserError, match="--holdout"):
        Bank.train_and_val(data, "noise", holdout=30001)
    with pytest.raises(UserError, match="--holdout"):
        CalcConfig(holdout=-1)


def test_a_run_with_a_holdout_trains_on_the_rest_and_saves_it_in_its_config(fake_mnist, tmp_path):
    config = CalcConfig(format="fixed", digits=25, warmup=0, epochs=1, batch_size=60, val_size=2, test_count=2,
                        keep="last", views=1, reader="lenet", holdout=30000, touch=0)
    run, checkpoint, _, _ = calc_train(config, tmp_path, data_dir=fake_mnist, device="cpu")
    epochs = [m for m in run.metrics() if "epoch" in m]
    assert [m["train_steps"] for m in epochs] == [10]      # the 30,000 kept images once: 600 sums of 50, 60 a step
    assert json.loads(checkpoint.with_suffix(".json").read_text())["config"]["holdout"] == 30000


@pytest.mark.parametrize("field, value, flag", [("weight_decay", -1.0, "--weight-decay"), ("weight_decay", 5.0, "--weight-decay"),
                                                 ("lr", 0.0, "--lr"), ("lr", 1e308, "--lr"), ("clip_norm", 0.0, "--clip-norm"),
                                                 ("touch", -1, "--touch"), ("touch", 10**9, "--touch")])
def test_numbers_out_of_range_are_refused_naming_their_flag(field, value, flag):
    with pytest.raises(UserError, match=f"^{flag}: "):
        CalcConfig(format="fixed", digits=2, **{field: value})


def test_a_budgeted_run_gives_the_one_digit_judge_a_share_of_its_budget_unless_told():
    assert resolve(CalcConfig(max_seconds=129), "budget").touch == 129 * TOUCH_PER_SECOND
    assert resolve(CalcConfig(max_seconds=0), "full").touch == CalcConfig.touch
    assert from_flags(CalcConfig(max_seconds=129), "budget", {"touch": 500}).touch == 500
