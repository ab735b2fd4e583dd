"""Benchmark: the published depth protocol, ours against the same model in Keras 3 (torch backend).

Runs the assignment's six runs (sigmoid and ReLU, depths 1-3, one seed) first with neuralab's
depth study, then with the model written in Keras 3 with KERAS_BACKEND=torch on the same arrays,
in one process on the same machine. Prints each wall time, the ratio ours/Keras (target <= 1.0)
and both sets of test accuracies beside the published table.

    python bench/depth.py                      # the full protocol: 6 runs x 10 epochs
    python bench/depth.py --epochs 1           # a reduced check (accuracies then lie below the table)

Needs the `bench` extra (`pip install -e ".[bench]"`) for keras.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # must be set before keras is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuralab.core import mnist  # noqa: E402
from neuralab.core.args import output_file, script_main  # noqa: E402
from neuralab.core.io import atomic_write_json  # noqa: E402
from neuralab.core.provenance import provenance  # noqa: E402
from neuralab.core.runtime import pick_device  # noqa: E402
from neuralab.depth.experiment import DepthConfig, load_tensors, train_run  # noqa: E402
from neuralab.depth.findings import PUBLISHED  # noqa: E402

CELLS = [(a, d) for a in ("relu", "sigmoid") for d in (1, 2, 3)]


def run_ours(args, device) -> tuple[dict, float]:
    data = load_tensors(args.data_dir, device)
    accs, t0 = {}, time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        for activation, depth in CELLS:
            config = DepthConfig(activation=activation, depth=depth, seed=args.seed, epochs=args.epochs)
            run = train_run(config, data, root, reuse=False)
            accs[(activation, depth)] = run.result["test_accuracy"]
            print(f"  ours  {activation:<7} depth {depth}: test acc {accs[(activation, depth)]:.4f}  "
                  f"({run.result['seconds']:.1f} s)", flush=True)
    return accs, time.perf_counter() - t0


def keras_model(keras, activation: str, depth: int):
    """The assignment's Sequential model (Keras defaults: glorot-uniform kernels, zero biases)."""
    layers = [keras.Input((784,))]
    for _ in range(depth):
        layers += [keras.layers.Dense(512, activation=activation), keras.layers.Dropout(0.2)]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  metrics=["accuracy"])
    return model


def run_keras(args) -> tuple[dict, float]:
    import keras

    data = mnist.load(args.data_dir)
    x_train = data.x_train.reshape(60000, 784).astype("float32") / 255  # the assignment's preprocessing
    x_test = data.x_test.reshape(10000, 784).astype("float32") / 255
    y_train, y_test = np.eye(10, dtype="float32")[data.y_train], np.eye(10, dtype="float32")[data.y_test]
    accs, t0 = {}, time.perf_counter()
    for activation, depth in CELLS:
        t1 = time.perf_counter()
        keras.utils.set_random_seed(args.seed)
        model = keras_model(keras, activation, depth)
        model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, verbose=0,
                  validation_data=(x_test, y_test))
        _, accs[(activation, depth)] = model.evaluate(x_test, y_test, verbose=0)
        print(f"  keras {activation:<7} depth {depth}: test acc {accs[(activation, depth)]:.4f}  "
              f"({time.perf_counter() - t1:.1f} s)", flush=True)
    return accs, time.perf_counter() - t0


@script_main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per run (default 10, the protocol)")
    parser.add_argument("--seed", type=int, default=1234, help="seed (default 1234, the assignment's)")
    parser.add_argument("--device", default="auto", help="ours: auto|cpu|cuda (default auto); keras picks its own")
    parser.add_argument("--data-dir", default=None, help="MNIST location (default: the neuralab cache)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = parser.parse_args()
    where = provenance()
    device = pick_device(args.device)
    print(f"depth bench: 6 runs x {args.epochs} epochs, seed {args.seed}, device {device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    ours, t_ours = run_ours(args, device)
    theirs, t_keras = run_keras(args)
    import keras

    print(f"\ntest accuracy after {args.epochs} epoch(s)   published (10 epochs)   ours    keras {keras.__version__}")
    for activation, depth in CELLS:
        print(f"  {activation:<7} depth {depth}                      {PUBLISHED[activation][depth]:.3f}"
              f"                 {ours[(activation, depth)]:.4f}  {theirs[(activation, depth)]:.4f}")
    ratio = t_ours / t_keras
    print(f"\nwall time  ours {t_ours:.1f} s   keras {t_keras:.1f} s   ratio ours/keras {ratio:.2f} "
          f"(target <= 1.0: {'met' if ratio <= 1.0 else 'missed'})")
    if args.json:
        cells = [{"activation": a, "depth": d, "published": PUBLISHED[a][d], "ours": ours[(a, d)],
                  "keras": theirs[(a, d)]} for a, d in CELLS]
        atomic_write_json(Path(args.json), {**where, "epochs": args.epochs, "seed": args.seed, "device": str(device),
                                            "keras": keras.__version__, "threads": torch.get_num_threads(),
                                            "cells": cells, "ours_seconds": t_ours, "keras_seconds": t_keras,
                                            "ratio": ratio, "target_ratio": 1.0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
