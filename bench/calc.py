"""calc benchmark: the issue's targets, each figure printed beside its anchor.

1. `expression`, N=5, 2 operands, symbolic model, trained for --budget seconds (target: 600 s on
   2 CPU cores): exact-sum accuracy on --count test expressions from MNIST-test (anchor >= 97%)
   and digit accuracy (anchor >= 99.4%).
2. The seed model (2017 architecture), same data, same wall-time budget, both metrics.
3. `operands`, K=3, N=4, symbolic: exact accuracy of every running total and of the final total.
4. Reproduction: `calc eval` on each printed checkpoint gives the printed figure.

Full scale:    python bench/calc.py --budget 600 --count 10000
Reduced scale: python bench/calc.py --budget 60 --count 1000     (proves the pipeline, not the targets)
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import asdict

from neuralab.calc.evaluate import evaluate_checkpoint
from neuralab.calc.train import train
from neuralab.core.args import names_from, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.calc.protocol import peer_configs

ANCHORS = {"exact": 0.97, "digit": 0.994, "published_char": 0.932}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600, help="training wall seconds per model (default 600)")
    p.add_argument("--count", type=int, default=10000, help="test sums from MNIST-test (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--out", default="runs-bench", help="runs folder (default runs-bench)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write all figures to this JSON file")
    p.add_argument("--only", type=names_from(("symbolic", "seed", "operands")), default="symbolic,seed,operands",
                   help="which parts to run (default all three)")
    return p.parse_args(argv)


def command(args, key: str) -> str:
    return (f"python bench/calc.py --only {key} --budget {args.budget:g} --count {args.count} "
            f"--seed {args.seed} --device {args.device}")


def line(name: str, value, anchor: str) -> str:
    shown = "–" if value is None else f"{100 * value:6.2f}%"
    return f"  {name:<34} {shown:>8}   anchor: {anchor}"


@script_main
def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    wanted = args.only
    results = {}
    for key, config in peer_configs(args.budget, args.count, args.seed).items():
        if key not in wanted:
            continue
        t0 = time.perf_counter()
        run, checkpoint, test, _ = train(config, args.out, device=args.device)
        wall = time.perf_counter() - t0
        again = evaluate_checkpoint(checkpoint, count=config.test_count, seed=config.test_seed, device=args.device)
        same = all(again[k] == test[k] for k in ("exact_sum_accuracy", "char_accuracy", "digit_accuracy"))
        results[key] = {"config": asdict(config), "test": test, "wall_seconds": wall,
                        "checkpoint": str(checkpoint), "eval_reproduces": same}
        print(f"{key}: {config.model} {config.format} N={config.digits} K={config.operands} seed {config.seed}, "
              f"trained {test['train_seconds']:.0f} s (budget {args.budget:g} s), total wall {wall:.0f} s, "
              f"{test['count']} MNIST-test sums")
        print(line("exact-sum accuracy", test["exact_sum_accuracy"],
                   ">= 97% (symbolic, 600 s, 2 CPU cores)" if key == "symbolic" else "beside the symbolic figure"))
        print(line("per-character accuracy", test["char_accuracy"], "2017: 93.2% (val digits from MNIST-train)"))
        print(line("digit accuracy p", test["digit_accuracy"], ">= 99.4%"))
        print(line("ceiling p^digits", test["ceiling"], "exact-sum accuracy if reading errors are independent"))
        for k, acc in enumerate(test.get("running_accuracy", []), 1):
            print(line(f"running total {k} exact", acc, "none published"))
        print(f"  eval reproduces the printed figure: {same}")
        print(f"  reproduce: {command(args, key)}")
    if args.json:
        atomic_write_json(args.json, {**provenance(), **results})   # the one provenance layout: at the top
    return 0


if __name__ == "__main__":
    sys.exit(main())
