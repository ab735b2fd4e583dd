"""Caption part through the CLI: the dry-run training, eval and predict paths on fake MNIST, and
bad input giving one line and exit code 2."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralab.caption.clips import DigitSource, make_clip
from neuralab.caption.gif import read_gif, write_gif
from tests.helpers import run_cli
from tests.test_caption import fake_mnist


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A dry-run checkpoint trained on fake MNIST, the npz it came from, and a 64x64 clip GIF."""
    root = tmp_path_factory.mktemp("caption")
    data = fake_mnist()
    npz = root / "mnist.npz"
    np.savez(npz, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
    result = run_cli(["caption", "train", "--dry-run", "--out", str(root / "runs"), "--data-dir", str(npz),
                      "--device", "cpu"])
    assert result.exit_code == 0, result.stderr
    checkpoint = next(line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("checkpoint"))
    clip = make_clip(DigitSource(data), "test", "random", 0, 0)
    gif = write_gif(root / "clip.gif", clip.frames)
    return {"root": root, "npz": str(npz), "checkpoint": checkpoint, "gif": str(gif), "clip": clip,
            "stdout": result.stdout}


def test_train_dry_run_reports_the_test_figures(trained):
    assert "exact match" in trained["stdout"] and "BLEU-4" in trained["stdout"]
    assert (trained["root"] / "runs" / "caption").is_dir()


def test_resume_finishes_an_interrupted_run_and_refuses_a_finished_one(trained, tmp_path, monkeypatch):
    from neuralab.caption import train

    finished = next((trained["root"] / "runs" / "caption").iterdir())
    refused = run_cli(["caption", "train", "--resume", str(finished), "--data-dir", trained["npz"]])
    assert refused.exit_code == 2 and "the run has finished" in refused.stderr

    flags = ["caption", "train", "--dry-run", "--out", str(tmp_path), "--data-dir", trained["npz"], "--device", "cpu"]
    real_evaluate = train.evaluate_split
    monkeypatch.setattr(train, "evaluate_split", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
                        if a[3] == "test" else real_evaluate(*a, **k))   # Ctrl-C after the last epoch
    assert run_cli(flags).exit_code == 130
    (run_dir,) = (tmp_path / "caption").iterdir()
    assert not (run_dir / "result.json").exists()
    monkeypatch.setattr(train, "evaluate_split", real_evaluate)
    result = run_cli(["caption", "train", "--resume", str(run_dir), "--data-dir", trained["npz"]])
    assert result.exit_code == 0, result.stderr
    assert f"run {run_dir}" in result.stdout and "exact match" in result.stdout


def test_eval_json_has_the_four_figures(trained):
    result = run_cli(["caption", "eval", "--checkpoint", trained["checkpoint"], "--count", "5", "--json",
                      "--data-dir", trained["npz"]])
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert {"exact_match", "word_accuracy", "bleu4", "count"} <= set(figures) and figures["count"] == 5
    assert figures["exact_match"] <= figures["word_accuracy"]   # an exact caption has every word right


def test_predict_a_generated_clip_and_show_it(trained, tmp_path):
    shown = tmp_path / "shown.gif"
    result = run_cli(["caption", "predict", "--checkpoint", trained["checkpoint"], "--seed", "3", "--show",
                      str(shown), "--json", "--data-dir", trained["npz"]])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["frames"] == 10 and len(out["reference"].split()) in (5, 9)   # the grammar's two lengths
    with Image.open(shown) as image:
        assert image.format == "GIF" and image.n_frames == 10
        assert image.width == 256 and image.height > 256   # 4x frames with the caption strip below


def test_predict_a_gif_file(trained):
    frames = trained["clip"].frames                                     # (T, 64, 64, 3) uint8
    assert max(len(np.unique(f.reshape(-1, 3), axis=0)) for f in frames) <= 256
    assert np.array_equal(read_gif(trained["gif"]), frames)   # a frame of <= 256 colours fits a GIF palette exactly
    result = run_cli(["caption", "predict", trained["gif"], "--checkpoint", trained["checkpoint"], "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["reference"] is None


def _bad_gif(path, size=64, frames=10, value=200):
    images = [Image.fromarray(np.full((size, size, 3), value if t == 0 else 0, np.uint8)) for t in range(frames)]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=100)
    return str(path)


@pytest.mark.parametrize("case", ["not_gif", "empty_file", "wrong_size", "black", "few_frames", "both", "kind",
                                  "header_bomb", "truncated", "too_many_frames", "thousands_of_tiny_frames",
                                  "negative_seed"])
def test_bad_input_gives_one_line_and_exit_2(trained, tmp_path, case):
    args = ["caption", "predict", "--checkpoint", trained["checkpoint"]]
    if case == "not_gif":
        Image.new("RGB", (64, 64)).save(tmp_path / "frame.png")
        args.append(str(tmp_path / "frame.png"))
    elif case == "empty_file":
        (tmp_path / "empty.gif").write_bytes(b"")
        args.append(str(tmp_path / "empty.gif"))
    elif case == "wrong_size":
        args.append(_bad_gif(tmp_path / "small.gif", size=32))
    elif case == "black":
        args.append(_bad_gif(tmp_path / "black.gif", value=0))
    elif case == "few_frames":
        args.append(_bad_gif(tmp_path / "short.gif", frames=3))
    elif case == "both":
        args += [trained["gif"], "--seed", "1"]
    elif case == "header_bomb":             # the screen descriptor says 20000 x 20000
        data = bytearray(Path(_bad_gif(tmp_path / "b.gif")).read_bytes())
        data[6:10] = (20000).to_bytes(2, "little") * 2
        (tmp_path / "bomb.gif").write_bytes(bytes(data))
        args.append(str(tmp_path / "bomb.gif"))
    elif case == "truncated":
        data = Path(trained["gif"]).read_bytes()
        (tmp_path / "cut.gif").write_bytes(data[:len(data) // 2])
        args.append(str(tmp_path / "cut.gif"))
    elif case == "too_many_frames":
        args.append(_bad_gif(tmp_path / "long.gif", frames=25))
    elif case == "thousands_of_tiny_frames":
        args.append(_bad_gif(tmp_path / "tiny.gif", size=1, frames=5000))
    elif case == "negative_seed":
        args += ["--seed", "-1"]
    elif case == "kind":
        other = tmp_path / "other.safetensors"
        other.write_bytes(b"")
        (tmp_path / "other.json").write_text(json.dumps({"kind": "depth", "version": "0.1.0"}))
        args = ["caption", "predict", trained["gif"], "--checkpoint", str(other)]
    result = run_cli(args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("extra", [["--count", "0"], ["--count", "1000000000000"], ["--split", "compositional"],
                                   ["--split", "diagonal"], ["--beam", "1000000000"], ["--beam", "0"]])
def test_bad_eval_flags_exit_2(trained, extra):
    result = run_cli(["caption", "eval", "--checkpoint", trained["checkpoint"], "--data-dir", trained["npz"], *extra])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    if extra[0] == "--beam":
        assert "--beam must be between 1 and 29 (the vocabulary's size)" in result.stderr


def test_unknown_profile_exits_2(tmp_path):
    result = run_cli(["caption", "train", "--profile", "huge", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--profile" in result.stderr
