"""Benchmark: the captioner on both splits, each figure beside its target, with wall times.

Trains (or reuses, with the same resolved config) one captioner per split under the chosen profile
and prints exact match, per-word accuracy and BLEU-4 on 2,000 held-out MNIST-test clips, plus
training and total wall time. The target is >= 95% exact match on the random split within 15
minutes on 2 CPU cores, and >= 90% on the compositional split. The
published 2017 answer was only a drawing, so it has no figure to compare with.

    python bench/caption.py                    # the learned encoder, full profile (reuses finished runs in runs/)
    python bench/caption.py --encoder planes   # the colour-plane variant
    python bench/caption.py --profile quick    # a smoke run
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch

from neuralab.caption.config import TEST_SEED, make_config
from neuralab.caption.clips import DigitSource
from neuralab.caption.evaluate import load_model, nearby_agreement
from neuralab.caption.model import ENCODERS
from neuralab.caption.train import train_or_reuse
from neuralab.core import mnist
from neuralab.core.args import output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.runtime import pick_device

TARGET_EXACT, TARGET_SECONDS = {"random": 0.95, "compositional": 0.90}, 15 * 60
NEARBY = 500   # test clips scored again with their digits moved and colours perturbed


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.0f}"   # a resumed run has no single wall time


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full", choices=["quick", "full"], help="default: full")
    parser.add_argument("--runs", default="runs", help="runs root (default: runs)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--encoder", default="attention", choices=ENCODERS, help="default: attention")
    parser.add_argument("--no-reuse", action="store_true", help="train even if a finished run matches")
    parser.add_argument("--device", default="auto", help="default: auto")
    parser.add_argument("--data-dir", default=None, help="MNIST location (default: the cache)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = parser.parse_args()
    where = provenance()   # the commit and machine as the run starts: the code that makes the figures
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = pick_device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    data = mnist.load(args.data_dir)
    source, rows = DigitSource(data), []
    for split in ("random", "compositional"):
        t0 = time.perf_counter()
        config = make_config(args.profile, split, args.seed, encoder=args.encoder)
        run, reused = train_or_reuse(config, lambda: data,
                                     args.runs, device, reuse=not args.no_reuse)
        model, _, _ = load_model(run.path / "best.safetensors", device)
        nearby = nearby_agreement(model, source, config, NEARBY, TEST_SEED, device)
        rows.append((split, {**run.result, "nearby": nearby}, reused, time.perf_counter() - t0, run.path))
    print(f"\n{'split':<14}{'exact':>8}{'target':>8}{'word acc':>10}{'BLEU-4':>8}{'clips':>7}"
          f"{'train s':>9}{'wall s':>8}  run")
    for split, r, reused, _, path in rows:
        target = f">={TARGET_EXACT[split]:.2f}"
        print(f"{split:<14}{r['exact_match']:>8.4f}{target:>8}{r['word_accuracy']:>10.4f}{r['bleu4']:>8.4f}"
              f"{r['count']:>7}{r['train_seconds']:>9.0f}{_seconds(r.get('wall_seconds')):>8}  {path}"
              f"{' (reused)' if reused else ''}")
    print()
    for split, r, *_ in rows:
        print(f"{args.encoder} encoder, {split} split: exact match {r['exact_match']:.4f} vs target "
              f"{TARGET_EXACT[split]}: {'met' if r['exact_match'] >= TARGET_EXACT[split] else 'MISSED'}; training "
              f"wall {r['train_seconds']:.0f} s vs {TARGET_SECONDS} s: "
              f"{'met' if r['train_seconds'] <= TARGET_SECONDS else 'MISSED'}")
    for split, r, *_ in rows:
        n = r["nearby"]
        print(f"{split} split, {n['count']} test clips with digits moved by up to 2 pixels and colours by up to "
              f"25/255: caption kept on {n['kept']:.4f}, exact match {n['nearby_exact_match']:.4f} "
              f"(unmoved {n['exact_match']:.4f})")
    print("published 2017 answer: a drawing only, no measured figure")
    if args.json:
        keep = ("exact_match", "word_accuracy", "bleu4", "count", "beam", "train_seconds", "wall_seconds",
                "pretrain_val_accuracy", "nearby")
        atomic_write_json(Path(args.json), {
            **where, "profile": args.profile, "encoder": args.encoder, "test_seed": TEST_SEED,
            "target": {"exact_match": TARGET_EXACT, "train_seconds": TARGET_SECONDS},
            "splits": {split: {**{k: r.get(k) for k in keep}, "reused": reused, "run": str(path)}
                       for split, r, reused, _, path in rows}})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
