"""Exercise sheets' shared rules: how many exercises a sheet holds, and marking students' numeric
answers against a sheet's key.

A key (`key.json`, written with each sheet) holds every answer by part id, as exact text ("0.6",
"1/3", "124"), and its tolerance: a part is right when |given - expected| <= atol + rtol |expected|.
Answers come as CSV (`part,answer` per row, a header row optional) or JSON (an object
{part: answer} or a list of {"part", "answer"}). Numbers may be decimals or fractions. Anything
malformed is refused with one UserError naming the file and the line or part.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from neuralab.core.errors import UserError, one_line
from neuralab.core.io import path_fault

MAX_EXERCISES = 100      # a sheet longer than this is no longer one assignment
MAX_BYTES = 1_000_000    # an answers file or key of a 100-exercise sheet is far smaller
MAX_PARTS = 20_000


def check_count(count: int) -> None:
    """The number of exercises a sheet is asked for, refused outside 1..MAX_EXERCISES."""
    if not 1 <= count <= MAX_EXERCISES:
        raise UserError(f"--count: {count} is not 1..{MAX_EXERCISES}")


@dataclass
class Mark:
    part: str
    expected: str
    given: str | None   # None: not answered
    right: bool


def _number(text, where: str) -> Fraction:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UserError(f"{where}: {one_line(repr(text))[:40]} is not a number")
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise UserError(f"{where}: {one_line(str(text))[:40]!r} is not a number (a decimal or a fraction like 1/3)") from None
    if not math.isfinite(float(value)):
        raise UserError(f"{where}: {text!r} is too large")
    return value


def _read(path: Path, what: str) -> str:
    if (fault := path_fault(path)) is not None:
        raise UserError(f"{what} {one_line(str(path))}: {fault}")
    if path.stat().st_size > MAX_BYTES:
        raise UserError(f"{what} {one_line(str(path))}: larger than {MAX_BYTES // 1000} kB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{what} {one_line(str(path))}: not UTF-8 text") from None


def load_key(path: Path) -> tuple[dict[str, str], dict[str, float]]:
    """(answers by part, tolerance {"rtol", "atol"}) of a key.json."""
    where = f"--key {one_line(str(path))}"
    try:
        key = json.loads(_read(path, "--key"))
    except json.JSONDecodeError as e:
        raise UserError(f"{where}: not JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(key, dict) or not isinstance(key.get("answers"), dict) or not isinstance(key.get("tolerance"), dict):
        raise UserError(f"{where}: not an exercise key (no answers and tolerance; `neuralab exercise` writes key.json)")
    tolerance = {name: float(_number(key["tolerance"].get(name), f"{where}: tolerance {name}")) for name in ("rtol", "atol")}
    if min(tolerance.values()) < 0:
        raise UserError(f"{where}: a tolerance is negative ({tolerance})")
    for part, value in key["answers"].items():
        _number(value, f"{where}: part {one_line(part)[:40]}")
    return key["answers"], tolerance


def load_answers(path: Path) -> dict[str, str]:
    """Part -> the student's answer text, from CSV or JSON."""
    text, name = _read(path, "ANSWERS"), one_line(str(path))
    rows: list[tuple[str, object, str]] = []   # (part, answer, where)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{name}: not JSON ({e.msg}, line {e.lineno})") from None
        if isinstance(data, dict):
            rows = [(str(k), v, f"{name}: part {one_line(str(k))[:40]}") for k, v in data.items()]
        elif isinstance(data, list) and all(isinstance(r, dict) and {"part", "answer"} <= r.keys() for r in data):
            rows = [(str(r["part"]), r["answer"], f"{name}: item {i}") for i, r in enumerate(data, 1)]
        else:
            raise UserError(f"{name}: JSON answers are an object {{part: answer}} or a list of {{\"part\", \"answer\"}}")
    else:
        for line, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise UserError(f"{name} line {line}: {len(row)} field(s); a row is part,answer")
            if line == 1 and row[0].strip().lower() == "part":
                continue   # the header
            rows.append((row[0].strip(), row[1], f"{name} line {line}"))
    if len(rows) > MAX_PARTS:
        raise UserError(f"{name}: {len(rows)} answers, at most {MAX_PARTS}")
    answers: dict[str, str] = {}
    for part, answer, where in rows:
        if part in answers:
            raise UserError(f"{where}: part {one_line(part)[:40]} is answered twice")
        _number(answer, where)
        answers[part] = str(answer).strip()
    return answers


def grade(key: dict[str, str], tolerance: dict[str, float], answers: dict[str, str], source: str) -> list[Mark]:
    """One mark per part of the key; an answered part the key does not have is refused."""
    unknown = [part for part in answers if part not in key]
    if unknown:
        raise UserError(f"{one_line(source)}: part {one_line(unknown[0])[:40]} is not in the key "
                        f"({len(unknown)} unknown part(s))")
    marks = []
    for part, expected in key.items():
        given = answers.get(part)
        right = given is not None and abs(float(Fraction(given) - Fraction(expected))) <= \
            tolerance["atol"] + tolerance["rtol"] * abs(float(Fraction(expected)))
        marks.append(Mark(part, expected, given, right))
    return marks
