"""Figures the report quotes, read from finished runs (never typed in): accuracies per cell,
the reproduction check against the published table, and the diagnostics of the collapse."""

from __future__ import annotations

import statistics
from collections import defaultdict

from neuralab.core.runs import Run

# The 2017 solution's test accuracies after 10 epochs (one Keras run each).
PUBLISHED = {"relu": {1: 0.929, 2: 0.941, 3: 0.946}, "sigmoid": {1: 0.883, 2: 0.791, 3: 0.149}}
TOLERANCE = 0.02  # the reproduction band around each published cell
TARGET = 0.98     # the target for a modified model at every depth 1-3
LATE_EPOCHS = 3   # how many final epochs show how settled a cell's test accuracy is


def by_cell(runs: list[Run]) -> dict[tuple[str, str, int], list[Run]]:
    """(variant, activation, depth) -> runs (one per seed), in seed order."""
    cells: dict[tuple, list[Run]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r.config["seed"]):
        c = run.config
        cells[(c["variant"], c["activation"], c["depth"])].append(run)
    return dict(cells)


def accuracy(runs: list[Run]) -> tuple[float, float]:
    """Mean and sample std (0 for one run) of the final test accuracy over seeds."""
    accs = [r.result["test_accuracy"] for r in runs]
    return statistics.fmean(accs), statistics.stdev(accs) if len(accs) > 1 else 0.0


def reproduction(cells: dict) -> list[dict]:
    """One row per published cell: ours (mean, std, seeds, epochs) beside the published figure."""
    rows = []
    for depth in (1, 2, 3):
        for activation in ("relu", "sigmoid"):
            runs = cells.get(("keras", activation, depth))
            if not runs:
                continue
            mean, std = accuracy(runs)
            published = PUBLISHED[activation][depth]
            late = [m["test_accuracy"] for r in runs for m in r.metrics()[1:][-LATE_EPOCHS:]]
            rows.append({"activation": activation, "depth": depth, "published": published, "mean": mean,
                         "std": std, "seeds": len(runs), "epochs": runs[0].config["epochs"],
                         "within": abs(mean - published) <= TOLERANCE, "late_min": min(late), "late_max": max(late)})
    return rows


def collapse(sigmoid: Run, relu: Run) -> dict:
    """The numbers behind the explanation, from one seed's sigmoid and ReLU runs at the same depth."""
    s, r = sigmoid.metrics(), relu.metrics()
    s0, r0, s_last, r_last = s[0], r[0], s[-1], r[-1]
    depth = sigmoid.config["depth"]
    ratio = lambda m: m["grad_norm"][-1] / m["grad_norm"][0]  # noqa: E731  head over first layer
    return {
        "depth": depth, "epochs": s_last["epoch"],
        "sig_grad0": s0["grad_norm"], "relu_grad0": r0["grad_norm"],
        "sig_ratio0": ratio(s0), "relu_ratio0": ratio(r0),
        "sig_ratio_last": ratio(s_last), "relu_ratio_last": ratio(r_last),
        "sig_per_layer0": ratio(s0) ** (1 / depth), "relu_per_layer0": ratio(r0) ** (1 / depth),
        "sig_spread0": s0["spread"], "relu_spread0": r0["spread"],
        "sig_spread_last": s_last["spread"], "relu_spread_last": r_last["spread"],
        "sig_train_spread_last": s_last["train_spread"],
        "max_saturated": max(max(m["saturated"]) for m in s[1:]),  # epochs of training, not the init probe
        "max_dead": max(max(m["dead"]) for m in r[1:]),
        "sig_acc": s_last["test_accuracy"], "relu_acc": r_last["test_accuracy"],
        "sig_train_acc": s_last["train_accuracy"],
    }


def variant_minimums(cells: dict, depths=(1, 2, 3)) -> list[tuple[str, str, float]]:
    """(variant, activation, min over depths of the mean accuracy), best first; cells with every depth."""
    out = []
    for variant, activation in dict.fromkeys((v, a) for v, a, _ in cells):
        means = [accuracy(cells[(variant, activation, d)])[0] for d in depths
                 if (variant, activation, d) in cells]
        if len(means) == len(depths):
            out.append((variant, activation, min(means)))
    return sorted(out, key=lambda t: -t[2])


def worst_run(rows: list[dict]) -> float:
    """The lowest accuracy of any seed at any depth: what the target is judged on."""
    return min(min(r["accuracies"]) for r in rows)


def target_lines(record: dict) -> list[str]:
    """`bench/depth_target.py`'s record as Markdown: each candidate's val accuracy, the one chosen on
    val, and that one's test accuracy (looked at once) against the target."""
    depths = [r["depth"] for r in record["test"]]
    lines = [f"Val accuracy ({record['holdout']:,} MNIST-train images held out of training), mean ± sd over "
             f"{record['seeds']} seeds after {record['epochs']} epochs:", "",
             "| variant | " + " | ".join(f"depth {d}" for d in depths) + " | worst val run | training |",
             "|---|" + "---|" * (len(depths) + 2)]
    for variant, rows in record["val"].items():
        lines.append(f"| {variant} ({record['activation']}) | "
                     + " | ".join(f"{r['mean']:.4f} ± {r['sd']:.4f}" for r in rows)
                     + f" | {worst_run(rows):.4f} | {record['train_seconds'][variant]:.0f} s |")
    chosen, test = record["chosen"], record["test"]
    worst = worst_run(test)
    lines += ["", f"Chosen on val: **{chosen}**, the candidate whose worst val run is best. Its test accuracy, "
              "the only test figures this run looked at:", "",
              "| depth | mean ± sd | worst seed | seeds |", "|---|---|---|---|"]
    lines += [f"| {r['depth']} | {r['mean']:.4f} ± {r['sd']:.4f} | {min(r['accuracies']):.4f} "
              f"| {', '.join(f'{a:.4f}' for a in r['accuracies'])} |" for r in test]
    return lines + ["", f"{chosen}: worst test run {worst:.4f} against the target ≥ {record['target']} at every "
                    f"depth {depths[0]}–{depths[-1]} on every seed: **{'met' if worst >= record['target'] else 'missed'}**."]
