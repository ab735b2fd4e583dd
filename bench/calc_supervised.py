"""The digit reader taught every digit's label: the yardstick for the reader learned from sums.

The same reader, images, distortions, shifts, optimiser, rate schedule, clipping, images per step,
precision and wall-time budget as `bench/calc_nesy.py --digits 15 --precision bf16 --holdout 5000`;
only the loss differs: the cross-entropy of each image's digit label in place of the likelihood of
the sum. What it reads on the held-out MNIST-train images and on MNIST-test is what this reader
reaches in that budget on this machine when it is told every digit: the yardstick for the reader
learned from sums alone.

    python bench/calc_supervised.py --seeds 0,1,2 --budget 600 --json src/neuralab/results/calc/supervised-600s-seed0-2.json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import asdict, replace

import torch

from neuralab.calc.data import Bank
from neuralab.calc.protocol import config_for, learning_curve, read_right
from neuralab.calc.train import train
from neuralab.core import mnist
from neuralab.core.args import number_in, output_file, script_main, whole_numbers
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.reader import READERS

LOSS = "cross-entropy of every image's digit label"
MAX_SEEDS = 16


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=whole_numbers(MAX_SEEDS), default="0", help="training seeds, comma-separated (default 0)")
    p.add_argument("--budget", type=float, default=600.0, help="training wall seconds per run (default 600, "
                   "the N=15 benchmark's)")
    p.add_argument("--digits", type=number_in(int, 1, 1000), default=15, help="N of the benchmark whose batches it copies: "
                   "2N images per sum, 256 // 2N sums per step (default 15)")
    p.add_argument("--holdout", type=int, default=5000, help="MNIST-train images kept out of training "
                   "and read at the end (default 5000)")
    p.add_argument("--reader", default="vgg", choices=READERS, help="the digit reader (default vgg, the benchmark's)")
    p.add_argument("--out", default="runs-bench", help="runs folder (default runs-bench)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write all figures to this JSON file")
    args = p.parse_args(argv)
    if args.holdout <= 0:
        p.error("--holdout: the supervised reader is judged on held-out images; give at least 1")
    return args


def supervised_run(N: int, seed: int, budget: float, holdout: int, out: str, reader: str = "vgg") -> dict:
    """Train the reader on labelled digits for `budget` seconds (calc's own training, `supervise="labels"`);
    read every held-out and test image."""
    config = replace(config_for(N, seed, budget, resampled=10000, precision="bf16", holdout=holdout, reader=reader),
                     supervise="labels")
    data = mnist.load()
    run, _, _, model = train(config, out, data=data)
    _, val_bank = Bank.train_and_val(data, config.specials, config.holdout)
    curve = learning_curve(run)
    return {"digits": N, "seed": seed, "config": asdict(config), "loss": LOSS, "run": str(run.path),
            "train_seconds": curve[-1]["seconds"] if curve else 0.0, "curve": curve,
            "held_out": reading(model, val_bank), "test": reading(model, Bank.from_mnist(data, "test", config.specials))}


def reading(model, bank: Bank) -> dict:
    """Every image of the bank read by the model (eval mode, its views): how many, and the share right."""
    right = read_right(model, bank)
    return {"images": len(right), "digit_accuracy": float(right.float().mean())}


@script_main
def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.perf_counter()
    record = provenance(["bench/calc_supervised.py", *(sys.argv[1:] if argv is None else argv)])
    runs = []
    for seed in args.seeds:
        row = supervised_run(args.digits, seed, args.budget, args.holdout, args.out, args.reader)
        runs.append(row)
        h, t = row["held_out"], row["test"]
        print(f"seed {seed}: trained {row['train_seconds']:.0f} s on labelled digits; read right "
              f"{100 * h['digit_accuracy']:.2f}% of {h['images']} held-out MNIST-train images, "
              f"{100 * t['digit_accuracy']:.2f}% of {t['images']} MNIST-test images "
              f"(as p, ceiling p^{2 * args.digits} = {100 * t['digit_accuracy'] ** (2 * args.digits):.2f}%)", flush=True)
    results = {**record, "runs": runs, "wall_seconds": time.perf_counter() - t0}
    print(f"\nwall {results['wall_seconds']:.0f} s; reproduce: {results['command']}")
    if args.json:
        atomic_write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
