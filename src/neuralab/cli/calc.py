"""`neuralab calc`: the MNIST calculator: train it from sums alone, evaluate it, read your numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from neuralab.calc.config import KEEPS, PRECISIONS, SUPERVISION
from neuralab.calc.layout import FORMATS, SPECIALS
from neuralab.calc.models import MODELS
from neuralab.cli.choices import Device as DeviceName
from neuralab.cli.choices import DataDir, DeviceFlag, TrainProfile, choices
from neuralab.core.budget import MAX_BUDGET
from neuralab.core.errors import UserError
from neuralab.core.runtime import MAX_SEED
from neuralab.core.io import check_folder

Model = choices("Model", MODELS)
Format = choices("Format", FORMATS)
Specials = choices("Specials", SPECIALS)
Supervision = choices("Supervision", SUPERVISION)
Keep = choices("Keep", KEEPS)
Precision = choices("Precision", PRECISIONS)

app = typer.Typer(no_args_is_help=True, help="The MNIST calculator: handwritten numbers in, their running sum out.")

Checkpoint = typer.Option(..., "--checkpoint", help="A calc checkpoint (.safetensors with its .json).")


@app.command()
def train(
    model: Model = typer.Option("symbolic", help="symbolic (CNN + exact arithmetic) or seed (the 2017 LSTM)."),
    format: Format = typer.Option("expression", "--format", help="How the numbers are laid out in image slots."),
    digits: int = typer.Option(5, help="N: digits per number (at most)."),
    operands: int = typer.Option(2, help="K: numbers per example."),
    specials: Specials = typer.Option("noise", help="'+' and blank images: noise (as in 2017) or glyph."),
    supervise: Supervision = typer.Option("final", help="operands format: learn from the final total or every running "
                                          "total; labels: the yardstick reader, told every digit (no sums)."),
    train_size: Optional[int] = typer.Option(None, help="Sums drawn per epoch (default: from the profile)."),
    epochs: Optional[int] = typer.Option(None, help="Epochs (default: from the profile)."),
    batch_size: Optional[int] = typer.Option(None, help="Sums per step (default: from the profile); 1 for 1,000-digit sums."),
    warmup: Optional[int] = typer.Option(None, help="symbolic: sums of numbers of at most 2 digits in a first epoch (default: from the profile)."),
    test_count: Optional[int] = typer.Option(None, help="MNIST-test sums behind the final figure (default: from the profile)."),
    keep: Keep = typer.Option("best", help="Checkpoint to score and print: best (on validation sums) or last (the final epoch)."),
    precision: Precision = typer.Option("fp32", help="symbolic: bf16 trains the digit reader under bfloat16 "
                                        "autocast (faster on AMX CPUs and GPUs; fp32 where bfloat16 is not native); the sums stay fp32."),
    profile: TrainProfile = typer.Option("quick", help="quick: a minute on 2 CPU cores; budget: the report's "
                                         "(ended by --max-seconds); full: the assignment's scale."),
    max_seconds: float = typer.Option(0.0, min=0, max=MAX_BUDGET, help="Stop training after this wall time, "
                                      "annealed to end there (0: no limit)."),
    ema: float = typer.Option(0.0, help="Judge each epoch by, and save, a moving average of the weights with "
                              "this decay per step, e.g. 0.9995 (0: the trained weights, as before)."),
    distort: float = typer.Option(1.0, help="symbolic: the training distortions' sizes (slant, wobble, "
                                  "stroke, blur, noise) times this, above 0 and at most 3 (1: sized to real pens)."),
    touch: Optional[int] = typer.Option(None, help="symbolic: generated shapes that train the one-digit judge, "
                                        "which finds digits that touch in pictures (default: from the profile; 0: none)."),
    out: Path = typer.Option(Path("runs"), "--out", help="Runs folder; the run goes in OUT/calc/<name>."),
    seed: int = typer.Option(0, min=0, max=MAX_SEED, help="Fixes the weights, the training sums and the batch order."),
    device: DeviceName = DeviceFlag,
    data_dir: Optional[Path] = DataDir,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run (its folder) "
                                          "with its saved config; the flags above are then not used."),
    dry_run: bool = typer.Option(False, "--dry-run", help="One tiny step of everything (tests, CI): a few sums."),
) -> None:
    """Train a calculator from sums alone; print its test figures and, last, the checkpoint path."""
    from neuralab.calc.config import KIND, CalcConfig, from_flags
    from neuralab.calc.train import train as run_training
    from neuralab.core.runs import resume_point

    check_folder(out, "--out")
    if resume is not None:
        previous, config = resume_point(resume, KIND, CalcConfig)
        _report(*run_training(config, out, data_dir, device, resume=previous)[:3])
        return
    sizes = dict(train_size=train_size, epochs=epochs, batch_size=batch_size, warmup=warmup, test_count=test_count, touch=touch)
    config = from_flags(CalcConfig(model=model.value, format=format.value, digits=digits, operands=operands,
                                   specials=specials.value, supervise=supervise.value, keep=keep.value, seed=seed,
                                   max_seconds=max_seconds, precision=precision.value, ema=ema, distort=distort),
                        "dry-run" if dry_run else profile.value, sizes)
    _report(*run_training(config, out, data_dir, device)[:3])


def _report(run, checkpoint, test) -> None:
    typer.echo(_summary(test))
    typer.echo(f"same figure: neuralab calc eval --checkpoint {checkpoint} --count {test['count']} --seed {test['seed']}")
    typer.echo(f"run {run.path}")
    typer.echo(str(checkpoint))


def _summary(figures: dict) -> str:
    line = (f"{figures['model']} {figures['format']} N={figures['digits']} K={figures['operands']} on "
            f"{figures['count']} MNIST-test sums (seed {figures['seed']}): "
            f"exact {figures['exact_sum_accuracy']:.4f}  char {figures['char_accuracy']:.4f}")
    if figures.get("digit_accuracy") is not None:
        line += f"  digit {figures['digit_accuracy']:.4f}  ceiling {figures['ceiling']:.4f}"
    if figures.get("running_accuracy"):
        line += "  running " + " ".join(f"{a:.4f}" for a in figures["running_accuracy"])
    return line


@app.command("eval")
def evaluate(
    checkpoint: Path = Checkpoint,
    format: Optional[Format] = typer.Option(None, "--format", help="Default: the checkpoint's (symbolic may read others)."),
    digits: Optional[int] = typer.Option(None, min=1, help="Default: the checkpoint's."),
    operands: Optional[int] = typer.Option(None, min=2, help="Default: the checkpoint's."),
    count: Optional[int] = typer.Option(None, help="Test sums (default 10000; fixed: the protocol's floor(10000/2N))."),
    seed: int = typer.Option(1, min=0, max=MAX_SEED, help="Draws the test sums from MNIST-test."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    device: DeviceName = DeviceFlag,
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Score a checkpoint on sums of MNIST-test digits."""
    from neuralab.calc.evaluate import evaluate_checkpoint

    if count is not None and count < 1:
        raise UserError(f"--count: must be at least 1, got {count}")
    figures = evaluate_checkpoint(checkpoint, format=format.value if format else None, digits=digits, operands=operands,
                                  count=count, seed=seed, data_dir=data_dir, device=device)
    if not figures["same_mnist_as_training"]:
        typer.echo(f"warning: {checkpoint} was trained on other MNIST data than it is scored on here", err=True)
    typer.echo(json.dumps(figures) if as_json else _summary(figures))


@app.command()
def predict(
    numbers: Optional[List[Path]] = typer.Argument(None, help="Each NUMBER: a folder of single-digit pictures, or a "
                                                   "picture of one or more numbers (a row '294 + 61', or a column sum)."),
    checkpoint: Path = Checkpoint,
    compose: Optional[str] = typer.Option(None, help="Build the numbers from MNIST-test digits, e.g. \"294+61\"."),
    seed: int = typer.Option(1, min=0, max=MAX_SEED, help="Draws the --compose digits."),
    show: Optional[Path] = typer.Option(None, help="Write a PNG: each picture with its digits boxed and read, "
                                        "the digits as the model saw them, and the answer."),
    as_json: bool = typer.Option(False, "--json", help="Print the numbers, running totals and sum, and for each "
                                 "digit its reading, probability and box, as JSON."),
    doubt: float = typer.Option(0.9, min=0.0, max=1.0, help="A digit read with a probability under this is "
                                "doubtful: marked '?' (and \"doubtful\" in --json); a picture whose marks are "
                                "all (2 or more) or over a quarter (3 or more) doubtful gets no sum. 0 trusts every reading."),
    device: DeviceName = DeviceFlag,
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Read handwritten numbers and print their running sum."""
    from neuralab.calc import predict as calc_predict
    from neuralab.calc.evaluate import load_model
    from neuralab.calc.inputs import Group, read_paths
    from neuralab.calc.models import SymbolicCalc
    from neuralab.calc.reading import judge
    from neuralab.core import mnist
    from neuralab.core.runtime import pick_device

    if bool(compose) == bool(numbers):
        raise UserError("give either --compose \"294+61\" or one or more NUMBER paths")
    if show is not None and show.suffix.lower() != ".png":
        raise UserError(f"--show: {show} must end in .png")
    model, _, _ = load_model(checkpoint, device=device)
    if compose:
        groups = [Group(g, "compose") for g in calc_predict.compose(compose, seed, mnist.load(data_dir))]
    else:
        groups = read_paths(numbers, judge(model, pick_device(device)) if isinstance(model, SymbolicCalc) else None)
    answer = calc_predict.read_groups(model, groups, pick_device(device))
    if not compose:
        answer.check_trusted(", ".join(str(n) for n in numbers)[:200], doubt)
    if show is not None:
        calc_predict.show([g.images for g in groups], answer, show, _pictures(groups, answer))
    if as_json:
        typer.echo(json.dumps(_as_json(groups, answer, doubt)))
    else:
        doubts = answer.doubts(doubt)
        typer.echo(f"{' + '.join(answer.marked(doubt))} = {answer.sum}"
                   + (f"  (running {', '.join(map(str, answer.running))})" if len(answer.running) > 1 else "")
                   + (f"  [{doubts} doubtful digit{'s' * (doubts > 1)}, marked ?: check them]" if doubts else ""))


def _probabilities(groups, answer) -> list[list[float | None]]:
    """Per number, per digit: the reading's probability (None for the seed model, which reads no digits)."""
    return answer.probabilities or [[None] * len(g.images) for g in groups]


def _as_json(groups, answer, doubt: float) -> dict:
    flags = answer.doubtful(doubt) or [[None] * len(g.images) for g in groups]   # None: the seed model reads no digits
    read = [{"source": g.source, "line": g.line, "reading": reading,
             "digits": [{"digit": None if d == "?" else int(d), "probability": p, "doubtful": flag,
                         "box": None if g.boxes is None else list(g.boxes[i])}
                        for i, (d, p, flag) in enumerate(zip(reading, probs, row))]}
            for g, reading, probs, row in zip(groups, answer.readings, _probabilities(groups, answer), flags)]
    doubtful = answer.doubts(doubt) if answer.probabilities else None
    return {"numbers": answer.numbers, "running": answer.running, "sum": answer.sum, "doubtful": doubtful, "read": read}


def _pictures(groups, answer) -> list:
    """One `Picture` per picture file that numbers were found in, with each digit's box and reading."""
    from neuralab.calc.predict import Picture

    pictures: dict[str, Picture] = {}
    for g, reading, probs in zip(groups, answer.readings, _probabilities(groups, answer)):
        if g.boxes is None:
            continue
        picture = pictures.setdefault(g.source, Picture(g.source, g.picture, [], g.size))
        picture.labels += [(box, d if p is None else f"{d} {100 * p:.0f}%")
                           for box, d, p in zip(g.boxes, reading, probs)]
    return list(pictures.values())


@app.command()
def export(
    checkpoint: Path = Checkpoint,
    onnx: Path = typer.Option(..., "--onnx", help="Where to write the ONNX graph (.onnx)."),
    digits: Optional[int] = typer.Option(None, help="Digits per number in the graph's input. Default: the checkpoint's N."),
) -> None:
    """Export the digit reader and the exact addition (argmax, place values, running sum) to ONNX."""
    from neuralab.calc.evaluate import load_model
    from neuralab.calc.export import export_onnx

    if onnx.suffix.lower() != ".onnx":
        raise UserError(f"--onnx: {onnx} must end in .onnx")
    try:
        import onnx as _onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise UserError("export needs the onnx extra: pip install 'neuralab[onnx]'") from None
    model, config, _ = load_model(checkpoint, device="cpu")
    path = export_onnx(model, digits or config.digits, onnx)
    typer.echo(f"wrote {path}: images (B, K, {digits or config.digits}, 1, 28, 28) -> probs (B, K, N, 10), running (B, K)")
