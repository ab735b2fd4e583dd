"""What the held-out readings miss: several calc readers, each learned from sums with the same
`--holdout`, read every held-out MNIST-train image alone and together (the mean of their
log-probabilities, as the reader's own views are combined), and the images that the readers
together misread are listed and drawn, to be looked at.

    python bench/calc_misread.py RUN0/last.safetensors RUN1/last.safetensors RUN2/last.safetensors \
        --json src/neuralab/results/calc/misread-NAME.json --png docs/misread-NAME.png

Only validation images are read (the runs never trained on them); no MNIST-test digit is read here.
Each reader reads with its own views, as `calc_nesy.py`'s held-out reading does.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from matplotlib.figure import Figure

from neuralab.calc.data import Bank
from neuralab.calc.evaluate import load_model
from neuralab.calc.metrics import read_images
from neuralab.calc.reading import digit_view
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json, save_figure
from neuralab.core.provenance import provenance

MAX_READERS = 16   # each reads 5,000 images in 5 views: 16 is about a minute on 2 cores
MAX_DRAWN = 40     # misread images kept (pixels included) and drawn; more would not be looked at one by one


@torch.no_grad()
def readings(checkpoints: list[str]) -> tuple[list[dict], torch.Tensor, np.ndarray, np.ndarray, int]:
    """Each reader's log-probs (len(readers), n, classes) of the held-out images, their labels (n,),
    the images (n, 28, 28) uint8 and the MNIST-train index of the first of them."""
    models = [(checkpoint, *load_model(checkpoint, "cpu")[:2]) for checkpoint in checkpoints]
    holdout = models[0][2].holdout
    for checkpoint, _, config in models:     # every reader is checked before any image is read
        if not config.holdout:
            raise UserError(f"{checkpoint}: trained on every MNIST-train image (holdout 0): no held-out image to read")
        if config.holdout != holdout:
            raise UserError(f"{checkpoint}: held out {config.holdout:,} images, {checkpoints[0]} {holdout:,}")
    _, bank = Bank.train_and_val(mnist.load(), models[0][2].specials, holdout)
    readers, log_probs = [], []
    for checkpoint, model, config in models:
        log_probs.append(digit_view(read_images(model, bank, np.arange(bank.n_digits), torch.device("cpu"))).log())
        readers.append({"checkpoint": checkpoint, "digits": config.digits, "seed": config.seed,
                        "precision": config.precision, "weight_decay": config.weight_decay, "views": config.views})
    labels = bank.labels[:bank.n_digits].astype(np.int64)
    first = mnist.SPLIT_SIZES["train"] - holdout
    return readers, torch.stack(log_probs), labels, bank.images[:bank.n_digits], first


def misread(checkpoints: list[str]) -> dict:
    readers, log_probs, labels, images, first = readings(checkpoints)
    read = log_probs.argmax(-1).numpy()                                   # (readers, n)
    together = log_probs.mean(0)                                          # (n, classes)
    read_together = together.argmax(-1).numpy()
    for reader, right in zip(readers, read == labels):
        reader["read_right"] = float(right.mean())
    wrong = np.flatnonzero(read_together != labels)
    probs = together.exp()
    listed = [{"mnist_train_index": int(first + i), "label": int(labels[i]), "read_as": int(read_together[i]),
               "p_read_as": float(probs[i, read_together[i]]), "p_label": float(probs[i, labels[i]]),
               "readers_wrong": int((read[:, i] != labels[i]).sum()),
               "pixels": images[i].tolist() if k < MAX_DRAWN else None} for k, i in enumerate(wrong)]
    return {"readers": readers, "images": f"MNIST-train {first}..{first + len(labels) - 1}", "count": len(labels),
            "read_right_together": float((read_together == labels).mean()),
            "misread_by_every_reader": int((read != labels).all(0).sum()), "misread": listed}


def draw(result: dict, path: str) -> None:
    """The drawn misread images in a grid, each titled label → reading and its MNIST-train index."""
    shown = [m for m in result["misread"] if m["pixels"] is not None]
    columns = max(1, min(8, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    fig = Figure(figsize=(1.1 * columns, 1.35 * rows))
    for k in range(rows * columns):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.axis("off")
        if k < len(shown):
            m = shown[k]
            ax.imshow(np.array(m["pixels"], dtype=np.uint8), cmap="gray_r", vmin=0, vmax=255)
            ax.set_title(f"{m['label']} → {m['read_as']}\n#{m['mnist_train_index']}", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


@script_main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="calc checkpoints (.safetensors) trained with the same --holdout")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures to this JSON file")
    parser.add_argument("--png", type=output_file(".png"), default=None, help="draw the misread images into this PNG file")
    args = parser.parse_args(argv)
    try:
        if len(args.checkpoints) > MAX_READERS:
            raise UserError(f"checkpoints: at most {MAX_READERS} readers, got {len(args.checkpoints)}")
        result = {**provenance(), **misread(args.checkpoints)}
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    for r in result["readers"]:
        print(f"{r['checkpoint']}: N={r['digits']} seed {r['seed']}, read right {100 * r['read_right']:.2f}%")
    print(f"together: {100 * result['read_right_together']:.2f}% of {result['count']:,} {result['images']}; "
          f"{len(result['misread'])} images misread together, {result['misread_by_every_reader']} by every reader")
    for m in result["misread"]:
        print(f"  #{m['mnist_train_index']}: {m['label']} read as {m['read_as']} (p {m['p_read_as']:.2f}, "
              f"label {m['p_label']:.2f}), {m['readers_wrong']} of {len(result['readers'])} readers wrong")
    if args.png:
        draw(result, args.png)
    if args.json:
        atomic_write_json(args.json, result)


if __name__ == "__main__":
    main()
