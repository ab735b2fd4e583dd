"""The captioner's benchmark files as tables: one writer for the docs and the report's section."""

from __future__ import annotations


def result_rows(result: dict) -> list[str]:
    """A `bench/caption.py` file as a table of its splits against their targets, for the docs and the report."""
    target = result["target"]
    encoder = result.get("encoder", "planes")   # files from before the learned encoder hold the planes one
    lines = ["| encoder | split | exact match | per-word accuracy | BLEU-4 | test clips | training | whole run | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    for split, r in result["splits"].items():
        goal_exact = target["exact_match"]
        goal_exact = goal_exact.get(split) if isinstance(goal_exact, dict) else (goal_exact if split == "random" else None)
        if goal_exact is None:
            goal = "none: reported as measured"
        else:
            met = r["exact_match"] >= goal_exact and r["train_seconds"] <= target["train_seconds"]
            goal = f"≥ {goal_exact} in ≤ {target['train_seconds']:.0f} s: **{'met' if met else 'missed'}**"
        whole = "–" if r["wall_seconds"] is None else f"{r['wall_seconds']:.0f} s"
        lines.append(f"| {encoder} | {split} | **{r['exact_match']:.4f}** | {r['word_accuracy']:.4f} | {r['bleu4']:.4f} "
                     f"| {r['count']} (seed {result['test_seed']}) | {r['train_seconds']:.0f} s | {whole} | {goal} |")
    nearby = [(split, r["nearby"]) for split, r in result["splits"].items() if r.get("nearby")]
    if nearby:
        lines += ["", "Nearby clips (digits moved by up to 2 pixels, colours by up to 25/255): " + "; ".join(
            f"{split}, {n['count']} test clips: caption kept on {n['kept']:.3f}, exact match {n['nearby_exact_match']:.3f} "
            f"against {n['exact_match']:.3f} unmoved" for split, n in nearby) + "."]
    return lines


def errors_rows(result: dict) -> list[str]:
    """`bench/caption_errors.py`'s file: the wrong clips by how many digits they hold, and the wrong words by kind."""
    lines = ["| digits in the clip | clips | wrong | exact match |", "|---|---|---|---|"]
    for actors, n in result["clips"].items():
        wrong = result["wrong_clips"].get(actors, 0)
        lines.append(f"| {actors} | {n} | {wrong} | {1 - wrong / n:.3f} |")
    lines += ["", "Wrong words by kind: " + ", ".join(f"{kind} {n}" for kind, n in result["wrong_words"].items())
              + f" ({result['encoder']} encoder, {result['split']} split, {result['count']} validation clips, greedy)."]
    return lines


def runs_rows(result: dict) -> list[str]:
    """`bench/caption_runs.py`'s file: the learned encoder's runs, each changed from the first."""
    early = result["runs"][0]["early_seconds"]
    lines = [f"| run | changed from the first | epochs | validation exact match: after {early:.0f} s | best (epoch) | last "
             "| training batches, last epoch | test exact match (printed by the run) | training |",
             "|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(result["runs"], 1):
        changed = ", ".join(f"`{k}` {v}" for k, v in r["changed"].items()) or "the first"
        lines.append(f"| {i} | {changed} | {r['epochs']} | {r['val_exact_match_early']:.4f} "
                     f"| {r['best_val_exact_match']:.4f} ({r['best_epoch']}) | {r['last_val_exact_match']:.4f} "
                     f"| {r['last_train_accuracy']:.3f} | {r['test_exact_match']:.4f} | {r['train_seconds']:.0f} s |")
    lines += ["", f"Validation on {result['runs'][0]['val_clips']} clips, test on {result['runs'][0]['test_clips']}; "
              f"\"after {early:.0f} s\" is the last validation within the first {early:.0f} s of caption training "
              "(pretraining and the cache not counted)."]
    return lines
