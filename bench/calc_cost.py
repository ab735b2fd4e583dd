"""What a long sum costs: a training step and a prediction of the `fixed` protocol at each N, split
into the digit reader (the CNN over 2N images) and the exact arithmetic (the carry chain), with
torch.profiler's busiest operators. Prints each figure beside its target. The reader and the whole
step are also timed as `--precision bf16` trains them, the reader under bfloat16 autocast.

    python bench/calc_cost.py --digits 15,100,1000 --json src/neuralab/results/calc/cost.json

`--compile` adds the bf16 step with the reader under torch.compile, and how long compiling took.
`--device cuda` times it all on the GPU (the default, cpu, is what the target is for).

Every figure is for one sum (2N images), the step bench/calc_nesy.py takes from N=128 up. Weights
are freshly initialised: the cost of a step does not depend on what the model has learned.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile

from neuralab.calc import arith
from neuralab.calc.config import CalcConfig
from neuralab.calc.data import Bank, make_examples
from neuralab.calc.layout import Layout
from neuralab.calc.models import build
from neuralab.calc.protocol import finished, time_prediction, time_training_step
from neuralab.core import mnist
from neuralab.core.args import output_file, script_main, whole_numbers
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.runtime import DEVICES, pick_device

TARGET_PER_1000_DIGITS = 0.3   # seconds of training per 1000-digit sum, 2 CPU cores (issue #21)


def median_seconds(work, device: torch.device, repeats: int = 5) -> float:
    work()                                                         # warm caches up
    times = []
    for _ in range(repeats):
        t0 = finished(device)
        work()
        times.append(finished(device) - t0)
    return statistics.median(times)


def split(N: int, model, bank: Bank) -> dict:
    """Seconds of the reader's forward and backward over one sum's images, and of the arithmetic's."""
    layout = Layout("fixed", N, 2)
    device = next(model.parameters()).device
    examples = make_examples(layout, bank, 1, seed=N)
    images = bank.render(examples.image).to(device)                # (1, 2N, 1, 28, 28)
    target = examples.targets(layout, [0]).to(device)
    model.train()

    def reader(precision: str = "fp32"):
        model.precision = precision                                # as --precision sets it for training
        logp = model(images)                                       # (1, 2N, 12)
        logp.backward(torch.ones_like(logp))
        model.precision = "fp32"

    logp = model(images).detach().requires_grad_()                 # (1, 2N, 12)

    def arithmetic():
        arith.loglik(logp, layout, target).sum().backward()

    return {"reader_seconds": median_seconds(reader, device),
            "reader_bf16_seconds": median_seconds(lambda: reader("bf16"), device),
            "arithmetic_seconds": median_seconds(arithmetic, device)}


def busiest_operators(N: int, model, bank: Bank, top: int = 8) -> list[dict]:
    """torch.profiler's operators by self CPU time over one training step (on a GPU, the time its
    launches took on the CPU: the kernels themselves are in CUDA time, not read here)."""
    cuda = next(model.parameters()).device.type == "cuda"
    with profile(activities=[ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * cuda) as prof:
        time_training_step(N, model, bank, steps=1)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
    return [{"name": e.key, "self_ms": e.self_cpu_time_total / 1000, "calls": e.count} for e in events]


def compiled_step(N: int, model, bank: Bank) -> dict:
    """The bf16 step with the reader compiled by torch.compile, and the seconds its first step took
    (tracing and compiling). The model keeps its weights; only the reader's code changes."""
    model.reader = torch.compile(model.reader, dynamic=False)     # one graph per chunk size
    model.precision = "bf16"
    t0 = time.perf_counter()
    time_training_step(N, model, bank, steps=1)                    # compiles every chunk size it meets
    compile_seconds = time.perf_counter() - t0
    step = time_training_step(N, model, bank)
    model.precision = "fp32"
    return {"step_bf16_compiled_seconds": step, "compile_seconds": compile_seconds}


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=whole_numbers(8), default="15,100,1000", help="N values (default 15,100,1000)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures to this JSON file")
    parser.add_argument("--compile", action="store_true",
                        help="also time the bf16 step with the reader under torch.compile (inductor)")
    parser.add_argument("--device", default="cpu", choices=DEVICES, help="where to time it (default cpu)")
    args = parser.parse_args()
    device = pick_device(args.device)   # one line and exit 2 (script_main) where it is not there
    record = {**provenance(), "device": device.type, "threads": torch.get_num_threads(),
              "target_per_1000_digits": TARGET_PER_1000_DIGITS}
    config = CalcConfig()
    data = mnist.load()
    train_bank, test_bank = Bank.from_mnist(data, "train", "noise"), Bank.from_mnist(data, "test", "noise")
    rows = []
    for N in args.digits:
        torch.manual_seed(0)
        model = build("symbolic", Layout("fixed", N, 2), config.reader, config.shift, config.views).to(device)
        row = {"digits": N, **split(N, model, train_bank),
               "step_seconds": time_training_step(N, model, train_bank),
               "predict_seconds": time_prediction(N, model, test_bank)}
        model.precision = "bf16"                                   # as --precision bf16 trains
        row["step_bf16_seconds"] = time_training_step(N, model, train_bank)
        model.precision = "fp32"
        row["step_seconds_per_1000_digits"] = row["step_seconds"] * 1000 / N
        row["step_bf16_seconds_per_1000_digits"] = row["step_bf16_seconds"] * 1000 / N
        row["busiest"] = busiest_operators(N, model, train_bank)
        if args.compile:
            row.update(compiled_step(N, model, train_bank))
        rows.append(row)
        per_1000, bf16_per_1000 = row["step_seconds_per_1000_digits"], row["step_bf16_seconds_per_1000_digits"]
        verdict = "met" if per_1000 <= TARGET_PER_1000_DIGITS else "MISSED"
        bf16_verdict = "met" if bf16_per_1000 <= TARGET_PER_1000_DIGITS else "MISSED"
        print(f"N={N:<5} step {1000 * row['step_seconds']:8.1f} ms (bf16 {1000 * row['step_bf16_seconds']:.1f} ms, "
              f"per 1000 digits {bf16_per_1000:.3f} s: {bf16_verdict}): "
              f"reader {1000 * row['reader_seconds']:.1f} ms (in bf16 {1000 * row['reader_bf16_seconds']:.1f}), arithmetic {1000 * row['arithmetic_seconds']:.1f} ms; "
              f"predict {1000 * row['predict_seconds']:.1f} ms; per 1000 digits {per_1000:.3f} s "
              f"(<= {TARGET_PER_1000_DIGITS} on 2 cores: {verdict})", flush=True)
        print("        busiest: " + ", ".join(f"{e['name']} {e['self_ms']:.0f} ms" for e in row["busiest"][:4]))
        if args.compile:
            print(f"        compiled reader: bf16 step {1000 * row['step_bf16_compiled_seconds']:.1f} ms "
                  f"(compiling took {row['compile_seconds']:.0f} s)")
    record["rows"] = rows
    if args.json:
        atomic_write_json(args.json, record)


if __name__ == "__main__":
    main()
