"""Every output folder is checked before any work, through one helper, and a failing path names its
own flag; a good report is never replaced by one in which every part failed."""

import sys
import types

import pytest
from PIL import Image

from neuralab.core.section import Section
from neuralab.report.build import PARTS, ReportConfig, build_report

from .helpers import run_cli

COMMANDS = [["backprop"], ["calc", "train", "--dry-run"], ["caption", "train", "--dry-run"], ["depth", "run", "--dry-run"],
            ["report", "--parts", "backprop"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_output_folder_that_cannot_be_made_is_refused_before_any_work(tmp_path, command):
    (tmp_path / "file.png").write_bytes(b"x")
    for bad, fault in (("/proc/x", "cannot make a folder there"), (str(tmp_path / "file.png" / "sub"), "cannot make a folder there"),
                       (str(tmp_path / "file.png"), "exists and is not a folder")):
        result = run_cli([*command, "--out", bad])
        assert result.exit_code == 2, (command, bad, result.stdout, result.stderr)
        assert result.stderr.startswith(f"error: --out: {bad}") and fault in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_report_names_the_runs_flag_and_keeps_a_good_report(tmp_path):
    out = tmp_path / "r"
    assert run_cli(["report", "--parts", "backprop", "--out", str(out), "--runs", str(tmp_path / "runs")]).exit_code == 0
    page = (out / "index.html").read_bytes()
    result = run_cli(["report", "--parts", "backprop", "--out", str(out), "--runs", "/proc/x"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --runs: /proc/x: cannot make a folder there")
    assert (out / "index.html").read_bytes() == page


def test_a_report_in_which_every_part_failed_does_not_replace_one(tmp_path, monkeypatch):
    def broken(ctx):
        raise RuntimeError("broken")

    def fine(ctx):
        return Section("backprop", "1.1", "Fine", "a lead", question="q?", answer="a.")
    out = tmp_path / "r"
    monkeypatch.setitem(sys.modules, "neuralab.backprop.section", types.SimpleNamespace(build=fine))
    build_report(ReportConfig(out_dir=out, runs_root=tmp_path / "runs", parts=("backprop",)))
    page = (out / "index.html").read_bytes()
    for key, _, _ in PARTS:
        monkeypatch.setitem(sys.modules, f"neuralab.{key}.section", types.SimpleNamespace(build=broken))
    report = build_report(ReportConfig(out_dir=out, runs_root=tmp_path / "runs", parts=("backprop", "filters")))
    assert report.written == [] and (out / "index.html").read_bytes() == page
    first = build_report(ReportConfig(out_dir=tmp_path / "new", runs_root=tmp_path / "runs", parts=("backprop",)))
    assert first.written and "This section failed" in (tmp_path / "new" / "index.html").read_text()   # nothing to keep


def test_a_bad_filters_out_is_one_line_not_one_per_input(tmp_path):
    pictures = []
    for i in range(3):
        pictures.append(str(tmp_path / f"p{i}.png"))
        Image.new("RGB", (8, 8), "white").save(pictures[-1])
    result = run_cli(["filters", "apply", *pictures, "--out", "/proc/x"])
    assert result.exit_code == 2 and result.stderr.strip() == "error: --out: /proc/x: cannot make a folder there (/proc: No such file or directory)"
    result = run_cli(["filters", "apply", pictures[0], "--out", "/proc/x/out.png"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --out: /proc/x/out.png: cannot write there (/proc: ")


def test_a_file_name_holding_a_newline_stays_on_one_line(tmp_path):
    name = tmp_path / "a\nb.npz"
    result = run_cli(["data", "info", "--data-dir", str(name)])
    assert result.exit_code == 2 and result.stderr == f"error: {tmp_path}/a\\nb.npz: no such file or directory\n"
    result = run_cli(["filters", "apply", str(tmp_path / "c\nd.png"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and f"error: {tmp_path}/c\\nd.png: " in result.stderr.splitlines()[0]
