"""`neuralab depth run` and `neuralab calc train` run unchanged under torchrun with 2 CPU processes
(gloo) and write one run folder, from rank 0. The depth run ends with the figures of a 1-process
run within the stated tolerance (dropout draws differ per rank, so equality is statistical: 0.02;
tests/test_dist.py shows exact agreement without dropout)."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from .helpers import run_cli

TOLERANCE = 0.02


@pytest.fixture(scope="module")
def easy_mnist(tmp_path_factory):
    """A full-size Keras-layout npz whose 'digit' is a bright bar at row 2*label: learnable in one epoch."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 60000), ("test", 10000)):
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        x[np.arange(n), 2 * y + 4, 4:24] = 255
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y.astype(np.int64)
    path = tmp_path_factory.mktemp("easy") / "mnist.npz"
    np.savez(path, **arrays)
    return path


def neuralab(args, nproc, cwd, env):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                "-m", "neuralab"] if nproc > 1 else [sys.executable, "-m", "neuralab"]
    result = subprocess.run(launcher + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture
def env(easy_mnist, tmp_path):
    return {**os.environ, "OMP_NUM_THREADS": "1", "NEURALAB_HOME": str(tmp_path / "home")}


def test_depth_run_under_torchrun_matches_one_process(tmp_path, easy_mnist, env):
    args = ["depth", "run", "--depths", "1", "--activations", "relu", "--epochs", "1", "--seeds", "1",
            "--data-dir", str(easy_mnist), "--device", "cpu"]
    accs = []
    for nproc in (1, 2):
        out = tmp_path / f"p{nproc}"
        neuralab(args + ["--out", str(out)], nproc, tmp_path, env)
        runs = [p for p in (out / "depth").iterdir() if p.is_dir()]
        assert len(runs) == 1  # rank 1 created no run folder of its own
        with open(out / "depth" / "summary.csv") as f:
            accs.append(float(next(csv.DictReader(f))["test_accuracy"]))
    assert accs[0] > 0.9 and abs(accs[0] - accs[1]) <= TOLERANCE


def test_calc_train_runs_unchanged_under_torchrun(tmp_path, easy_mnist, env):
    args = ["calc", "train", "--format", "expression", "--digits", "1", "--epochs", "1", "--warmup", "0",
            "--train-size", "512", "--test-count", "200", "--data-dir", str(easy_mnist), "--device", "cpu",
            "--out", str(tmp_path / "c2")]
    result = neuralab(args, 2, tmp_path, env)
    runs = [p for p in (tmp_path / "c2" / "calc").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "best.safetensors").is_file()
    assert result.stdout.strip().splitlines()[-1] == str(runs[0] / "best.safetensors")
    test = json.loads((runs[0] / "result.json").read_text())["test"]
    evaluated = run_cli(["calc", "eval", "--checkpoint", str(runs[0] / "best.safetensors"), "--count", "200",
                         "--json", "--data-dir", str(easy_mnist), "--device", "cpu"])
    assert evaluated.exit_code == 0, evaluated.stderr
    figures = json.loads(evaluated.stdout)   # one process reads what two saved, and scores it alike
    assert test["count"] == 200 and figures["exact_sum_accuracy"] == test["exact_sum_accuracy"]
