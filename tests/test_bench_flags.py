"""A bench refuses a bad flag before it starts its work, with exit code 2 and no traceback: a result
file it could not write (so minutes of measuring are never lost to a bad --json at the end), a
number outside its limits, a list it cannot read, a value its config refuses."""

import sys

import pytest

from neuralab.core.errors import UserError
from neuralab.core.io import check_writable

from .helpers import BENCH, bench_module

WRITERS = sorted(path.stem for path in BENCH.glob("*.py") if '"--json"' in path.read_text())


@pytest.mark.parametrize("name", WRITERS)
def test_a_result_file_that_is_a_folder_is_refused_before_any_work(name, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "result.json"
    folder.mkdir()
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--json", str(folder)])
    with pytest.raises(SystemExit) as stop:
        bench_module(name).main()
    assert stop.value.code == 2
    assert f"argument --json: {folder}: is a folder, not a file" in capsys.readouterr().err


def test_an_output_path_is_refused_where_it_could_not_be_written(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(UserError, match="must end in .json"):
        check_writable(tmp_path / "result.txt", ".json")
    with pytest.raises(UserError, match="a-file is not a folder"):
        check_writable(a_file / "deeper" / "result.json", ".json")
    fresh = tmp_path / "new" / "folders" / "result.json"
    assert check_writable(fresh, ".json") == fresh
    assert not (tmp_path / "new").exists()          # checking writes nothing
    assert check_writable(a_file, None) == a_file   # an existing file may be replaced


@pytest.mark.parametrize("name, flags, message", [
    ("filters", ["--n", "100000000"], "argument --n: 100000000 is outside 1..10000"),
    ("web", ["--concurrency", "0"], "argument --concurrency: 0 is outside 1..256"),
    ("calc", ["--only", "symbolic,nope"], "argument --only: unknown 'nope'"),
    ("calc_nesy", ["--digits", "1,x"], "argument --digits: up to 16 comma-separated whole numbers"),
    ("calc_nesy", ["--digits", "1,15", "--budget", "1:60"], "error: --budget: '1:60' gives no number of seconds for N=15"),
    ("calc_nesy", ["--digits", "1", "--seeds", "0,99999999999"], "error: --seed: must be 0..4294967295"),
    ("calc_nesy", ["--digits", "1", "--weight-decay", "-1"], "error: --weight-decay: must be 0..1"),
    ("depth_target", ["--holdout", "0"], "argument --holdout: 0 is outside 1..30000"),
])
def test_a_bad_number_is_refused_before_any_work(name, flags, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *flags])
    with pytest.raises(SystemExit) as stop:
        bench_module(name).main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and "Traceback" not in err
