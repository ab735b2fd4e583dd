"""Write the tables of docs/benchmarks.md (and its appendix docs/benchmarks/*.md) from the result files in
src/neuralab/results/, never by hand.

Each generated table sits between `<!-- table: NAME -->` and `<!-- /table -->`; NAME picks the
result file and the function that prints it. `--check` rewrites nothing and exits 1 when a table
differs from what its file says (the test suite runs it).

    python bench/docs_tables.py            # rewrite every table
    python bench/docs_tables.py --check    # fail if any table and its JSON disagree
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable

from neuralab.calc.benchmarks import confusion_rows, cost_rows, misread_rows, real_rows, symbolic_rows
from neuralab.calc.nesy_tables import curve_rows, held_out_rows, nesy_table, supervised_rows
from neuralab.caption.tables import errors_rows, result_rows, runs_rows
from neuralab.core.io import atomic_write_bytes
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.core.reference import measured_sentence
from neuralab.depth.findings import target_lines
from neuralab.depth.tables import deep_rows, h200_rows, keras_rows
from neuralab.filters.tables import throughput_rows
from neuralab.report.tables import abuse_rows, headline_rows, run_rows
from neuralab.web.tables import load_rows, pictures_rows

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def measured(rows: Callable[[dict], list[str]]) -> Callable[[dict], list[str]]:
    """A result file's table, then the sentence that says where it came from."""
    return lambda result: rows(result) + ["", measured_sentence(result)]


def every(rows: Callable[[list[dict]], list[str]]) -> Callable[[list[dict]], list[str]]:
    """A table over every file of a pattern, then where each file came from."""
    return lambda results: rows(results) + [m for r in results for m in ["", measured_sentence(r)]]


TABLES = {   # name -> (result file or pattern; None: the whole results folder, table printer)
    "headlines": (None, headline_rows),
    "report": ("report/budget-10m.json", measured(run_rows)),
    "report-first": ("report/budget-10m-first.json", measured(run_rows)),
    "report-3067516": ("report/budget-10m-3067516.json", measured(run_rows)),
    "report-4cb532c": ("report/budget-10m-4cb532c.json", measured(run_rows)),
    "depth-h200": ("depth/h200.json", measured(h200_rows)),
    "depth-target": ("depth/target-val.json", measured(target_lines)),
    "depth-deep": ("depth/deep-variants.json", measured(deep_rows)),
    "depth-keras": ("depth/keras-10-epochs.json", measured(keras_rows)),
    "calc-real": ("calc/real-test.json", real_rows),
    "calc-real-notebook": ("calc/real-notebook-test.json", real_rows),
    "calc-real-notebook-718a7aa": ("calc/real-notebook-test-718a7aa.json", real_rows),
    "calc-real-notebook-47458eb": ("calc/real-notebook-test-47458eb.json", real_rows),
    "calc-real-notebook-600s": ("calc/real-notebook-test-600s.json", real_rows),
    "calc-real-notebook-600s-c1c1342": ("calc/real-notebook-test-600s-c1c1342.json", real_rows),
    "calc-real-notebook-600s-d780ad2": ("calc/real-notebook-test-600s-d780ad2.json", real_rows),
    "calc-real-notebook-62f7025": ("calc/real-notebook-test-62f7025.json", real_rows),
    "calc-real-grid-before": ("calc/real-notebook-train-grid-before.json", real_rows),
    "calc-real-grid-after": ("calc/real-notebook-train-grid-after.json", real_rows),
    "calc-real-edge-before": ("calc/real-notebook-train-edge-before.json", real_rows),
    "calc-real-edge-after": ("calc/real-notebook-train-edge-after.json", real_rows),
    "calc-real-camera": ("calc/real-camera-test.json", real_rows),
    "calc-real-camera-0722926": ("calc/real-camera-test-0722926.json", real_rows),
    "calc-real-camera-speed-train-before": ("calc/real-camera-speed-train-before.json", real_rows),
    "calc-real-camera-speed-train": ("calc/real-camera-speed-train.json", real_rows),
    "calc-real-camera-9fab650": ("calc/real-camera-test-9fab650.json", real_rows),
    "calc-real-camera-threads-train-before": ("calc/real-camera-threads-train-before.json", real_rows),
    "calc-real-camera-threads-train": ("calc/real-camera-threads-train.json", real_rows),
    "calc-real-camera-a483296": ("calc/real-camera-test-a483296.json", real_rows),
    "calc-real-hands-before": ("calc/real-hands-train-before.json", real_rows),
    "calc-real-hands-after": ("calc/real-hands-train-after.json", real_rows),
    "calc-real-camera-39f11f3": ("calc/real-camera-test-39f11f3.json", real_rows),
    "calc-real-camera-01ceff4": ("calc/real-camera-test-01ceff4.json", real_rows),
    "calc-real-notebook-01ceff4": ("calc/real-notebook-test-01ceff4.json", real_rows),
    "calc-real-joined-train-whole": ("calc/real-joined-train-whole.json", real_rows),
    "calc-real-joined-train-cut": ("calc/real-joined-train-cut.json", real_rows),
    "calc-real-judged-train-before": ("calc/real-judged-train-before.json", real_rows),
    "calc-real-judged-train": ("calc/real-judged-train.json", real_rows),
    "calc-real-joined": ("calc/real-joined-test.json", real_rows),
    "calc-real-joined-600s": ("calc/real-joined-test-600s.json", real_rows),
    "calc-real-notebook-fd82ce9": ("calc/real-notebook-test-fd82ce9.json", real_rows),
    "calc-real-camera-c7af11c": ("calc/real-camera-test-c7af11c.json", real_rows),
    "calc-real-camera-4189eb0": ("calc/real-camera-test-4189eb0.json", real_rows),
    "calc-real-notebook-4189eb0": ("calc/real-notebook-test-4189eb0.json", real_rows),
    "calc-real-joined-600s-4189eb0": ("calc/real-joined-test-600s-4189eb0.json", real_rows),
    "calc-real-seams-train-before": ("calc/real-seams-train-before.json", real_rows),
    "calc-real-seams-train": ("calc/real-seams-train.json", real_rows),
    "calc-real-notebook-7e10b75": ("calc/real-notebook-test-7e10b75.json", real_rows),
    "calc-real-camera-7e10b75": ("calc/real-camera-test-7e10b75.json", real_rows),
    "calc-real-faint-train": ("calc/real-faint-train.json", real_rows),
    "calc-real-pens": ("calc/real-pens-test.json", real_rows),
    "calc-real-pens-dda031c": ("calc/real-pens-test-dda031c.json", real_rows),
    "calc-real-pens-train": ("calc/real-pens-train.json", real_rows),
    "calc-real-pens-47458eb": ("calc/real-pens-test-47458eb.json", real_rows),
    "calc-real-hands-train-makerun": ("calc/real-hands-train-makerun.json", real_rows),
    "calc-real-hands-train-600s": ("calc/real-hands-train-600s.json", real_rows),
    "calc-real-hands-test-600s": ("calc/real-hands-test-600s.json", real_rows),
    "calc-real-distort2-train": ("calc/real-distort2-train.json", real_rows),
    "calc-real-upright-train": ("calc/real-upright-train.json", real_rows),
    "calc-real-upright-pens-train": ("calc/real-upright-pens-train.json", real_rows),
    "calc-real-notebook-7ef317c": ("calc/real-notebook-test-7ef317c.json", real_rows),
    "calc-real-camera-7ef317c": ("calc/real-camera-test-7ef317c.json", real_rows),
    "calc-real-camera-47458eb": ("calc/real-camera-test-47458eb.json", real_rows),
    "calc-real-camera-2e68306": ("calc/real-camera-test-2e68306.json", real_rows),
    "calc-real-areas-train": ("calc/real-areas-train.json", real_rows),
    "calc-real-camera-frame-train": ("calc/real-camera-frame-train.json", real_rows),
    "calc-real-areas-paper-train": ("calc/real-areas-paper-train.json", real_rows),
    "calc-real-desk": ("calc/real-desk-test.json", real_rows),
    "calc-real-judge-train": ("calc/real-judge-train.json", real_rows),
    "calc-real-judge-train-nojudge": ("calc/real-judge-train-nojudge.json", real_rows),
    "calc-real-judge-600s": ("calc/real-judge-test-600s.json", real_rows),
    "calc-real-desk-a483296": ("calc/real-desk-test-a483296.json", real_rows),
    "calc-real-desk-train": ("calc/real-desk-train.json", real_rows),
    "calc-real-desk-3a6d135": ("calc/real-desk-test-3a6d135.json", real_rows),
    "calc-real-desk-train-3a6d135": ("calc/real-desk-train-3a6d135.json", real_rows),
    "calc-real-camera-718a7aa": ("calc/real-camera-test-718a7aa.json", real_rows),
    "calc-real-sheet-paper-train": ("calc/real-sheet-paper-train.json", real_rows),
    "calc-real-sheet-train": ("calc/real-sheet-train.json", real_rows),
    "calc-real-pens-a4f15b5": ("calc/real-pens-test-a4f15b5.json", real_rows),
    "calc-real-train-1803ca6": ("calc/real-train-1803ca6.json", real_rows),
    "calc-real-train-c7af11c": ("calc/real-train-c7af11c.json", real_rows),
    "calc-real-train-seed1-1803ca6": ("calc/real-train-seed1-1803ca6.json", real_rows),
    "calc-real-train-seed1-c7af11c": ("calc/real-train-seed1-c7af11c.json", real_rows),
    "calc-cost": ("calc/cost*.json", every(cost_rows)),
    "calc-600s-runs": ("calc/symbolic-600s*.json", symbolic_rows),
    "calc-confusion": ("calc/confusion-n100-bf16-seed0.json", measured(confusion_rows)),
    "calc-misread": ("calc/misread-n15-wd0.05-seed0-2.json", measured(misread_rows)),
    "calc-nesy": ("calc/nesy*.json", lambda results: nesy_table(results)[2:]),
    "calc-curves": ("calc/nesy*.json", curve_rows),
    "calc-held-out": ("calc/nesy*.json", held_out_rows),
    "calc-supervised": ("calc/supervised*.json", every(supervised_rows)),
    "caption": ("caption/full.json", measured(result_rows)),
    "caption-attention": ("caption/attention.json", measured(result_rows)),
    "caption-errors": ("caption/errors.json", measured(errors_rows)),
    "caption-attention-runs": ("caption/attention-runs.json", measured(runs_rows)),
    "abuse": ("abuse.json", measured(abuse_rows)),
    "filters": ("filters/throughput.json", measured(throughput_rows)),
    "web": ("web/load.json", measured(load_rows)),
    "web-pictures": ("web/pictures.json", measured(pictures_rows)),
    "web-pictures-8cd4c42": ("web/pictures-8cd4c42.json", measured(pictures_rows)),
    "web-pictures-7a79e0b": ("web/pictures-7a79e0b.json", measured(pictures_rows)),
    "web-pictures-4189eb0": ("web/pictures-4189eb0.json", measured(pictures_rows)),
    "web-pictures-7e10b75": ("web/pictures-7e10b75.json", measured(pictures_rows)),
    "web-pictures-a4f15b5": ("web/pictures-a4f15b5.json", measured(pictures_rows)),
}


def render(docs: str, results: Path) -> str:
    def table(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"error: docs table {name!r} has no result file (known: {', '.join(TABLES)})")
        path, printer = TABLES[name]
        if path is None:     # a table drawn from several files
            loaded = results
        elif "*" in path:      # every file of the pattern, as one list
            loaded = [json.loads(f.read_text()) for f in sorted(results.glob(path))]
        else:
            loaded = json.loads((results / path).read_text())
        body = "\n".join(printer(loaded)) + "\n"
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(table, docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, nargs="+",
                        default=[ROOT / "docs" / "benchmarks.md", *sorted((ROOT / "docs" / "benchmarks").glob("*.md"))])
    parser.add_argument("--results", type=Path, default=REFERENCE_RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if a table differs from its result file")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.docs:
        docs = path.read_text()
        fresh = render(docs, args.results)
        if not args.check:
            atomic_write_bytes(path, fresh.encode())
            print(f"wrote {path}")
            continue
        stale = [m["name"] for m, n in zip(BLOCK.finditer(docs), BLOCK.finditer(fresh)) if m["body"] != n["body"]]
        if stale:
            print(f"{path}: tables differ from their result files: {', '.join(stale)}; run python bench/docs_tables.py",
                  file=sys.stderr)
            failed = 1
        else:
            print(f"{path}: {len(BLOCK.findall(docs))} tables match their result files")
    return failed


if __name__ == "__main__":
    sys.exit(main())
