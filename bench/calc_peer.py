"""The 2017 calculator, run as a peer: its Keras model beside our two, same data, same wall time.

The published architecture (TimeDistributed CNN, LSTM(256), RepeatVector, 2 x LSTM(256), softmax over
12 characters, Adam, batch 512, categorical cross-entropy on one-hot characters) is written in Keras 3
with KERAS_BACKEND=torch. The only changes are where Keras 3 removed an API: `keras.layers.LSTM`
replaces `keras.layers.recurrent.LSTM`, and `keras.Input` replaces `input_shape=`. It trains on
`expression` sums (N=5, 2 operands, noise '+' and blanks) drawn from MNIST-train by our generator,
fresh chunks until the budget is spent, and is scored on the same MNIST-test sums as our models.

    python bench/calc_peer.py --budget 600 --count 10000

Needs the `bench` extra (`pip install -e ".[bench]"`) for keras.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")  # must be set before keras is imported

import numpy as np
import torch


from neuralab.calc.data import Bank, make_examples  # noqa: E402
from neuralab.calc.digits import answer_digits, digits_to_chars  # noqa: E402
from neuralab.calc.layout import SYMBOLS, Layout  # noqa: E402
from neuralab.calc.protocol import peer_configs  # noqa: E402
from neuralab.calc.train import train  # noqa: E402
from neuralab.core import mnist  # noqa: E402
from neuralab.core.args import output_file, script_main  # noqa: E402
from neuralab.core.io import atomic_write_json  # noqa: E402

LAYOUT = Layout("expression", 5, 2, "noise")
CHUNK = 20000          # training sums rendered at a time (20000 x 11 images: 0.7 GB of float32)


def keras_model(keras):
    """The 2017 `build_model(..., recurrent.LSTM, hidden_rnn_layers=2, hidden_rnn_size=256)`."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((LAYOUT.slots, 28, 28, 1)),
        L.TimeDistributed(L.Conv2D(32, (5, 5), activation="relu", strides=3)),
        L.TimeDistributed(L.MaxPooling2D(pool_size=(2, 2))),
        L.Dropout(0.2),
        L.TimeDistributed(L.Conv2D(64, (3, 3), activation="relu", strides=1)),
        L.TimeDistributed(L.MaxPooling2D(pool_size=(2, 2))),
        L.Dropout(0.5),
        L.TimeDistributed(L.Flatten()),
        L.TimeDistributed(L.Dense(256, activation="relu")),
        L.LSTM(256),
        L.RepeatVector(LAYOUT.width),
        L.LSTM(256, return_sequences=True),
        L.LSTM(256, return_sequences=True),
        L.TimeDistributed(L.Dense(len(SYMBOLS))),
        L.Activation("softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def arrays(bank: Bank, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 11, 28, 28, 1) float32 in [0, 1] and answer characters (n, 6) for `count` sums."""
    examples = make_examples(LAYOUT, bank, count, seed=seed)
    images = bank.render(examples.image).numpy().transpose(0, 1, 3, 4, 2)
    rows = np.arange(len(examples))
    chars = digits_to_chars(answer_digits(examples.targets(LAYOUT, rows), LAYOUT))[:, 0].numpy()
    return images, chars


def run_keras(budget: float, count: int, seed: int) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    data = mnist.load()
    train_bank, test_bank = Bank.from_mnist(data, "train", "noise"), Bank.from_mnist(data, "test", "noise")
    model = keras_model(keras)
    t0 = time.perf_counter()

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - t0 > budget:
                self.model.stop_training = True

    chunk = 0
    while time.perf_counter() - t0 < budget:
        x, y = arrays(train_bank, CHUNK, seed * 1000 + chunk)
        model.fit(x, keras.utils.to_categorical(y, len(SYMBOLS)), batch_size=512, epochs=1, verbose=0,
                  callbacks=[Budget()])
        chunk += 1
    trained = time.perf_counter() - t0
    x, truth = arrays(test_bank, count, seed=1 + 20_000)            # the sums `calc eval --seed 1` scores
    pred = model.predict(x, batch_size=512, verbose=0).argmax(-1)
    return {"count": count, "exact_sum_accuracy": float((pred == truth).all(-1).mean()),
            "char_accuracy": float((pred == truth).mean()), "train_seconds": trained,
            "train_sums": chunk * CHUNK, "keras": keras.__version__}


@script_main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600, help="training wall seconds per model (default 600)")
    p.add_argument("--count", type=int, default=10000, help="test sums from MNIST-test (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--out", default="runs-bench", help="runs folder for our models (default runs-bench)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write all figures to this JSON file")
    args = p.parse_args(argv)
    args.device = "cpu"
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    results = {}
    for key in ("symbolic", "seed"):
        test = train(peer_configs(args.budget, args.count, args.seed)[key], args.out, device="cpu").test
        results[key] = {k: test[k] for k in ("count", "exact_sum_accuracy", "char_accuracy", "train_seconds")}
    results["keras-2017"] = run_keras(args.budget, args.count, args.seed)
    print(f"expression N=5 K=2, {args.count} MNIST-test sums, budget {args.budget:g} s per model, seed {args.seed}")
    print(f"  {'model':<34} {'trained':>8} {'exact sum':>10} {'per char':>9}")
    names = {"symbolic": "ours: CNN + exact arithmetic", "seed": "ours: the 2017 model in PyTorch",
             "keras-2017": f"the 2017 model in Keras {results['keras-2017']['keras']}"}
    for key, r in results.items():
        print(f"  {names[key]:<34} {r['train_seconds']:7.0f}s {100 * r['exact_sum_accuracy']:9.2f}% "
              f"{100 * r['char_accuracy']:8.2f}%")
    results["command"] = "python bench/calc_peer.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"  reproduce: {results['command']}")
    if args.json:
        atomic_write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
