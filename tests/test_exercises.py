"""Teachers' exercises: generated keys against torch float64 and scipy, each variant's teaching point
checked independently in torch, determinism by seed, the documents, and the grader."""

import json
import math
from fractions import Fraction

import numpy as np
import pypdf
import pytest

from neuralab.backprop import reference
from neuralab.backprop.exercise import LEVELS, PLANS, generate
from neuralab.filters import exercise as filters_exercise

from .helpers import run_cli

SEEDS = range(12)


@pytest.mark.parametrize("level", LEVELS)
def test_keys_agree_with_torch_float64(level):
    for seed in SEEDS:
        for ex in generate(level, seed, 3):
            ref_grads, ref_final, _ = reference.descend(ex.config)
            answers = ex.answers()
            for k, grads in enumerate(ref_grads, start=1):
                for name, g in grads.items():
                    assert math.isclose(float(Fraction(answers[f"{ex.number}.step{k}.grad.{name}"])), g, abs_tol=1e-9)
            for name, w in ref_final.items():
                assert math.isclose(float(Fraction(answers[f"{ex.number}.final.{name}"])), w, abs_tol=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_every_variant_holds_the_teaching_points_it_aims_for_and_the_key_names(level):
    aims = PLANS[level][1]
    for seed in SEEDS:
        for ex in generate(level, seed, len(aims)):
            wanted = aims[(ex.number - 1) % len(aims)]
            assert set(wanted) <= set(ex.teaching)
            for point in ex.teaching:
                assert reference.holds(point, ex.config, ex.steps), (level, seed, ex.number, point)


def test_the_same_seed_writes_the_same_sheet_and_another_seed_does_not(tmp_path):
    def sheet(seed, name):
        r = run_cli(["exercise", "backprop", "--count", "4", "--level", "medium", "--seed", str(seed),
                     "--out", str(tmp_path / name), "--no-pdf"])
        assert r.exit_code == 0, r.stderr
        return (tmp_path / name / "sheet.md").read_text(), json.loads((tmp_path / name / "key.json").read_text())

    (a, key_a), (b, key_b), (c, _) = sheet(7, "a"), sheet(7, "b"), sheet(8, "c")
    assert a == b and key_a["answers"] == key_b["answers"]
    assert a != c
    assert "Exercise 4" in a and "teaching" not in a.lower()   # questions only
    key_md = (tmp_path / "a" / "key.md").read_text()
    assert "**Teaching points.**" in key_md and "figures/backprop-1-point1.svg" in key_md
    assert run_cli(["exercise", "backprop", "--count", "2", "--out", str(tmp_path / "a"), "--no-pdf"]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "a" / "figures").iterdir()) == ["backprop-1-point1.svg", "backprop-2-point1.svg"]


def test_filter_keys_agree_with_scipy_and_a_wrong_key_is_caught():
    for seed in SEEDS:
        for ex in filters_exercise.generate(seed, 5):
            assert filters_exercise.check(ex, seed) <= filters_exercise.AGREE
            h, w, c = ex.shapes()[-1]
            answers = ex.answers()
            assert (answers[f"{ex.number}.out.h"], answers[f"{ex.number}.out.w"], answers[f"{ex.number}.out.c"]) \
                == (str(h), str(w), str(c))
    ex = filters_exercise.generate(3, 1)[0]
    ex.layers[0].weight = ex.layers[0].weight.copy()
    ex.layers[0].weight[0, 0, 0, 0] += 1e-6   # a key one value off no longer matches its reference
    image = np.random.default_rng(0).random((3, ex.height, ex.width))
    ref = filters_exercise.apply_scipy(ex, image)
    ex.layers[0].weight[0, 0, 0, 0] -= 1e-6
    assert np.abs(filters_exercise.apply_torch(ex, image) - ref).max() > filters_exercise.AGREE


def test_filter_variants_cover_the_catalogue_padding_and_stride():
    exercises = filters_exercise.generate(0, 60)
    names = {layer.name.split(" (")[0].split("x", 1)[-1].strip() for ex in exercises for layer in ex.layers}
    assert {"greyscale", "inversion", "sharpen", "emboss", "Sobel edges"} <= names
    assert any("box blur" in n for n in names) and any("Gaussian" in n for n in names)
    layers = [layer for ex in exercises for layer in ex.layers if layer.kernel > 1]
    assert {0, 1} <= {layer.padding for layer in layers} and {1, 2} <= {layer.stride for layer in layers}


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet")
    r = run_cli(["exercise", "backprop", "--count", "2", "--level", "easy", "--seed", "1", "--out", str(out), "--no-pdf"])
    assert r.exit_code == 0, r.stderr
    return out / "key.json"


def test_the_grader_marks_right_and_wrong_answers(key_file, tmp_path):
    answers = json.loads(key_file.read_text())["answers"]
    parts = list(answers)
    given = {parts[0]: answers[parts[0]],                                      # exact: right
             parts[1]: str(float(Fraction(answers[parts[1]])) + 5e-7),          # inside the tolerance: right
             parts[2]: str(Fraction(answers[parts[2]]) + Fraction(1, 10))}      # off by 0.1: wrong
    csv = tmp_path / "answers.csv"
    csv.write_text("part,answer\n" + "".join(f"{k},{v}\n" for k, v in given.items()))
    r = run_cli(["exercise", "grade", "--key", str(key_file), str(csv), "--json"])
    assert r.exit_code == 0, r.stderr
    marks = {m["part"]: m for m in json.loads(r.stdout)["marks"]}
    assert marks[parts[0]]["right"] and marks[parts[1]]["right"] and not marks[parts[2]]["right"]
    assert all(marks[p]["given"] is None and not marks[p]["right"] for p in parts[3:])
    as_json = tmp_path / "answers.json"
    as_json.write_text(json.dumps(given))
    text = run_cli(["exercise", "grade", "--key", str(key_file), str(as_json)]).stdout
    assert f"wrong  {parts[2]}: {given[parts[2]]}, expected {answers[parts[2]]}" in text
    assert f"2 of {len(parts)} parts right" in text


@pytest.mark.parametrize("name, content, where", [
    ("a.csv", "1.final.w0,0.5,extra\n", "line 1"),
    ("b.csv", "1.final.w0,zero\n", "not a number"),
    ("c.csv", "1.final.w0,1\n1.final.w0,2\n", "answered twice"),
    ("d.csv", "9.final.w7,1\n", "not in the key"),
    ("e.json", "{not json", "not JSON"),
    ("f.json", "[1, 2]", "JSON answers are"),
    ("g.csv", "1.final.w0,nan\n", "nan"),
    ("h.csv", b"\xff\xfe\x00", "UTF-8"),
])
def test_the_grader_refuses_malformed_answers_in_one_line(key_file, tmp_path, name, content, where):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    r = run_cli(["exercise", "grade", "--key", str(key_file), str(path)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0] and name in lines[0], r.stderr


def test_the_grader_refuses_a_file_that_is_not_a_key(tmp_path):
    answers = tmp_path / "a.csv"
    answers.write_text("1.final.w0,1\n")
    negative = tmp_path / "negative.json"
    negative.write_text(json.dumps({"answers": {"1.final.w0": "1"}, "tolerance": {"rtol": -1, "atol": 0}}))
    for key, where in ((answers, "not JSON"), (tmp_path / "missing.json", "no such file"), (negative, "negative")):
        r = run_cli(["exercise", "grade", "--key", str(key), str(answers)])
        assert r.exit_code == 2 and where in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, where", [
    (["backprop", "--count", "0"], "--count"), (["backprop", "--count", "101"], "--count"),
    (["backprop", "--level", "expert"], "--level"), (["filters", "--count", "500"], "--count"),
])
def test_bad_flags_one_line_exit_2(tmp_path, args, where):
    out = tmp_path / "never"
    r = run_cli(["exercise", *args, "--out", str(out), "--no-pdf"])
    assert r.exit_code == 2 and where in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.browser
def test_sheet_and_key_are_printed_to_pdf(tmp_path):
    r = run_cli(["exercise", "filters", "--count", "2", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    for stem, words in (("sheet", "Exercise 2"), ("key", "Output size")):
        text = "".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / f"{stem}.pdf").pages)
        assert words in text
