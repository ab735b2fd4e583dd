"""The design runs of a captioner, side by side: what each changed, its validation curve's best and
last exact match, and the test figure its training command printed; also the curve after 300 s of caption training and
the last epoch's teacher-forced exact match on its training batches (against validation: the gap).

    python bench/caption_runs.py RUN_DIR [RUN_DIR ...] --json src/neuralab/results/caption/attention-runs.json

Each RUN_DIR is a finished `neuralab caption train` run (config.json, metrics.jsonl, result.json).
The runs are listed in the order given; "changed" names the config fields that differ from the first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.runs import RUN_KEYS, Run

EARLY_SECONDS = 300   # the validation curve compared at this much caption training (the epochs' own seconds)
SHOWN = ("train_clips", "lr", "lr_end", "precision", "batch_size", "steps_per_epoch", "max_seconds")


def summarise(path: Path, first: dict | None) -> dict:
    run = Run(path)
    config = run.config
    epochs = [m for m in run.metrics() if "val_exact_match" in m]
    best = max(epochs, key=lambda m: (m["val_exact_match"], m["epoch"]))   # the kept epoch: a tie goes to the later
    result = run.result
    elapsed = [sum(m["seconds"] for m in epochs[:i + 1]) for i in range(len(epochs))]
    early = [m for m, t in zip(epochs, elapsed) if t <= EARLY_SECONDS]
    changed = {} if first is None else {k: v for k, v in config.items()
                                        if k not in RUN_KEYS and first.get(k) != v}
    return {"run": str(path), "config": {k: config.get(k) for k in SHOWN}, "changed": changed, "epochs": len(epochs),
            "best_val_exact_match": best["val_exact_match"], "best_epoch": best["epoch"],
            "last_val_exact_match": epochs[-1]["val_exact_match"], "val_clips": config["val_clips"],
            "val_exact_match_early": early[-1]["val_exact_match"] if early else None, "early_seconds": EARLY_SECONDS,
            "last_train_accuracy": epochs[-1]["train_accuracy"],
            "test_exact_match": result["exact_match"], "test_clips": result["count"],
            "train_seconds": result["train_seconds"]}


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="finished caption run folders, the baseline first")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures to this JSON file")
    args = parser.parse_args()
    first = Run(args.runs[0]).config
    rows = [summarise(path, None if i == 0 else first) for i, path in enumerate(args.runs)]
    for r in rows:
        change = ", ".join(f"{k}={v}" for k, v in r["changed"].items()) or "baseline"
        print(f"{change:<40} val best {r['best_val_exact_match']:.4f} (epoch {r['best_epoch']} of {r['epochs']}), "
              f"last {r['last_val_exact_match']:.4f}; test {r['test_exact_match']:.4f}; trained {r['train_seconds']:.0f} s")
    if args.json:
        atomic_write_json(args.json, {**provenance(), "runs": rows})


if __name__ == "__main__":
    main()
