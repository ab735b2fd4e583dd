"""What a calc reader learned from sums: its confusion matrix over MNIST-train digits, and how many
of its readings keep the digit's residue mod 3 (the wrong basin a long-sum run can settle in).

    python bench/calc_confusion.py --checkpoint RUN/last.safetensors --json src/neuralab/results/calc/confusion-NAME.json

The images are MNIST-train 55000..59999: the run trained on them from sums alone and never saw their
labels; no MNIST-test digit is read here. The reader reads each image once (no shifted views).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from neuralab.calc.data import Bank
from neuralab.calc.evaluate import load_model
from neuralab.calc.metrics import read_images
from neuralab.calc.reading import digit_view
from neuralab.core import mnist
from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance

FIRST, COUNT = 55_000, 5_000   # the MNIST-train images read


@torch.no_grad()
def confusion(checkpoint: str) -> dict:
    model, config, _ = load_model(checkpoint, "cpu")
    model.reader.views = 1
    bank = Bank.from_mnist(mnist.load(), "train", config.specials)
    index = np.arange(FIRST, FIRST + COUNT)
    labels = bank.labels[index]
    read = digit_view(read_images(model, bank, index, torch.device("cpu"))).argmax(-1).numpy()   # (COUNT,)
    table = np.zeros((10, 10), dtype=int)
    np.add.at(table, (labels, read), 1)
    return {"checkpoint": checkpoint, "digits": config.digits, "precision": config.precision, "seed": config.seed,
            "images": f"MNIST-train {FIRST}..{FIRST + COUNT - 1}", "count": COUNT,
            "accuracy": float((read == labels).mean()), "same_residue_mod3": float((read % 3 == labels % 3).mean()),
            "confusion": table.tolist()}


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a calc run's checkpoint (.safetensors)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures to this JSON file")
    args = parser.parse_args()
    result = {**provenance(), **confusion(args.checkpoint)}
    print(f"N={result['digits']} seed {result['seed']} ({result['precision']}), {result['count']} {result['images']} "
          f"digits: read right {100 * result['accuracy']:.2f}%, residue mod 3 kept {100 * result['same_residue_mod3']:.2f}%")
    print("rows: the digit, columns: what it was read as")
    for digit, row in enumerate(result["confusion"]):
        print(f"  {digit}: " + " ".join(f"{n:5d}" for n in row))
    if args.json:
        atomic_write_json(args.json, result)


if __name__ == "__main__":
    main()
