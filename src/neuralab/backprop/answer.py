"""Solve one exercise end to end: compute, then write the run directory.

A run directory holds `config.json`, `derivation.md`, one compute-graph picture per data point
(`graph-point<i>.png` and `.svg`) and `result.json` (the `--json` object). Everything is computed
and checked before the directory is created, so bad input leaves nothing behind.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

from neuralab.backprop.derive import render
from neuralab.backprop.graph import draw
from neuralab.backprop.network import BackpropConfig, Step, descend
from neuralab.backprop.symbolic import analyse, num_text
from neuralab.core.errors import UserError
from neuralab.core.io import atomic_path, atomic_write_json
from neuralab.core.runs import Run

log = logging.getLogger(__name__)
PART = "backprop"


def _num(v) -> float:
    return float(v)


def _vector(values: tuple) -> float | list[float]:
    """One number as a number (a chain's x and y), several as a list."""
    return _num(values[0]) if len(values) == 1 else [_num(v) for v in values]


def _params_json(params: dict) -> dict:
    return {k: _num(v) for k, v in params.items()}


def result_json(config: BackpropConfig, steps: list[Step]) -> dict:
    """The `--json` object: final weights, every step, and exact text of the final numbers."""
    out_steps = []
    for k, step in enumerate(steps, start=1):
        points = [{"x": _vector(p.x), "y": _vector(p.y), "loss": _num(p.graph.loss.data), "grad": _params_json(p.grad),
                   "nodes": [{"name": n.label, "op": n.op, "value": _num(n.data), "grad": _num(n.grad)}
                             for n in p.visit if n.label]} for p in step.passes]
        out_steps.append({"step": k, "points": points, "before": _params_json(step.before),
                          "grad": _params_json(step.grad), "after": _params_json(step.after)})
    final = steps[-1].after
    return {"final": _params_json(final), "final_exact": {k: num_text(v) for k, v in final.items()},
            "exact": all(isinstance(v, (int, Fraction)) for v in final.values()),
            "loss": config.loss, "reduction": config.reduction, "lr": _num(config.lr),
            "activations": list(config.activations), "layers": list(config.layers), "initial": _params_json(config.initial_params()),
            "steps": out_steps}


def _vector_text(values: tuple) -> str:
    return num_text(values[0]) if len(values) == 1 else "(" + ", ".join(num_text(v) for v in values) + ")"


def draw_points(config: BackpropConfig, steps: list[Step], prefix: Path,
                suffixes: tuple[str, ...] = (".png", ".svg"), limit: int | None = None) -> None:
    """One compute-graph picture per data point (the first `limit`): prefix1.png, prefix2.png, ..."""
    points = [(step, point) for step in steps for point in step.passes][:limit]
    for index, (step, point) in enumerate(points, start=1):
        where = (f"(x, y) = ({num_text(point.x[0])}, {num_text(point.y[0])})" if config.is_chain()
                 else f"x = {_vector_text(point.x)}, y = {_vector_text(point.y)}")
        title = f"data point {index}: {where}, loss {config.loss}"
        if len(step.before) <= 4:   # a wider network's weights are in its boxes: the title stays one line
            title += ", weights " + ", ".join(f"{k} = {num_text(v)}" for k, v in step.before.items())
        draw(point.visit, set(step.before), title, prefix.with_name(f"{prefix.name}{index}"), suffixes)


def open_run(config: BackpropConfig, out: Path | None, runs_root: Path | str = "runs") -> Run:
    """`runs_root/backprop/<time>/`, or exactly `out` when given (created if missing)."""
    if out is None:
        return Run.create(runs_root, PART, config.to_json())
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "config.json", {"part": PART, **config.to_json()})
    return Run(out)


def solve(config: BackpropConfig, out: Path | None = None, runs_root: Path | str = "runs") -> tuple[Run, dict]:
    """Compute the step(s), then write derivation.md, the pictures and result.json into a run dir."""
    try:   # everything that can fail comes before anything is written
        steps = descend(config)
        analysis = analyse(config)
        points = [(step, point) for step in steps for point in step.passes]
        pictures = [(f"Compute graph, data point {i}", f"graph-point{i}.png") for i in range(1, len(points) + 1)]
        derivation = render(config, analysis, steps, pictures)
        result = result_json(config, steps)
    except OverflowError:
        raise UserError("the numbers of this exercise grow past a float's range (about 1.8e308); "
                        "use smaller --weights, --data or --lr") from None
    run = open_run(config, out, runs_root)
    for stale in run.path.glob("graph-point*"):   # a reused --out keeps no graph of an earlier exercise
        stale.unlink()
    draw_points(config, steps, run.path / "graph-point")
    with atomic_path(run.path / "derivation.md") as tmp:
        tmp.write_text(derivation)
    result["run_dir"] = str(run.path)
    run.finish(result)
    log.debug("wrote %s", run.path / "derivation.md")
    return run, result
