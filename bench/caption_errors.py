"""Where a trained captioner goes wrong: its wrong words on validation clips, by kind of word.

Captions `--count` validation clips (MNIST-train digits 55000 and up, the clips every design choice
is judged on, never the test clips) greedily, and counts the clips it gets wrong, by how many digits
they hold, and the wrong words by kind: colour, digit, the verb (moves or bounces), the direction.

    python bench/caption_errors.py --checkpoint RUN/best.safetensors --json src/neuralab/results/caption/errors.json
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import torch

from neuralab.caption import grammar
from neuralab.caption.clips import DigitSource
from neuralab.caption.evaluate import evaluate_split, load_model
from neuralab.core import mnist
from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance

KIND = {**dict.fromkeys(grammar.COLOURS, "colour"), **dict.fromkeys(grammar.DIGITS, "digit"),
        "moves": "verb", "bounces": "verb", "the": "function word", "and": "function word",
        **dict.fromkeys(("up", "down", "left", "right", "vertically", "horizontally"), "direction")}


def wrong_words(predictions: list[str], references: list[str]) -> dict:
    """Wrong clips by digits held, and wrong words by kind (a caption of the wrong length counts once)."""
    clips, wrong, words = Counter(), Counter(), Counter()
    for said, truth in zip(predictions, references):
        actors = 2 if " and " in truth else 1
        clips[actors] += 1
        if said == truth:
            continue
        wrong[actors] += 1
        if len(said.split()) != len(truth.split()):
            words["wrong length"] += 1
            continue
        words.update(KIND[t] for s, t in zip(said.split(), truth.split()) if s != t)
    return {"clips": {str(k): v for k, v in sorted(clips.items())},
            "wrong_clips": {str(k): v for k, v in sorted(wrong.items())}, "wrong_words": dict(words.most_common())}


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a caption checkpoint (best.safetensors of a run)")
    parser.add_argument("--count", type=number_in(int, 1, 100_000), default=600, help="validation clips (default 600)")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the counts, with their provenance, to this file")
    args = parser.parse_args()
    where = provenance()
    device = torch.device("cpu")
    model, config, _ = load_model(args.checkpoint, device)
    figures, predictions, references = evaluate_split(model, DigitSource(mnist.load()), config, "val", args.count,
                                                      config.seed, device, beam=1)
    counts = wrong_words(predictions, references)
    print(f"{config.encoder} encoder, {config.split} split, {args.count} validation clips (greedy): exact match "
          f"{figures['exact_match']:.4f}")
    for actors, n in counts["clips"].items():
        print(f"  {actors}-digit clips: {counts['wrong_clips'].get(actors, 0)} wrong of {n}")
    print("  wrong words: " + ", ".join(f"{kind} {n}" for kind, n in counts["wrong_words"].items()))
    if args.json:
        atomic_write_json(Path(args.json), {**where, "encoder": config.encoder, "split": config.split,
                                            "count": args.count, "exact_match": figures["exact_match"], **counts})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
