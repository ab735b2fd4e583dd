"""The tables of docs/benchmarks.md are the ones their result files print: regenerating them from
src/neuralab/results/ changes nothing, and a figure changed in a result file makes the check fail."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from neuralab.core.provenance import REFERENCE_RESULTS

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "docs_tables.py"


def check(results: Path) -> subprocess.CompletedProcess:
    """`--check` over docs/benchmarks.md and every appendix file under docs/benchmarks/."""
    return subprocess.run([sys.executable, str(SCRIPT), "--check", "--results", str(results)], capture_output=True, text=True)


def test_the_docs_tables_match_their_result_files():
    done = check(REFERENCE_RESULTS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("tables match") == 1 + len(list((ROOT / "docs" / "benchmarks").glob("*.md")))


def test_a_changed_figure_makes_the_check_fail(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(REFERENCE_RESULTS, results)
    real = results / "calc" / "real-test.json"
    figures = json.loads(real.read_text())
    next(iter(figures["kinds"].values()))["digit_accuracy"] -= 0.01
    real.write_text(json.dumps(figures))
    done = check(results)
    assert done.returncode == 1 and "calc.md: tables differ from their result files: calc-real" in done.stderr


def test_the_headlines_open_the_benchmarks_and_follow_their_files(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(REFERENCE_RESULTS, results)
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    assert docs.index("<!-- table: headlines -->") < docs.index("## In full") and len(docs.splitlines()) < 120
    caption = results / "caption" / "attention.json"
    figures = json.loads(caption.read_text())
    figures["splits"]["random"]["exact_match"] = 0.94
    caption.write_text(json.dumps(figures))
    done = check(results)
    assert done.returncode == 1 and "benchmarks.md: tables differ from their result files: headlines" in done.stderr


def test_the_600s_runs_table_lists_every_kept_run_by_date_and_says_when_one_falls_below_97():
    from neuralab.calc.benchmarks import symbolic_rows

    runs = [json.loads(path.read_text()) for path in sorted((REFERENCE_RESULTS / "calc").glob("symbolic-600s*.json"))]
    worse = json.loads(json.dumps(next(run for run in runs if "provenance" not in run)))   # the current schema
    worse["date"], worse["commit"] = "2099-01-01T00:00:00+00:00", "f" * 40
    worse["symbolic"]["test"]["exact_sum_accuracy"] = 0.9650
    rows = [line for line in symbolic_rows([worse, *runs]) if line.startswith("| `")]
    assert len(rows) == len(runs) + 1
    assert rows[-1].startswith("| `fffffff` | 2099-01-01") and "96.50% of 10,000" in rows[-1]
    assert rows[-1].endswith("| MISSED |")
    assert all(row.endswith("| met |") for row in rows[:-1])
