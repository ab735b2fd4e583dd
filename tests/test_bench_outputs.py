"""A bench refuses a result file it could not write before it starts its work (exit code 2, the path
named), so minutes of measuring are never lost to a bad --json at the end."""

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
