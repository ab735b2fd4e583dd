"""`neuralab depth`: the MLP depth study (question 1.3): train the grid, write the summary."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from neuralab.cli.choices import Device, TrainProfile
from neuralab.cli.choices import DataDir, DeviceFlag
from neuralab.core.runs import resume_point
from neuralab.core.runtime import pick_device
from neuralab.depth import experiment, plan
from neuralab.depth.model import VARIANTS
from neuralab.core.io import check_folder

app = typer.Typer(no_args_is_help=True, help="The MLP depth study on MNIST: reproduce the collapse, fix it.")


@app.command()
def run(
    depths: Optional[str] = typer.Option(None, help="Hidden-layer counts, comma-separated. Default 1,2,3."),
    activations: Optional[str] = typer.Option(None, help="sigmoid,relu (comma-separated). Default both."),
    variant: Optional[list[str]] = typer.Option(None, help=f"{'|'.join(VARIANTS)}; repeat or "
                                                "comma-separate. Default keras."),
    epochs: Optional[int] = typer.Option(None, help="Epochs per run. Default 10."),
    seeds: Optional[int] = typer.Option(None, help="Seeds per cell (1234, 1235, ...). Default 3."),
    holdout: int = typer.Option(0, help="Keep the last HOLDOUT MNIST-train images out of training as val (at "
                                "most 30000): each epoch is judged on them and test is scored once, at the "
                                "end. Default 0: the assignment's protocol, test after every epoch."),
    profile: Optional[TrainProfile] = typer.Option(None, help="quick (a smoke run), budget (the report's: the six "
                                               "runs of the protocol, one seed) or full (the issue's protocol with "
                                               "the variant table); flags above override it."),
    out: Path = typer.Option(Path("runs"), help="Runs root: runs go in OUT/depth/<run>/, summary in OUT/depth/."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary rows as JSON."),
    dry_run: bool = typer.Option(False, "--dry-run", help="One run of one epoch (ReLU, depth 1, one seed): tests, CI."),
    device: Device = DeviceFlag,
    data_dir: Optional[Path] = DataDir,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue one interrupted run (its folder) with "
                                          "its saved config; the grid flags are then not used."),
) -> None:
    """Train (or reuse finished) runs and write per-run metrics.jsonl and summary.csv/.md.

    Rerunning the same command also continues its interrupted runs; --resume names one."""
    check_folder(out, "--out")
    if resume is not None:
        _resume(resume, data_dir, device.value)
        return
    chosen = "dry-run" if dry_run else (profile.value if profile else None)
    grids = plan.make_plan(chosen, variants=variant, activations=activations, depths=depths, epochs=epochs, seeds=seeds)
    configs = [replace(config, holdout=holdout) for config in plan.plan_configs(grids)]   # checked here, before any run
    data = experiment.load_tensors(data_dir, pick_device(device))
    runs = experiment.run_configs(configs, data, out)
    rows = experiment.write_summary(runs, out / experiment.PART, plan.plan_depths(grids))
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        val = f"val acc {row['val_accuracy']:.4f}  " if row.get("val_accuracy") is not None else ""
        typer.echo(f"{row['variant']:<10} {row['activation']:<8} depth {row['depth']:>2}  seed {row['seed']}  "
                   f"{val}test acc {row['test_accuracy']:.4f}  loss {row['test_loss']:.4f}")
    typer.echo(f"summary {out / experiment.PART / 'summary.csv'}")


def _resume(path: Path, data_dir: Path | None, device: str) -> None:
    previous, config = resume_point(path, experiment.PART, experiment.DepthConfig)
    data = experiment.load_tensors(data_dir, pick_device(device))
    previous.refuse_other_data(data.sha256)
    run = experiment.train_run(config, data, previous.path.parent.parent, resume=previous)
    row = experiment.summary_row(run)
    typer.echo(f"{row['variant']} {row['activation']} depth {row['depth']} seed {row['seed']}: "
               f"test acc {row['test_accuracy']:.4f}  run {run.path}")
