"""The main job within its budget: `neuralab report --budget B` from fresh runs, timed as a user
times it, each part's figure printed beside its target.

Targets on 2 CPU cores within the default 10 minutes: depth runs the published 10-epoch protocol for
all six cells, the captioner reaches >= 0.90 exact match on the random split, calc >= 96% exact,
and the whole command (rendering included) ends within the budget.

Usage: python bench/report.py [--budget 10m] [--work /tmp/report-bench] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from neuralab.calc.section import BUDGET_TARGET as CALC_TARGET
from neuralab.caption.section import TARGETS as CAPTION_TARGETS
from neuralab.core.budget import parse_duration
from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance

TARGETS = {"depth cells at 10 epochs": 6, "caption exact match": CAPTION_TARGETS["budget"],
           "calc exact-sum accuracy": CALC_TARGET}


def figures(record: dict) -> dict:
    """The targets' figures, read from the report's own report.json."""
    parts = record["parts"]
    return {"depth cells at 10 epochs": record["depth_cells_at_10"],
            "caption exact match": parts["caption"]["ours"].get("random exact match"),
            "calc exact-sum accuracy": parts["calc"]["ours"].get("exact-sum accuracy")}


@script_main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", default="10m", help="the report's budget (default 10m)")
    p.add_argument("--work", type=Path, default=Path("/tmp/report-bench"), help="fresh runs/ and report/ go here")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = p.parse_args()
    budget = parse_duration(args.budget)
    where = provenance()
    shutil.rmtree(args.work, ignore_errors=True)
    command = [sys.executable, "-c", "from neuralab.cli import main; main()", "report", "--budget", args.budget, "--no-reuse",
               "--out", str(args.work / "report"), "--runs", str(args.work / "runs")]
    t0 = time.perf_counter()
    done = subprocess.run(command)
    wall = time.perf_counter() - t0
    record = json.loads((args.work / "report" / "report.json").read_text())
    depth_runs = [json.loads(p.read_text()) for p in (args.work / "runs" / "depth").glob("*/config.json")]
    record["depth_cells_at_10"] = len({(c["activation"], c["depth"]) for c in depth_runs
                                       if c["variant"] == "keras" and c["epochs"] == 10})
    got = figures(record)
    print(f"neuralab report --budget {args.budget}: exit {done.returncode}, wall {wall:.0f} s "
          f"(budget {budget:.0f} s: {'met' if wall <= budget else 'MISSED'})")
    for name, part in record["parts"].items():
        print(f"  {name:9s} {part['seconds']:6.1f} s of a {part['share']:5.1f} s share  {part['summary']}")
    for name, anchor in TARGETS.items():
        value = got[name]
        met = value is not None and value >= anchor
        print(f"  {name:26s} {value!s:>8}   anchor: >= {anchor}  {'met' if met else 'MISSED'}")
    if args.json:
        atomic_write_json(Path(args.json), {**where, "budget": budget, "wall_seconds": wall, "exit": done.returncode,
                                            "targets": TARGETS, "figures": got, "parts": record["parts"]})


if __name__ == "__main__":
    main()
