"""The hostile and careless inputs that `bench/abuse.py` tries on the `neuralab` command: the files
(picture bombs, broken GIFs and checkpoints, hostile MNIST files, paths that are not files) and the
command lines that use them, one row each. Every row must be refused with one line and exit code 2.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from neuralab.calc.config import KIND as CALC, CalcConfig
from neuralab.calc.models import SymbolicCalc
from neuralab.caption.config import KIND as CAPTION, make_config
from neuralab.caption.model import build_model
from neuralab.core.runs import save_checkpoint


def calc_checkpoint(root: Path) -> str:
    """An untrained calc checkpoint as a served one is made: the default config, one-digit judge and all."""
    return str(save_checkpoint(root / "calc", SymbolicCalc(CalcConfig().layout, touch=True), kind=CALC, config=CalcConfig()))


def files(root: Path) -> dict[str, str]:
    """The hostile files and two untrained checkpoints the rows use."""
    torch.manual_seed(0)
    out = {}
    out["calc"] = calc_checkpoint(root)
    config = make_config("dry-run")
    out["caption"] = str(save_checkpoint(root / "caption", build_model(config), kind=CAPTION, config=config))
    Image.new("1", (20000, 20000)).save(root / "bomb.png")                           # 48 kB, 400 Mpx
    Image.new("L", (9000, 9000)).save(root / "big.png")
    frames = [Image.fromarray(np.full((64, 64, 3), 200 * (t == 0), np.uint8)) for t in range(10)]
    frames[0].save(root / "clip.gif", format="GIF", save_all=True, append_images=frames[1:])
    data = bytearray((root / "clip.gif").read_bytes())
    data[6:10] = (20000).to_bytes(2, "little") * 2                                   # header says 20000 x 20000
    (root / "bomb.gif").write_bytes(bytes(data))
    (root / "cut.gif").write_bytes(bytes((root / "clip.gif").read_bytes()[:300]))
    tiny = [Image.new("RGB", (1, 1), (t % 250, 0, 0)) for t in range(20000)]
    tiny[0].save(root / "frames.gif", format="GIF", save_all=True, append_images=tiny[1:])
    (root / "a-file").write_text("not a folder")
    (root / "key.json").write_text(json.dumps({"answers": {"1.final.w0": "0.6"}, "tolerance": {"rtol": 1e-6, "atol": 1e-6}}))
    (root / "answers-big.csv").write_text("1.final.w0,0.6\n" * 150_000)                # 2.2 MB
    (root / "dir.png").mkdir()
    unreadable(root)
    out.update({k: str(root / v) for k, v in (("bomb_png", "bomb.png"), ("big_png", "big.png"), ("bomb_gif", "bomb.gif"),
                                               ("cut_gif", "cut.gif"), ("frames_gif", "frames.gif"),
                                               ("file", "a-file"), ("dir_png", "dir.png"), ("key", "key.json"),
                                               ("answers_big", "answers-big.csv"))})
    out.update({name: str(root / name) for name in UNREADABLE})
    out.update(second_round(root, out["calc"]))
    return out


def second_round(root: Path, calc: str) -> dict[str, str]:
    """The second hostile-input round's files: broken checkpoints, hostile MNIST files, odd paths."""
    made = {}
    for name, state in (("ck-missing-tensor", {"__tensor__": "state.nope"}), ("ck-dict", {"__dict__": {"a": 1}}),
                        ("ck-unhashable", {"__dict__": [[{"__dict__": []}, 1]]})):
        shutil.copy(calc, root / f"{name}.safetensors")
        meta = json.loads(Path(calc).with_suffix(".json").read_text())
        (root / f"{name}.json").write_text(json.dumps({**meta, "state": state}))
        made[name] = str(root / f"{name}.safetensors")
    model = SymbolicCalc(CalcConfig().layout)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    made["ck-nan"] = str(save_checkpoint(root / "ck-nan", model, kind=CALC, config=CalcConfig()))
    images = {"x_train": np.zeros((60000, 28, 28), np.uint8), "x_test": np.zeros((10000, 28, 28), np.uint8),
              "y_train": np.zeros(60000, np.int64)}
    np.savez_compressed(root / "labels-str.npz", **images, y_test=np.array(["7"] * 10000))
    np.savez_compressed(root / "labels-half.npz", **images, y_test=np.full(10000, 7.5))
    np.savez(root / "bomb.npz", y_train=images["y_train"], x_test=images["x_test"], y_test=np.zeros(10000, np.int64))
    with zipfile.ZipFile(root / "bomb.npz", "a", zipfile.ZIP_DEFLATED) as z:   # every key there; x_train the bomb
        with z.open("x_train.npy", "w", force_zip64=True) as member:
            for _ in range(192):
                member.write(bytes(1 << 24))                                      # 3 GB of zeros, ~3 MB packed
    for folder in ("idx-huge", "idx-gzbomb"):
        (root / folder).mkdir()
    header = (2051).to_bytes(4, "big") + (2 ** 31).to_bytes(4, "big") * 2 + (4).to_bytes(4, "big")
    (root / "idx-huge" / "train-images-idx3-ubyte").write_bytes(header)
    with gzip.open(root / "idx-gzbomb" / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write((2051).to_bytes(4, "big") + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
        for _ in range(192):
            f.write(bytes(1 << 24))
    os.mkfifo(root / "fifo.png")
    os.mkfifo(root / "fifo-data")
    (root / "loop.png").symlink_to(root / "loop.png")
    made |= {k: str(root / v) for k, v in (("labels_str", "labels-str.npz"), ("labels_half", "labels-half.npz"),
                                           ("bomb_npz", "bomb.npz"), ("idx_huge", "idx-huge"), ("idx_gzbomb", "idx-gzbomb"),
                                           ("fifo_png", "fifo.png"), ("fifo_data", "fifo-data"), ("loop_png", "loop.png"))}
    return made


UNREADABLE = {"noise-800x600.png": "800x600 pure noise", "noise-1000.png": "1000x1000 pure noise",
              "blocks-4000.jpg": "4000x4000 JPEG of grey blocks", "blank-paper.jpg": "a photo of blank paper",
              "empty-grid.jpg": "a photo of an empty squared page"}


def unreadable(root: Path) -> None:
    """Pictures with no numbers in them, which must be refused, never summed."""
    from neuralab.calc.pages import PAPER, Page, photograph
    from neuralab.calc.paper import on_paper

    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((600, 800)) * 255).astype(np.uint8)).save(root / "noise-800x600.png")
    Image.fromarray((rng.random((1000, 1000)) * 255).astype(np.uint8)).save(root / "noise-1000.png")
    blocks = rng.integers(0, 256, (80, 80), dtype=np.uint8).repeat(50, 0).repeat(50, 1)
    Image.fromarray(blocks).save(root / "blocks-4000.jpg", quality=85)
    for name, paper in (("blank-paper.jpg", "plain"), ("empty-grid.jpg", "squared")):
        page = Page(np.full((900, 1200), PAPER), [], [[(500, 300, 560, 380)]])
        Image.fromarray(photograph(on_paper(page, rng, paper=paper), rng).image).save(root / name, quality=85)


def cli_rows(f: dict[str, str], scratch: str) -> list[tuple[str, list[str]]]:
    out = ["--out", scratch]
    return [
        ("depth run, 10^22 layers", ["depth", "run", "--depths", "99999999999999999999999", "--activations", "relu",
                                     "--epochs", "1", "--seeds", "1", *out]),
        ("depth run, 10^6 layers", ["depth", "run", "--depths", "1000000", *out]),
        ("depth run, 10^9 seeds", ["depth", "run", "--seeds", "1000000000", *out]),
        ("calc predict, 1-bit 20000x20000 PNG", ["calc", "predict", f["bomb_png"], "--checkpoint", f["calc"]]),
        ("calc predict, 9000x9000 PNG", ["calc", "predict", f["big_png"], "--checkpoint", f["calc"]]),
        ("caption predict, GIF header 20000x20000", ["caption", "predict", f["bomb_gif"], "--checkpoint", f["caption"]]),
        ("caption predict, truncated GIF", ["caption", "predict", f["cut_gif"], "--checkpoint", f["caption"]]),
        ("caption predict, 20,000 1x1 frames", ["caption", "predict", f["frames_gif"], "--checkpoint", f["caption"]]),
        ("filters apply 9000x9000, --size 128", ["filters", "apply", f["big_png"], "--size", "128", "--out", scratch + "/o.png"]),
        ("filters apply 9000x9000, --size 0", ["filters", "apply", f["big_png"], "--size", "0", "--out", scratch + "/o.png"]),
        ("filters apply, --size 100000", ["filters", "apply", f["big_png"], "--size", "100000", "--out", scratch + "/o.png"]),
        ("calc eval fixed, 1000 digits x 100,000", ["calc", "eval", "--checkpoint", f["calc"], "--format", "fixed",
                                                   "--digits", "1000", "--count", "100000"]),
        ("calc eval, 10^8 sums", ["calc", "eval", "--checkpoint", f["calc"], "--count", "100000000"]),
        ("calc predict --compose 5000 nines + 1", ["calc", "predict", "--checkpoint", f["calc"], "--compose", "9" * 5000 + "+1"]),
        ("calc predict --compose Arabic-Indic digits", ["calc", "predict", "--checkpoint", f["calc"], "--compose", "١+٢"]),
        ("calc train --seed -1", ["calc", "train", "--seed", "-1", *out]),
        ("calc train --seed 10^20", ["calc", "train", "--seed", "99999999999999999999", *out]),
        ("caption train --dry-run --seed -1", ["caption", "train", "--dry-run", "--seed", "-1", *out]),
        ("caption predict --seed -1", ["caption", "predict", "--checkpoint", f["caption"], "--seed", "-1"]),
        ("calc eval --seed -30000", ["calc", "eval", "--checkpoint", f["calc"], "--seed", "-30000"]),
        ("backprop --weights 1e308,1e308", ["backprop", "--weights", "1e308,1e308", "--out", scratch + "/bp"]),
        ("backprop --data 1e308,1e308", ["backprop", "--data", "1e308,1e308", "--out", scratch + "/bp"]),
        ("backprop --lr 1e308", ["backprop", "--lr", "1e308", "--out", scratch + "/bp"]),
        ("backprop, 2000 layers", ["backprop", "--activations", ",".join(["relu"] * 2000),
                                   "--weights", ",".join(["1"] * 2000), "--out", scratch + "/bp"]),
        ("calc train --out a file", ["calc", "train", "--out", f["file"]]),
        ("caption train --out a file", ["caption", "train", "--dry-run", "--out", f["file"]]),
        ("depth run --out a file", ["depth", "run", "--depths", "1", "--epochs", "1", "--seeds", "1", "--out", f["file"]]),
        ("calc predict --show a folder", ["calc", "predict", "--checkpoint", f["calc"], "--compose", "1+2",
                                          "--show", f["dir_png"]]),
        ("caption eval --count 10^12", ["caption", "eval", "--checkpoint", f["caption"], "--count", "1000000000000"]),
        ("calc train --test-count 10^12", ["calc", "train", "--test-count", "1000000000000", *out]),
        ("calc eval --digits 0", ["calc", "eval", "--checkpoint", f["calc"], "--digits", "0"]),
        ("serve --port 70000", ["serve", "--port", "70000", "--checkpoint", f["calc"]]),
        *((f"calc predict, {what}", ["calc", "predict", f[name], "--checkpoint", f["calc"]])
          for name, what in UNREADABLE.items()),
        *((f"calc predict, sidecar {what}", ["calc", "predict", "--compose", "1+2", "--checkpoint", f[name]])
          for name, what in (("ck-missing-tensor", "names a missing tensor"), ("ck-dict", "dict for a list"),
                             ("ck-unhashable", "unhashable key"))),
        ("calc predict --json, NaN weights", ["calc", "predict", "--compose", "1+2", "--json", "--checkpoint", f["ck-nan"]]),
        ("data info, string labels", ["data", "info", "--data-dir", f["labels_str"]]),
        ("data info, labels 7.5", ["data", "info", "--data-dir", f["labels_half"]]),
        ("data info, IDX header 2^31 x 2^31 x 4", ["data", "info", "--data-dir", f["idx_huge"]]),
        ("data info, 3 GB zip bomb npz", ["data", "info", "--data-dir", f["bomb_npz"]]),
        ("data info, 3 GB gzip bomb IDX", ["data", "info", "--data-dir", f["idx_gzbomb"]]),
        ("data info, a FIFO as --data-dir", ["data", "info", "--data-dir", f["fifo_data"]]),
        ("backprop --out /proc/x", ["backprop", "--out", "/proc/x"]),
        ("backprop --out file/sub", ["backprop", "--out", f["file"] + "/sub"]),
        ("caption predict --beam 10^9", ["caption", "predict", str(Path(f["bomb_gif"]).with_name("clip.gif")),
                                         "--checkpoint", f["caption"], "--beam", "1000000000"]),
        ("report --runs /proc/x", ["report", "--parts", "backprop,filters", "--runs", "/proc/x", *out]),
        ("calc predict, a FIFO", ["calc", "predict", f["fifo_png"], "--checkpoint", f["calc"]]),
        ("calc predict, /dev/zero", ["calc", "predict", "/dev/zero", "--checkpoint", f["calc"]]),
        ("calc predict, a symlink loop", ["calc", "predict", f["loop_png"], "--checkpoint", f["calc"]]),
        ("calc predict, a name with a newline", ["calc", "predict", scratch + "/a\nb.png", "--checkpoint", f["calc"]]),
        ("filters apply 3 pictures --out /proc/x", ["filters", "apply", f["big_png"], f["big_png"], f["big_png"],
                                                    "--out", "/proc/x"]),
        ("backprop --layers 6,6,6,6,6 (144 weights)", ["backprop", "--layers", "6,6,6,6,6", "--activations",
                                                       "relu,relu,relu,linear", "--weights", ",".join(["1"] * 144),
                                                       "--out", scratch + "/bp"]),
        ("exercise backprop --count 10^9", ["exercise", "backprop", "--count", "1000000000", "--out", scratch + "/ex"]),
        ("exercise filters --count -1", ["exercise", "filters", "--count", "-1", "--out", scratch + "/ex"]),
        ("exercise backprop --out /proc/x", ["exercise", "backprop", "--count", "1", "--out", "/proc/x"]),
        ("exercise grade --key /dev/zero", ["exercise", "grade", "--key", "/dev/zero", f["key"]]),
        ("exercise grade, answers a FIFO", ["exercise", "grade", "--key", f["key"], f["fifo_png"]]),
        ("exercise grade, a 9000x9000 PNG as answers", ["exercise", "grade", "--key", f["key"], f["big_png"]]),
        ("exercise grade, 2 MB of answers", ["exercise", "grade", "--key", f["key"], f["answers_big"]]),
    ]
