"""The depth study's benchmark files as tables, for docs/benchmarks."""

from __future__ import annotations

from neuralab.depth.experiment import summary_markdown


def h200_rows(result: dict) -> list[str]:
    """`bench/depth_results.py` over the H200 runs: the six cells against the published runs, and the variants."""
    names = {"relu": "ReLU", "sigmoid": "sigmoid"}
    lines = ["| cell | ours, mean ± sd | published (1 Keras run) | within ±0.02 |", "|---|---|---|---|"]
    for r in result["reproduction"]:
        lines.append(f"| {names[r['activation']]} depth {r['depth']} | {r['mean']:.4f} ± {r['std']:.4f} "
                     f"({r['seeds']} seeds) | {r['published']:.3f} | {'yes' if r['within'] else '**no**'} |")
    lines += ["", "Mean test accuracy after 10 epochs of every run in the folder, per variant (n: seeds):", "",
              summary_markdown(result["rows"])]
    lines += ["", f"Trained on {', '.join(result['trained_on'])} (the runs record the device, not the commit)."]
    return lines


def deep_rows(result: dict) -> list[str]:
    """The variants at depths 5 and 10, mean ± sd over seeds."""
    lines = [f"Mean test accuracy ± sd over seeds after {' or '.join(map(str, result['epochs']))} epochs "
             "(n: seeds):", "", summary_markdown(result["rows"], spread=True)]
    return lines + ["", f"Trained on {', '.join(result['trained_on'])}."]


def keras_rows(result: dict) -> list[str]:
    """`bench/depth.py`'s file: the published Keras model beside ours, cell by cell and in time."""
    lines = ["| cell | published (1 Keras run, 2017) | ours | Keras " + result["keras"] + " (torch backend) |",
             "|---|---|---|---|"]
    for c in result["cells"]:
        lines.append(f"| {c['activation']} depth {c['depth']} | {c['published']:.3f} | {c['ours']:.4f} | {c['keras']:.4f} |")
    met = result["ratio"] <= result["target_ratio"]
    lines += ["", f"{result['epochs']} epochs, seed {result['seed']}, {result['threads']} torch threads: ours "
              f"{result['ours_seconds']:.0f} s (with its per-epoch diagnostics), Keras {result['keras_seconds']:.0f} s, "
              f"ratio {result['ratio']:.2f} (target ≤ {result['target_ratio']:g}: **{'met' if met else 'missed'}**)."]
    return lines
