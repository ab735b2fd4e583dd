"""Teachers' exercises: every generated key against its reference over many seeds, and the time to write a sheet.

For each level, `--seeds` seeds, each with one variant per teaching aim of the level: every gradient
and final weight of the key against torch autograd at float64 (`backprop.reference`), and every
teaching point the key names held in torch. Filter-design keys over `--seeds` seeds: the key's CNN
(torch, float64) against scipy's correlation on a random image of the exercise's size. Then the
commands a teacher runs, timed as commands (start-up included): `neuralab exercise backprop --count 20`
at each level and `neuralab exercise filters --count 20`, sheet and key as Markdown, HTML and PDF.
Anchors: every key within 1e-9 of its reference; every teaching point held; 20 exercises in < 10 s on
2 cores. Usage: python bench/exercises.py [--seeds 1000] [--json FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from neuralab.backprop import reference
from neuralab.backprop.exercise import LEVELS, PLANS, generate
from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.filters import exercise as filters_exercise

AGREE = 1e-9
SHEET_SECONDS = 10.0


def backprop_gap(level: str, seeds: int) -> dict:
    """Largest |key - torch| over every answer, and teaching points held / named, at one level."""
    gap, variants, named, held = 0.0, 0, 0, 0
    for seed in range(seeds):
        for ex in generate(level, seed, len(PLANS[level][1])):
            ref_grads, ref_final, _ = reference.descend(ex.config)
            answers = {k: float(Fraction(v)) for k, v in ex.answers().items()}
            for k, grads in enumerate(ref_grads, start=1):
                gap = max([gap, *(abs(answers[f"{ex.number}.step{k}.grad.{n}"] - g) for n, g in grads.items())])
            gap = max([gap, *(abs(answers[f"{ex.number}.final.{n}"] - w) for n, w in ref_final.items())])
            variants += 1
            named += len(ex.teaching)
            held += sum(reference.holds(point, ex.config, ex.steps) for point in ex.teaching)
    return {"seeds": seeds, "variants": variants, "max_abs_gap": gap, "teaching_named": named, "teaching_held": held}


def filters_gap(seeds: int) -> dict:
    gap, variants = 0.0, 0
    for seed in range(seeds):
        for ex in filters_exercise.generate(seed, 1):
            gap = max(gap, filters_exercise.check(ex, seed))
            variants += 1
    return {"seeds": seeds, "variants": variants, "max_abs_gap": gap}


def sheet_seconds(args: list[str]) -> float:
    """Wall seconds of one `neuralab exercise ...` command writing 20 exercises with PDF."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "neuralab", "exercise", *args, "--count", "20", "--out", out],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0 or not (Path(out) / "key.pdf").is_file():
            raise SystemExit(f"error: neuralab exercise {' '.join(args)} failed: {done.stderr.strip()[-300:]}")
    return seconds


@script_main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=number_in(int, 1, 100_000), default=1000, help="seeds per level (default 1000)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, here")
    args = p.parse_args()
    where = provenance()
    result = {"agree": AGREE, "sheet_seconds_target": SHEET_SECONDS, "backprop": {}, "sheets": {}}
    for level in LEVELS:
        t0 = time.perf_counter()
        r = result["backprop"][level] = backprop_gap(level, args.seeds)
        print(f"backprop {level:6s}: {r['variants']} variants from {r['seeds']} seeds in {time.perf_counter() - t0:.0f} s; "
              f"max |key - torch float64| {r['max_abs_gap']:.1e} (anchor <= {AGREE:g}: "
              f"{'met' if r['max_abs_gap'] <= AGREE else 'MISSED'}); teaching points held in torch "
              f"{r['teaching_held']} of {r['teaching_named']} ({'met' if r['teaching_held'] == r['teaching_named'] else 'MISSED'})")
    r = result["filters"] = filters_gap(args.seeds)
    print(f"filters        : {r['variants']} variants; max |key's CNN - scipy| {r['max_abs_gap']:.1e} "
          f"(anchor <= {AGREE:g}: {'met' if r['max_abs_gap'] <= AGREE else 'MISSED'})")
    for name, command in [*((f"backprop {lv}", ["backprop", "--level", lv]) for lv in LEVELS), ("filters", ["filters"])]:
        seconds = result["sheets"][name] = sheet_seconds(command)
        print(f"20-exercise sheet + key, Markdown/HTML/PDF, {name:14s}: {seconds:5.1f} s "
              f"(anchor < {SHEET_SECONDS:g} s: {'met' if seconds < SHEET_SECONDS else 'MISSED'})")
    if args.json:
        atomic_write_json(Path(args.json), {**where, **result})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
