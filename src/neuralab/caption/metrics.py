"""Caption metrics: exact match (the headline), per-word accuracy and corpus BLEU-4.

Captions are compared as whitespace-separated words.
- exact match: the share of clips whose caption is right word for word, in order, and no longer;
- per-word accuracy: the share of reference words matched by the word at the same position of
  the prediction (missing words count as wrong, extra words are not counted);
- BLEU-4: corpus BLEU with one reference per clip, uniform weights over 1..4-grams, clipped
  n-gram counts summed over the corpus and the usual brevity penalty; 0 if any order has no match.
"""

from __future__ import annotations

import math
from collections import Counter


def exact_match(predictions: list[str], references: list[str]) -> float:
    _check(predictions, references)
    return sum(p.split() == r.split() for p, r in zip(predictions, references)) / len(references)


def word_accuracy(predictions: list[str], references: list[str]) -> float:
    _check(predictions, references)
    right = total = 0
    for p, r in zip(predictions, references):
        p, r = p.split(), r.split()
        right += sum(a == b for a, b in zip(p, r))
        total += len(r)
    return right / max(total, 1)


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def bleu4(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU-4 in [0, 1]."""
    _check(predictions, references)
    matched, total = [0] * 4, [0] * 4
    c_len = r_len = 0
    for p, r in zip(predictions, references):
        p, r = p.split(), r.split()
        c_len, r_len = c_len + len(p), r_len + len(r)
        for n in range(1, 5):
            cand, ref = _ngrams(p, n), _ngrams(r, n)
            matched[n - 1] += sum(min(k, ref[g]) for g, k in cand.items())
            total[n - 1] += sum(cand.values())
    if c_len == 0 or min(matched) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total)) / 4
    brevity = 1.0 if c_len > r_len else math.exp(1 - r_len / c_len)
    return brevity * math.exp(log_precision)


def all_metrics(predictions: list[str], references: list[str]) -> dict[str, float]:
    return {"exact_match": exact_match(predictions, references),
            "word_accuracy": word_accuracy(predictions, references),
            "bleu4": bleu4(predictions, references), "count": len(references)}


def _check(predictions: list[str], references: list[str]) -> None:
    if len(predictions) != len(references) or not references:
        raise ValueError(f"need equal, non-zero numbers of captions, got {len(predictions)} and {len(references)}")
