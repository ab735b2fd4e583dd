"""`neuralab serve`: the interactive calculator page and its JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from neuralab.cli.choices import Device
from neuralab.cli.choices import DataDir


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    checkpoint: Optional[Path] = typer.Option(None, help="A symbolic calc checkpoint. Default: the newest calc run, "
                                              "else the quick calculator is trained first."),
    runs: Path = typer.Option(Path("runs"), help="Where calc runs are found (and the quick one written)."),
    device: Device = typer.Option("cpu", help="Where to compute (auto: cuda if present)."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Serve the calculator page: write numbers by hand, watch the running sum."""
    from neuralab.web.serve import build_app
    from neuralab.web.serve import serve as run_server

    app = build_app(checkpoint, runs, data_dir, device)
    run_server(app, host, port)
