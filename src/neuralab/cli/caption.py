"""`neuralab caption`: train the clip captioner, score it on a split, caption one clip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from neuralab.caption.clips import SPLITS
from neuralab.caption.config import MAX_CLIPS
from neuralab.caption.model import ENCODERS
from neuralab.cli.choices import Device as DeviceName
from neuralab.cli.choices import DataDir, DeviceFlag, TrainProfile, choices
from neuralab.core.budget import MAX_BUDGET
from neuralab.core.errors import UserError
from neuralab.core.runtime import MAX_SEED
from neuralab.core.io import check_folder

Split = choices("Split", SPLITS)
Encoder = choices("Encoder", ENCODERS)

app = typer.Typer(no_args_is_help=True, help="Caption generated clips of moving coloured digits (S2VT design).")

Checkpoint = typer.Option(..., "--checkpoint", help="A caption checkpoint (.safetensors with its .json).")
Beam = typer.Option(None, "--beam", help="Beam width (1 = greedy). Default: the checkpoint's.")
Json = typer.Option(False, "--json", help="Print one JSON object instead of text.")


@app.command()
def train(profile: TrainProfile = typer.Option("quick", "--profile", help="quick (a smoke run of a minute), budget "
                                           "(the report's, ended by --max-seconds) or full (aims at the 95% target)."),
          max_seconds: float = typer.Option(0.0, "--max-seconds", min=0, max=MAX_BUDGET,
                                            help="End the whole run within this wall time (0: no limit)."),
          out: Path = typer.Option(Path("runs"), "--out", help="Runs root: writes OUT/caption/<name>/."),
          split: Split = typer.Option("random", "--split", help="random or compositional (unseen combinations in test)."),
          seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Seed of clips, weights and dropout."),
          encoder: Encoder = typer.Option("attention", "--encoder", help="attention (learned from the RGB frames) "
                                          "or planes (the palette split by a fixed layer, centres computed)."),
          device: DeviceName = DeviceFlag, data_dir: Optional[Path] = DataDir,
          dry_run: bool = typer.Option(False, "--dry-run", help="One tiny step of everything (tests, CI)."),
          resume: Optional[Path] = typer.Option(None, "--resume",
                                                help="Continue an interrupted run (its folder).")) -> None:
    """Pretrain the digit reader on MNIST, train the captioner, test it on held-out clips."""
    from neuralab.caption.config import KIND, CaptionConfig, make_config
    from neuralab.caption.train import train as train_run
    from neuralab.core import mnist
    from neuralab.core.runs import resume_point
    from neuralab.core.runtime import pick_device

    check_folder(out, "--out")
    config = make_config("dry-run" if dry_run else profile.value, split.value, seed, max_seconds, encoder.value)
    previous = None
    if resume is not None:
        previous, config = resume_point(resume, KIND, CaptionConfig)
    run = train_run(config, mnist.load(data_dir), out, pick_device(device), resume=previous)
    result = run.result
    typer.echo(f"run {run.path}")
    typer.echo(f"checkpoint {result['checkpoint']}")
    typer.echo(f"{result['split']} split, {result['count']} test clips: exact match {result['exact_match']:.4f}  "
               f"word accuracy {result['word_accuracy']:.4f}  BLEU-4 {result['bleu4']:.4f}  "
               f"(training {result['train_seconds']:.0f} s)")


@app.command("eval")
def evaluate(checkpoint: Path = Checkpoint,
             split: Optional[Split] = typer.Option(None, "--split",
                                                 help="random or compositional. Default: the checkpoint's."),
             count: int = typer.Option(2000, "--count", help="Held-out clips to caption."),
             beam: Optional[int] = Beam, as_json: bool = Json,
             device: DeviceName = DeviceFlag, data_dir: Optional[Path] = DataDir) -> None:
    """Exact match, per-word accuracy and BLEU-4 on held-out MNIST-test clips of a split."""
    from neuralab.caption.clips import DigitSource
    from neuralab.caption.config import TEST_SEED
    from neuralab.caption.evaluate import evaluate_split, load_model
    from neuralab.core import mnist
    from neuralab.core.runtime import pick_device

    if not 1 <= count <= MAX_CLIPS:
        raise UserError(f"--count: must be 1..{MAX_CLIPS:,} clips, got {count}")
    _check_beam(beam)
    model, config, _ = load_model(checkpoint, pick_device(device))
    split = split.value if split else config.split
    if split == "compositional" and config.split != "compositional":
        raise UserError(f"--split compositional: {checkpoint} was trained on the random split and has seen "
                        "every combination; train one with --split compositional")
    metrics, *_ = evaluate_split(model, DigitSource(mnist.load(data_dir)), config, "test", count, TEST_SEED,
                                 next(model.parameters()).device, beam=beam, split=split)
    if as_json:
        typer.echo(json.dumps({**metrics, "split": split}))
    else:
        typer.echo(f"{split} split, {metrics['count']} clips: exact match {metrics['exact_match']:.4f}  "
                   f"word accuracy {metrics['word_accuracy']:.4f}  BLEU-4 {metrics['bleu4']:.4f}")


@app.command()
def predict(clip: Optional[Path] = typer.Argument(None, help="An animated GIF: 10-20 frames of 64x64."),
            checkpoint: Path = Checkpoint,
            seed: Optional[int] = typer.Option(None, "--seed", min=0, max=MAX_SEED, help="Caption generated test clip N instead."),
            show: Optional[Path] = typer.Option(None, "--show", help="Write the clip with its caption as a GIF."),
            beam: Optional[int] = Beam, as_json: bool = Json,
            device: DeviceName = DeviceFlag, data_dir: Optional[Path] = DataDir) -> None:
    """Caption one clip: a GIF file, or generated MNIST-test clip --seed N (default 0)."""
    from neuralab.caption.clips import DigitSource, frames_to_tensor, make_clip
    from neuralab.caption.evaluate import caption_frames, load_model
    from neuralab.caption.gif import read_gif, write_gif
    from neuralab.core import mnist
    from neuralab.core.runtime import pick_device

    if clip is not None and seed is not None:
        raise UserError("give either CLIP.gif or --seed, not both")
    _check_beam(beam)
    if show is not None and show.suffix.lower() != ".gif":
        raise UserError(f"--show {show}: the output must be a .gif file")
    model, config, _ = load_model(checkpoint, pick_device(device))
    reference = None
    if clip is not None:
        frames = read_gif(clip)
    else:
        generated = make_clip(DigitSource(mnist.load(data_dir)), "test", config.split, seed or 0, 0, config.frames)
        frames, reference = generated.frames, generated.caption
    video = frames_to_tensor(frames)[None].to(next(model.parameters()).device)   # (1, T, 3, 64, 64)
    caption = caption_frames(model, video, config.beam if beam is None else beam)[0]
    if show is not None:
        write_gif(show, frames, caption, scale=4)
    if as_json:
        typer.echo(json.dumps({"caption": caption, "reference": reference, "frames": len(frames),
                               "show": str(show) if show else None}))
    else:
        typer.echo(caption)
        if reference is not None:
            typer.echo(f"reference: {reference}")


def _check_beam(beam: int | None) -> None:
    """A beam wider than the vocabulary keeps nothing a narrower one would not, and costs memory per beam."""
    from neuralab.caption.grammar import VOCAB

    if beam is not None and not 1 <= beam <= len(VOCAB):
        raise UserError(f"--beam must be between 1 and {len(VOCAB)} (the vocabulary's size), got {beam}")
