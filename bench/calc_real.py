"""calc on the pictures people have: each kind of picture scored beside the very same digits read as
raw MNIST arrays.

Kinds of picture (all written with MNIST digits, so every digit's truth is known):
  strip   one number per picture, dark ink on white paper, PNG, digits 28-56 px tall
  photo   a column sum of 2-4 numbers (a '+' before the last, a rule under it), photographed by
          `calc.pages.photograph`: grey paper, uneven light, slight rotation, blur, sensor noise,
          JPEG, digits 2-4x MNIST's size
  row     2-4 numbers on one line joined by '+', photographed the same way
  scan    a column sum, scanned (`calc.pages.scan`)
  squared a column sum on a school notebook's squared paper (`calc.paper.on_paper`: a light blue or
          grey 5 mm grid, bowed a little, a red margin), in blue ballpoint, black felt-tip or
          pencil, photographed, half of them with a shadow across the page
  lined   the same on ruled paper, the digits sitting on the printed lines
  turned  a column sum on plain paper in any of the inks, photographed turned up to 10 degrees,
          with a shadow across it
  tilted  the same, turned up to 3 degrees and leaning up to 25 degrees away from the camera
  camera  a squared-paper photo filling a 12-megapixel frame (4000x3000 JPEG): the read-time target
  hands   photos of column sums in a looser hand: wide and uneven spacing, digits written small and
          high, '+' signs of any size (`calc.pages.HANDS`)
  joined  photos of column sums in a fast hand: two digits in five run into the digit before them,
          ink touching ink (`calc.pages.JOINED`), to be cut apart by `calc.joined`
  pens    photos of column sums, each digit redrawn along its centre lines by another pen (0.04 to
          0.2 digit heights wide: a fine ballpoint to a broad felt-tip) leaning up to 30 degrees
          either way (`calc.pages.PENS`)
  desk    a squared-paper photo of a page lying on a desk (wood, grey or light), the desk filling
          10-35% of the page's width at either side, lit and shot with the page (`calc.kinds.on_desk`)
  canvas  each number drawn with the mouse on the real web page (Chromium), one digit per box, the
          pen following each digit's skeleton (`calc.pages.pen_strokes`), read by the page's own requests
  wide    each number drawn the same way in the page's wide box, segmented by the server
Pictures are read by the code `calc predict` and the web page run (`calc.inputs`, `calc.predict`).

Figures per kind: digit accuracy, number accuracy (every digit right), layout (numbers found ==
numbers written, per picture), and whether the running total is right wherever every digit was
read right; beside them the number accuracy of the same digits as raw arrays, and the ratio.
"no ?" is the share of pictures answered with numbers read wrong and no digit marked doubtful: a
sum the reader invented without a word of warning (a refused picture is not one).

Tune with --split train (renderings of MNIST-train digits); report --split test (MNIST-test
digits, which training never sees) once:
    python bench/calc_real.py --checkpoint CKPT --split train --json /tmp/real-train.json
    python bench/calc_real.py --checkpoint CKPT --split test
    python bench/calc_real.py --table src/neuralab/results/calc/real-test.json     # the docs' table
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from neuralab.calc.evaluate import load_model
from neuralab.calc.kinds import KINDS, TARGETS, Tally, draw_numbers, score_arrays, score_paper
from neuralab.calc.pages import pen_strokes
from neuralab.core import mnist
from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json, sha256_file
from neuralab.core.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="a symbolic calc checkpoint (.safetensors)")
    p.add_argument("--split", choices=("train", "test"), default="test", help="whose digits: train to tune, test to report")
    p.add_argument("--numbers", type=int, default=600, help="numbers written per kind (default 600)")
    p.add_argument("--browser-numbers", type=int, default=150, help="numbers drawn per browser kind (default 150)")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"which kinds (default all: {','.join(KINDS)})")
    p.add_argument("--seed", type=int, default=0, help="fixes the digits and every rendering (default 0)")
    p.add_argument("--whole", action="store_true", help="never cut a shape into digits that touch "
                   "(`calc.joined`): what the reading was without it, to compare")
    p.add_argument("--no-judge", action="store_true", help="cut digits that touch without the checkpoint's one-digit "
                   "judge (`calc.touching`): what the judge adds, to compare")
    p.add_argument("--json", type=output_file(".json"), default=None, help="default: src/neuralab/results/calc/real-<split>.json")
    p.add_argument("--table", default=None, help="only print the Markdown table of this result file (for the docs)")
    args = p.parse_args(argv)
    if args.checkpoint is None and args.table is None:
        p.error("--checkpoint is required (or --table FILE)")
    if not 1 <= args.numbers <= 100_000 or not 1 <= args.browser_numbers <= 10_000:
        p.error("--numbers must be 1..100000 and --browser-numbers 1..10000")
    return args


@script_main
def main(argv=None) -> int:
    args = parse_args(argv)
    if args.table:
        from neuralab.calc.benchmarks import real_table

        print("\n".join(real_table(json.loads(Path(args.table).read_text()))[2:]))
        return 0
    kinds = args.kinds.split(",")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"error: --kinds: unknown kind {unknown[0]!r} (choose from {', '.join(KINDS)})", file=sys.stderr)
        return 2
    model, config, _ = load_model(args.checkpoint, device="cpu")
    if args.no_judge:
        model.touch = None
    data = mnist.load()
    results = {}
    print(f"{'kind':<8} {'numbers':>7} {'digit acc':>9} {'number acc':>10} {'arrays':>8} {'ratio':>6} "
          f"{'layout':>7} {'no ?':>6} {'p95':>6}  target")
    for kind in kinds:
        rng = np.random.default_rng([args.seed, KINDS.index(kind)])     # a kind's pictures do not depend on --kinds
        count = args.browser_numbers if kind in ("canvas", "wide") else args.numbers
        numbers = draw_numbers(data, args.split, count, rng)
        if kind in ("canvas", "wide"):
            from neuralab.web.browser import score_browser  # needs Chromium and Playwright

            tally = score_browser(model, kind, numbers, pen_strokes, Tally())
        else:
            tally = score_paper(model, kind, numbers, rng, cut=not args.whole)
        arrays = score_arrays(model, numbers).figures()
        figures = tally.figures()
        ratio = figures["number_accuracy"] / arrays["number_accuracy"]
        target = f">= {TARGETS['ratio']:.0%} of arrays: {'met' if ratio >= TARGETS['ratio'] else 'MISSED'}"
        if kind == "photo":
            met = figures["number_accuracy"] >= TARGETS["photo"]
            target += f"; >= {TARGETS['photo']:.0%} numbers: {'met' if met else 'MISSED'}"
        results[kind] = {**figures, "arrays": arrays, "ratio_to_arrays": ratio, "target": target}
        print(f"{kind:<8} {figures['numbers']:>7} {100 * figures['digit_accuracy']:>8.2f}% "
              f"{100 * figures['number_accuracy']:>9.2f}% {100 * arrays['number_accuracy']:>7.2f}% "
              f"{ratio:>6.3f} {100 * figures['layout_accuracy']:>6.1f}% {100 * figures.get('wrong_unmarked', 0):>5.1f}% "
              f"{figures['read_seconds_p95'] or 0:>5.2f}s  {target}",
              flush=True)
    out = Path(args.json) if args.json else ROOT / "src" / "neuralab" / "results" / "calc" / f"real-{args.split}.json"
    atomic_write_json(out, {**provenance(), "split": args.split, "seed": args.seed,
                            "checkpoint": str(args.checkpoint), "checkpoint_sha256": sha256_file(args.checkpoint),
                            "checkpoint_config": vars(config), "touching_digits_cut": not args.whole,
                            "one_digit_judge": getattr(model, "touch", None) is not None, "kinds": results})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
