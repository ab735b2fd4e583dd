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


def check(docs: Path, results: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--check", "--docs", str(docs), "--results", str(results)],
                          capture_output=True, text=True)


def test_the_docs_tables_match_their_result_files():
    done = check(ROOT / "docs" / "benchmarks.md", REFERENCE_RESULTS)
    assert done.returncode == 0, done.stderr


def test_a_changed_figure_makes_the_check_fail(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(REFERENCE_RESULTS, results)
    real = results / "calc" / "real-test.json"
    figures = json.loads(real.read_text())
    next(iter(figures["kinds"].values()))["digit_accuracy"] -= 0.01
    real.write_text(json.dumps(figures))
    done = check(ROOT / "docs" / "benchmarks.md", results)
    assert done.returncode == 1 and "calc-real" in done.stderr
