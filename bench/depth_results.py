"""Print the depth study's figures from a folder of finished runs, beside the published table.

Reads `RUNS/depth/*/` (config.json, metrics.jsonl, result.json) as `neuralab depth run --out RUNS`
writes them; nothing is re-trained and no number is typed in. The runs measured for the docs are
in `src/neuralab/results/depth-h200/` (an H200 GPU, 2026-11-28):

    python bench/depth_results.py src/neuralab/results/depth-h200 --json src/neuralab/results/depth/h200.json

The variant table at depths 5 and 10 over 3 seeds ran on 2 CPU cores (2026-12-01); its runs are in
`src/neuralab/results/depth-cpu/`:

    neuralab depth run --depths 5,10 --activations relu,sigmoid --variant he,batchnorm,residual,adam \
        --seeds 3 --epochs 10 --device cpu --out RUNS
    python bench/depth_results.py src/neuralab/results/depth-cpu --json src/neuralab/results/depth/deep-variants.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.runs import runs_holding
from neuralab.depth import experiment, findings


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the runs root (holding depth/)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    runs = sorted(runs_holding(args.runs, experiment.PART), key=lambda run: run.path.name)
    cells = findings.by_cell(runs)
    repro = findings.reproduction(cells)
    print(f"{len(runs)} finished runs in {args.runs}")
    print("reproduction (keras model, mean ± sd over seeds) vs the published single Keras run, band ±0.02:")
    for r in repro:
        verdict = "within" if r["within"] else "OUTSIDE"
        print(f"  {r['activation']:<7} depth {r['depth']}: {r['mean']:.4f} ± {r['std']:.4f} ({r['seeds']} seeds, "
              f"{r['epochs']} epochs)  published {r['published']:.3f}  {verdict}  "
              f"last-3-epoch range {r['late_min']:.3f}-{r['late_max']:.3f}")
    rows = [experiment.summary_row(run) for run in runs]
    print("\nmean test accuracy per variant (seeds pooled):")
    print(experiment.summary_markdown(rows, sorted({r["depth"] for r in rows})))
    print(f"\ntarget: a modified model >= {findings.TARGET} at every depth 1-3:")
    for variant, activation, worst in findings.variant_minimums(cells):
        print(f"  {variant:<10} {activation:<8} worst depth 1-3 mean {worst:.4f}  "
              f"{'met' if worst >= findings.TARGET else 'missed'}")
    if args.json:
        devices = sorted({run.result.get("device", "not recorded") for run in runs})
        atomic_write_json(args.json, {**provenance(), "runs_folder": str(args.runs), "trained_on": devices,
                                      "epochs": sorted({run.config["epochs"] for run in runs}),
                                      "reproduction": repro, "rows": rows})


if __name__ == "__main__":
    main()
