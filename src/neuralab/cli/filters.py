"""`neuralab filters`: apply the sepia + Gaussian-blur CNN to images, and explain its answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from neuralab.cli.choices import choices
from neuralab.filters.apply import OUTPUT_FORMATS, apply_files, demo
from neuralab.filters.explain import describe, format_text
from neuralab.filters.images import sample_photo
from neuralab.filters.model import PADDINGS, SEPIA_RANGES, FilterConfig
from neuralab.core.errors import one_line

Padding = choices("Padding", PADDINGS)
SepiaRange = choices("SepiaRange", SEPIA_RANGES)
OutputFormat = choices("OutputFormat", OUTPUT_FORMATS)

app = typer.Typer(no_args_is_help=True, help="A fixed-weight CNN: sepia (1x1 conv), then a 5x5 Gaussian blur.")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


@app.command()
def apply(
    inputs: Optional[List[Path]] = typer.Argument(None, metavar="IN", show_default=False,
                                                  help="Images (any mode Pillow reads). Default: a real "
                                                       "photo shipped with matplotlib, plus a figure."),
    out: Path = typer.Option(Path("filtered"), "--out", help="A .png or .npy file (one input), else a directory."),
    padding: Padding = typer.Option("valid", help="valid (128 -> 124, the assignment) or same (zero padding, 128 -> 128)."),
    size: int = typer.Option(128, help="Resize to SIZE x SIZE first; 0 keeps the original size."),
    sepia_range: SepiaRange = typer.Option("clip", help="Between the layers: clip to [0,1], rescale (divide by the "
                                                 "largest sepia row sum, 1.351) or none."),
    fused: bool = typer.Option(False, "--fused", help="One 5x5x3->3 convolution (both layers folded); not with clip."),
    fmt: OutputFormat = typer.Option("png", "--format", help="Output format inside a directory: png or npy."),
) -> None:
    """Filter images; one output each. Bad files are reported one line each; exit 2 if any failed."""
    config = FilterConfig(padding=padding.value, sepia_range=sepia_range.value, fused=fused, size=size)
    fmt = fmt.value
    if not inputs:
        result, figure = demo(sample_photo(), out, config, fmt)
        typer.echo(f"wrote {result.output} ({_shape(result.shape)}) from {result.source.name}")
        typer.echo(f"wrote {figure}")
        return
    outcomes = apply_files(list(inputs), out, config, fmt)
    for o in outcomes:
        if o.error is None:
            typer.echo(f"wrote {o.output} ({_shape(o.shape)})")
        else:
            typer.echo(f"error: {one_line(o.error)}", err=True)
    failed = sum(o.error is not None for o in outcomes)
    if failed:
        typer.echo(f"{failed} of {len(outcomes)} inputs failed", err=True)
        raise typer.Exit(2)


@app.command()
def explain(as_json: bool = typer.Option(False, "--json", help="Print the answer as one JSON object.")) -> None:
    """Print the assignment's answer, read from the model's own tensors and a forward pass."""
    d = describe()
    typer.echo(json.dumps(d, indent=2) if as_json else format_text(d))
