"""`neuralab backprop`: one gradient-descent step on a small network, derived by hand, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from neuralab.backprop.answer import solve
from neuralab.backprop.network import LOSSES, REDUCTIONS, BackpropConfig, parse_list, parse_number
from neuralab.backprop.symbolic import num_text
from neuralab.cli.choices import choices
from neuralab.core.errors import UserError
from neuralab.core.io import check_folder

Loss = choices("Loss", LOSSES)
Reduction = choices("Reduction", REDUCTIONS)


def _config(activations: str, layers: str | None, weights: str, bias: bool, biases: str | None,
            data: list[str] | None, lr: str, loss: str, reduction: str) -> BackpropConfig:
    given = {} if data is None else {"data": [tuple(parse_list(text, f"--data {text!r}")) for text in data]}
    widths = None
    if layers is not None:
        widths = []
        for part in layers.split(","):
            if not part.strip().isdigit():
                raise UserError(f"--layers {layers!r}: widths are whole numbers, e.g. 1,2,1")
            widths.append(int(part))
    return BackpropConfig(
        activations=[a.strip() for a in activations.split(",")] if activations.strip() else [],
        weights=parse_list(weights, "--weights"), bias=bias, lr=parse_number(lr, "--lr"),
        loss=loss.value, reduction=reduction.value, layers=widths,
        biases=None if biases is None else parse_list(biases, "--biases"), **given)


def backprop(
    activations: str = typer.Option("relu,relu", help="Activation per layer, input side first: "
                                    "relu, sigmoid, tanh, linear."),
    layers: Optional[str] = typer.Option(None, help="Widths from the input, e.g. 1,2,1 or 2,3,1 (at most 6 "
                                         "each). Default: a chain, one neuron per layer."),
    weights: str = typer.Option("1,2", help="Starting weights (decimals or fractions like 1/3): one per layer for "
                                "a chain; with --layers, layer by layer, row by row (W0[0][0], W0[0][1], ...)."),
    bias: bool = typer.Option(False, "--bias", help="Give every neuron a bias, starting at 0."),
    biases: Optional[str] = typer.Option(None, help="Starting biases, layer by layer (implies --bias)."),
    data: Optional[list[str]] = typer.Option(None, "--data", help="A data point: its inputs, then its targets "
                                             "(x,y for a chain); repeat for more. Default: --data 1,2 --data 2,3."),
    lr: str = typer.Option("0.1", help="Learning rate, > 0."),
    loss: Loss = typer.Option("half-squared", help="half-squared 1/2(yhat-y)^2, squared (yhat-y)^2, absolute |yhat-y|."),
    reduction: Reduction = typer.Option("sgd", help="sgd: one update per point in order; sum / mean: one update "
                                  "with the gradients summed / averaged over all points."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write here instead of runs/backprop/<time>/."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (final weights, every step)."),
) -> None:
    """One gradient-descent step by hand: writes derivation.md (Markdown + LaTeX) and compute-graph pictures.

    A wider network: --layers 1,2,1 --activations relu,linear --weights 1,-1,2,1 --data 1,2.

    With no options: the 2017 assignment's case, y = relu(w1 relu(w0 x)), w0 = 1, w1 = 2, points
    (1, 2) and (2, 3), learning rate 0.1. relu'(0) is taken as 0, as in torch.
    """
    config = _config(activations, layers, weights, bias, biases, data, lr, loss, reduction)
    if out is not None:
        check_folder(out, "--out")
    run, result = solve(config, out)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo("final " + ", ".join(f"{k} = {v}" for k, v in result["final_exact"].items()))
    typer.echo(f"wrote {run.path / 'derivation.md'}")
    for k, step in enumerate(result["steps"], start=1):
        typer.echo(f"after step {k}: " + ", ".join(f"{n} {num_text(v)}" for n, v in step["after"].items()))
