"""The depth study's target: a modified model that reaches >= 0.98 test accuracy at every depth 1-3
after the protocol's 10 epochs, on 3 seeds. Trains (or reuses) each candidate variant with ReLU at
depths 1-3, seeds 1234-1236, each holding the last `--holdout` MNIST-train images out as val.

The modification is chosen on val alone: the candidate whose worst run (over depths and seeds) reads
the most val images right. Only the chosen one's test figures are printed and saved, beside the 0.98
anchor; the test split is looked at once, for that figure.

Usage: python bench/depth_target.py --variants adam,adam-cosine [--holdout 10000] [--out runs-bench] [--json FILE]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from pathlib import Path

from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.runtime import pick_device
from neuralab.depth import experiment, findings, plan

DEPTHS = (1, 2, 3)   # the target's depths


def cells_of(runs, split: str) -> dict[str, dict[int, list[float]]]:
    """variant -> depth -> the `split` accuracy of each seed's last epoch, in seed order."""
    cells: dict[str, dict[int, list[float]]] = {}
    for (variant, _, depth), seeds in findings.by_cell(runs).items():
        cells.setdefault(variant, {})[depth] = [run.result[f"{split}_accuracy"] for run in seeds]
    return cells


def chosen(val: dict[str, dict[int, list[float]]]) -> str:
    """The candidate whose worst val run is best (the target is judged on the worst run too)."""
    return max(val, key=lambda variant: min(min(seeds) for seeds in val[variant].values()))


def rows_of(cells: dict[int, list[float]]) -> list[dict]:
    return [{"depth": d, "accuracies": cells[d], "mean": statistics.mean(cells[d]),
             "sd": statistics.stdev(cells[d]) if len(cells[d]) > 1 else 0.0} for d in DEPTHS]


@script_main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="adam,adam-cosine", help="comma-separated candidates (default adam,adam-cosine)")
    p.add_argument("--activation", default="relu", help="activation of every run (default relu)")
    p.add_argument("--seeds", type=number_in(int, 1, 10), default=3, help="seeds per cell (default 3)")
    p.add_argument("--holdout", type=number_in(int, 1, experiment.MAX_HOLDOUT), default=10_000,
                   help="last MNIST-train images kept out of training as val, to choose on (default 10000, as many as test)")
    p.add_argument("--out", type=Path, default=Path("runs-bench"), help="runs folder (default runs-bench)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = p.parse_args()
    where = provenance()
    grids = plan.make_plan(None, variants=[args.variants], activations=args.activation, depths="1,2,3",
                           epochs=10, seeds=args.seeds)
    configs = [replace(config, holdout=args.holdout) for config in plan.plan_configs(grids)]
    data = experiment.load_tensors(None, pick_device("auto"))
    runs = experiment.run_configs(configs, data, args.out)
    seconds: dict[str, float] = {}
    for run in runs:
        seconds[run.config["variant"]] = seconds.get(run.config["variant"], 0.0) + run.result["seconds"]
    val = cells_of(runs, "val")
    print(f"val accuracy after 10 epochs ({args.holdout:,} MNIST-train images held out), {args.activation}, "
          f"{args.seeds} seeds:")
    for variant, cells in val.items():
        print(f"  {variant:<12} " + "  ".join(f"depth {d}: {statistics.mean(cells[d]):.4f}" for d in DEPTHS)
              + f"  worst run {min(min(v) for v in cells.values()):.4f}  ({seconds[variant]:.0f} s of training)")
    pick = chosen(val)
    test = rows_of(cells_of([r for r in runs if r.config["variant"] == pick], "test")[pick])
    worst = findings.worst_run(test)
    print(f"chosen on val: {pick}. Its test accuracy; anchor >= {findings.TARGET} at every depth and seed:")
    for r in test:
        print(f"  depth {r['depth']}: {r['mean']:.4f} ± {r['sd']:.4f}  worst seed {min(r['accuracies']):.4f}")
    print(f"  worst of all: {worst:.4f}  {'met' if worst >= findings.TARGET else 'MISSED'}")
    if args.json:
        atomic_write_json(Path(args.json), {
            **where, "activation": args.activation, "seeds": args.seeds, "epochs": 10, "holdout": args.holdout,
            "target": findings.TARGET, "val": {variant: rows_of(cells) for variant, cells in val.items()},
            "chosen": pick, "test": test, "train_seconds": seconds})


if __name__ == "__main__":
    main()
