"""The depth study's target: a modified model that reaches >= 0.98 test accuracy at every depth 1-3
after the protocol's 10 epochs, on 3 seeds. Trains (or reuses) each variant with ReLU at depths 1-3,
seeds 1234-1236, and prints each cell's mean, sd and worst seed beside the 0.98 anchor.

Usage: python bench/depth_target.py --variants adam,adam-cosine [--out runs-bench] [--json FILE]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from neuralab.core.io import atomic_write_json, output_file
from neuralab.core.provenance import provenance
from neuralab.core.runtime import pick_device
from neuralab.depth import experiment, findings, plan


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="adam,adam-cosine", help="comma-separated variants (default adam,adam-cosine)")
    p.add_argument("--activation", default="relu", help="activation of every run (default relu)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    p.add_argument("--out", type=Path, default=Path("runs-bench"), help="runs folder (default runs-bench)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = p.parse_args()
    where = provenance()
    grids = plan.make_plan(None, variants=[args.variants], activations=args.activation, depths="1,2,3",
                           epochs=10, seeds=args.seeds)
    data = experiment.load_tensors(None, pick_device("auto"))
    runs = experiment.run_configs(plan.plan_configs(grids), data, args.out)
    cells: dict[tuple[str, int], list[float]] = {}
    seconds: dict[str, float] = {}
    for run in runs:
        key = (run.config["variant"], run.config["depth"])
        cells.setdefault(key, []).append(run.result["test_accuracy"])
        seconds[run.config["variant"]] = seconds.get(run.config["variant"], 0.0) + run.result["seconds"]
    rows = []
    print(f"test accuracy after 10 epochs, {args.activation}, {args.seeds} seeds; anchor >= {findings.TARGET} "
          "at every depth and seed")
    for variant in grids[0].variants:
        worst = min(min(cells[(variant, d)]) for d in (1, 2, 3))
        for d in (1, 2, 3):
            values = cells[(variant, d)]
            rows.append({"variant": variant, "depth": d, "accuracies": values, "mean": statistics.mean(values),
                         "sd": statistics.stdev(values) if len(values) > 1 else 0.0})
            print(f"  {variant:<12} depth {d}: {rows[-1]['mean']:.4f} ± {rows[-1]['sd']:.4f}  worst seed "
                  f"{min(values):.4f}")
        print(f"  {variant:<12} worst of all: {worst:.4f}  {'met' if worst >= findings.TARGET else 'MISSED'}  "
              f"({seconds[variant]:.0f} s of training)")
    if args.json:
        atomic_write_json(Path(args.json), {**where, "activation": args.activation, "seeds": args.seeds,
                                            "epochs": 10, "target": findings.TARGET, "rows": rows,
                                            "train_seconds": seconds})


if __name__ == "__main__":
    main()
