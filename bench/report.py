"""The main job within its budget: `neuralab report --budget B` from fresh runs, timed as a user
times it, each part's figure printed beside its target.

Targets on 2 CPU cores within the default 10 minutes: depth runs the published 10-epoch protocol for
all six cells, the captioner's headline (the learned encoder) reaches >= 0.90 exact match on the
random split, calc >= 96% exact, the four hand-in files are written (page, Markdown, notebook, PDF),
the page is at most 12 screens of 1280x1000 with its folds closed and no section over 3, and the
whole command (notebook and PDF included) ends within the budget.

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
from neuralab.core.runs import runs_holding

TARGETS = {"depth cells at 10 epochs": 6, "caption exact match": CAPTION_TARGETS["budget"],
           "calc exact-sum accuracy": CALC_TARGET, "hand-in files written": 4,
           "page screens, folds closed": 12, "screens of the longest section": 3}
AT_MOST = ["page screens, folds closed", "screens of the longest section"]   # the other targets are "at least"
HAND_IN = ("index.html", "index.md", "assignment4.ipynb", "assignment4.pdf")
SCREEN = (1280, 1000)


def screens(page: Path) -> tuple[float, float]:
    """(the whole page, its longest section) in screens of 1280x1000, folds closed, measured in Chromium."""
    from playwright.sync_api import sync_playwright

    from neuralab.report.pdf import CHROMIUM_ARGS, find_chromium

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": SCREEN[0], "height": SCREEN[1]})
        tab.goto(page.resolve().as_uri())
        total = tab.evaluate("document.documentElement.scrollHeight")
        longest = max(tab.eval_on_selector_all("section", "ss => ss.map(s => s.getBoundingClientRect().height)"))
        browser.close()
    return total / SCREEN[1], longest / SCREEN[1]


def figures(record: dict, out: Path) -> dict:
    """The targets' figures, read from the report's own report.json and its folder."""
    parts = record["parts"]
    page, longest = screens(out / "index.html")
    return {"depth cells at 10 epochs": record["depth_cells_at_10"],
            "caption exact match": parts["caption"]["ours"].get("learned encoder exact match"),
            "calc exact-sum accuracy": parts["calc"]["ours"].get("exact-sum accuracy"),
            "hand-in files written": sum((out / name).is_file() for name in HAND_IN),
            "page screens, folds closed": round(page, 2), "screens of the longest section": round(longest, 2)}


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
    depth_runs = [run.config for run in runs_holding(args.work / "runs", "depth", "config.json")]
    record["depth_cells_at_10"] = len({(c["activation"], c["depth"]) for c in depth_runs
                                       if c["variant"] == "keras" and c["epochs"] == 10})
    got = figures(record, args.work / "report")
    print(f"neuralab report --budget {args.budget}: exit {done.returncode}, wall {wall:.0f} s "
          f"(budget {budget:.0f} s: {'met' if wall <= budget else 'MISSED'})")
    for name, part in record["parts"].items():
        print(f"  {name:9s} {part['seconds']:6.1f} s of a {part['share']:5.1f} s share  {part['summary']}")
    for name, anchor in TARGETS.items():
        value = got[name]
        at_most = name in AT_MOST
        met = value is not None and (value <= anchor if at_most else value >= anchor)
        print(f"  {name:30s} {value!s:>8}   anchor: {'<=' if at_most else '>='} {anchor}  {'met' if met else 'MISSED'}")
    if args.json:
        atomic_write_json(Path(args.json), {**where, "budget": budget, "wall_seconds": wall, "exit": done.returncode,
                                            "targets": TARGETS, "at_most": AT_MOST, "figures": got, "parts": record["parts"]})


if __name__ == "__main__":
    main()
