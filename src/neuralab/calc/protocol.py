"""The MNIST-addition benchmark's protocol as library code, for `bench/calc_nesy.py` and the scripts
beside it: the config of an N-digit run, its learning curve, which images a model reads right (by the
10-digit rule; `held_out_reading` reads every image a run kept out), and the timers of one training
step and one predicted sum. The 2017 model's peer comparison takes its configs from `peer_configs`.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from neuralab.calc import arith
from neuralab.calc.config import KIND, CalcConfig, resolve
from neuralab.calc.data import Bank, make_examples
from neuralab.calc.digits import reported_digits
from neuralab.calc.evaluate import evaluate_checkpoint, load_model
from neuralab.calc.layout import Layout
from neuralab.calc.metrics import read_images
from neuralab.calc.reading import digit_view
from neuralab.calc.train import train
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.runs import load_checkpoint

IMAGES_PER_STEP = 256      # sums per step = this / 2N: every step reads about as many images


def config_for(N: int, seed: int, budget: float, resampled: int, **design) -> CalcConfig:
    """The protocol's config for N-digit sums; `design` sets the run's design choices (precision, starts,
    start_seconds, holdout, ema, reader, distort, weight_decay), each CalcConfig's default if not given."""
    # keep the last epoch: the cosine anneals to 0 at the budget's end, and at N=15 the 33 validation sums
    # (on trained images) picked an epoch half-way through, 83.2% where the last one scored 88.1%.
    # With a holdout the validation sums hold about 2,000 digits at every N (one sum at N=1000), so
    # that scoring them after each epoch stays cheap beside the epoch.
    holdout = design.get("holdout", 0)
    val_size = max(1, 1000 // N) if holdout else max(10, 500 // N)
    # train_size is not read in the `fixed` format (an epoch is the protocol's cut of MNIST-train); it is
    # set to that epoch's sums so that the config records what an epoch is and passes its size check
    train_size = (mnist.SPLIT_SIZES["train"] - holdout) // (2 * N)
    return resolve(CalcConfig(model="symbolic", format="fixed", digits=N, operands=2, warmup=0, epochs=1000,
                              train_size=train_size,
                              batch_size=max(1, IMAGES_PER_STEP // (2 * N)), val_size=val_size,
                              keep="last", test_count=resampled, seed=seed, max_seconds=budget,
                              touch=0,   # the benchmark scores sums of arrays: no pictures, so no one-digit judge
                              profile="nesy", **design), None)


def learning_curve(run) -> list[dict]:
    """Per epoch: wall seconds of training so far, the training loss and the digit accuracy on the
    validation sums: MNIST-train images held out of training with `--holdout`, else images the model
    also trains on (a curve, not a held-out figure). Short starts come first, each epoch named by its
    stage (start<k>; the run itself: "")."""
    curve, seconds = [], 0.0
    for m in run.metrics():
        if "epoch" not in m:
            continue
        seconds += m["seconds"]
        curve.append({"stage": m.get("stage", ""), "epoch": m["epoch"], "seconds": seconds,
                      "train_loss": m["train_loss"], "val_digit_accuracy": m["val_digit_accuracy"]})
    return curve


def read_right(model, bank: Bank, device: str = "cpu") -> torch.Tensor:
    """Whether the model (eval mode, its views) reads each of the bank's digit images right: (n,) bool."""
    labels = torch.from_numpy(bank.labels.astype(np.int64))
    return digit_view(read_images(model, bank, np.arange(bank.n_digits), torch.device(device))).argmax(-1) == labels


def finished(device: torch.device) -> float:
    """The clock once the device's queued work is done (a GPU runs behind the Python that feeds it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def time_training_step(N: int, model, bank: Bank, steps: int = 5) -> float:
    """Seconds per optimiser step on one N-digit sum (the model's reader, exact likelihood), on the
    model's device: the images and the target go there as a training batch does."""
    layout = Layout("fixed", N, 2)
    device = next(model.parameters()).device
    model.train()
    examples = make_examples(layout, bank, steps + 1, seed=N)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for i in range(steps + 1):
        t0 = finished(device)
        images = bank.render(examples.image[i:i + 1]).to(device)
        loss = model.loss(images, examples.targets(layout, np.arange(i, i + 1)).to(device), layout=layout)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(finished(device) - t0)
    return statistics.median(times[1:])        # the first step warms caches up


@torch.no_grad()
def time_prediction(N: int, model, bank: Bank, count: int = 5) -> float:
    """Seconds per predicted sum from its 2N images: read them, decode, add the columns."""
    layout = Layout("fixed", N, 2)
    device = next(model.parameters()).device
    model.eval()
    examples = make_examples(layout, bank, count + 1, seed=N + 1)
    times = []
    for i in range(count + 1):
        t0 = finished(device)
        logp = model(bank.render(examples.image[i:i + 1]).to(device))
        reported_digits(arith.decode_digits(logp, layout), layout)
        times.append(finished(device) - t0)
    return statistics.median(times[1:])


def peer_configs(budget: float, count: int, seed: int) -> dict[str, CalcConfig]:
    """`bench/calc.py`'s runs: our model, the 2017 model in PyTorch, and three numbers of four digits."""
    # epochs of 100k fresh sums: the budget, not the epoch count, ends training
    common = dict(max_seconds=budget, test_count=count, seed=seed, epochs=20, train_size=100_000)
    symbolic = replace(resolve(CalcConfig(model="symbolic"), "full"), **common)
    return {
        "symbolic": symbolic,
        "seed": replace(resolve(CalcConfig(model="seed"), "full"), batch_size=128, **common),
        "operands": replace(symbolic, format="operands", digits=4, operands=3),
    }


def held_out_reading(checkpoint, holdout: int, device: str = "cpu") -> dict:
    """Every held-out MNIST-train image read by the kept weights and, for a run that averaged its
    weights, by the trained weights of the same run too (`last` keeps both): validation images only,
    all of them, where the validation sums hold about 2,000."""
    model, config, _ = load_model(checkpoint, device=device)
    _, val_bank = Bank.train_and_val(mnist.load(), config.specials, holdout)
    kept_right = read_right(model, val_bank, device)
    out = {"images": len(kept_right), "digit_accuracy": float(kept_right.float().mean())}
    if config.ema:
        model.load_state_dict(load_checkpoint(checkpoint, KIND)[2]["trained"])
        trained_right = read_right(model, val_bank, device)
        out.update(trained_digit_accuracy=float(trained_right.float().mean()),
                   only_averaged_right=int((kept_right & ~trained_right).sum()),
                   only_trained_right=int((trained_right & ~kept_right).sum()))
    return out


def held_out_line(c: dict) -> str:
    """`held_out_reading`'s figures in one printed line."""
    line = f"  all {c['images']} held-out validation images: {100 * c['digit_accuracy']:.2f}% read right"
    if "trained_digit_accuracy" in c:
        line += (f" by the averaged weights, {100 * c['trained_digit_accuracy']:.2f}% by the trained ones; only the "
                 f"average right on {c['only_averaged_right']}, only the trained on {c['only_trained_right']}")
    return line


def scale_row(config: CalcConfig, runs_root, device: str, data: mnist.MNIST, reader_of: str | None = None) -> dict:
    """One N of the scale runs: train to the budget, time a training step and a predicted sum, and
    score the N=1 reader `reader_of` (if given) on the same N-digit sums."""
    run, checkpoint, test, model = train(config, runs_root, device=device, data=data)
    row = {"digits": config.digits, "config": asdict(config), "trained": test,
           "step_seconds": time_training_step(config.digits, model, Bank.from_mnist(data, "train", "noise")),
           "predict_seconds": time_prediction(config.digits, model, Bank.from_mnist(data, "test", "noise"))}
    if reader_of:
        row["reader_of"] = evaluate_checkpoint(reader_of, digits=config.digits, count=config.test_count, data=data,
                                               device=device)
    return row


def budget_for(budget: str, N: int) -> float:
    """N's training wall seconds from `--budget`: one figure for every N, or N:seconds pairs."""
    try:
        if ":" not in budget:
            return float(budget)
        return float(dict(item.split(":", 1) for item in budget.split(","))[str(N)])
    except (ValueError, KeyError):
        raise UserError(f"--budget: {budget!r} gives no number of seconds for N={N}") from None


def accuracy_configs(digits: list[int], seeds: list[int], budget: str, resampled: int, design: dict) -> list[CalcConfig]:
    """The accuracy runs: every N and seed, with the design choices given."""
    return [config_for(N, seed, budget_for(budget, N), resampled, **design) for N in digits for seed in seeds]


def scale_configs(ns: list[int], budget: str, resampled: int, precision: str) -> list[CalcConfig]:
    """The scale runs: one seed each, with a resampled count that stays cheap at large N."""
    return [config_for(N, 0, budget_for(budget, N), resampled if N <= 100 else min(resampled, 1000), precision=precision)
            for N in ns]


def accuracy_row(config: CalcConfig, runs_root, device: str) -> dict:
    """One accuracy run: trained, scored on the protocol's test sums and the resampled ones, its curve, and
    with a holdout every held-out image read."""
    run, checkpoint, resampled, _ = train(config, runs_root, device=device)
    protocol = evaluate_checkpoint(checkpoint, count=None, seed=config.test_seed, device=device)
    row = {"digits": config.digits, "seed": config.seed, "device": device, "config": asdict(config),
           "checkpoint": str(checkpoint), "train_seconds": resampled["train_seconds"], "protocol": protocol,
           "resampled": resampled, "curve": learning_curve(run)}
    if config.holdout:
        row["held_out"] = held_out_reading(checkpoint, config.holdout, device)
    return row
