"""The MNIST-addition benchmark in the report and the docs, from `bench/calc_nesy.py`'s `nesy*.json`
files (one per invocation, all in one table) and `bench/calc_supervised.py`'s `supervised*.json`:
the table of exact sums beside the published figures, the learning curves and where each run spends
its time, every held-out image read, and the same reader taught digit labels as the yardstick.
"""

from __future__ import annotations

import statistics
from dataclasses import fields
from pathlib import Path

from matplotlib.figure import Figure
from scipy.stats import binomtest

from neuralab.calc.config import CalcConfig
from neuralab.calc.published import CITATIONS, cite
from neuralab.core.io import save_figure
from neuralab.core.mnist import SPLIT_SIZES
from neuralab.core.reference import provenance_note

# a run's design choices: a file written before a choice existed ran with CalcConfig's default for it
DESIGN = ("precision", "starts", "start_seconds", "holdout", "ema", "reader", "distort", "weight_decay")
_DEFAULTS = {field.name: field.default for field in fields(CalcConfig)}


def _design(config: dict) -> tuple:
    return tuple(config.get(name, _DEFAULTS[name]) for name in DESIGN)


def _design_words(config: dict, holdout: bool = True, reader: bool = True) -> list[str]:
    """A run's design choices that differ from CalcConfig's defaults, in words for a table cell
    (`holdout`, `reader`: False where the table gives that choice its own column)."""
    words = []
    if reader and config.get("reader", "vgg") != "vgg":
        words.append(f"{config['reader']} reader")
    if config.get("starts", 1) > 1:
        seconds = config.get("start_seconds")
        words.append(f"{config['starts']} starts" + (f" of {seconds:g} s" if seconds else ""))
    if holdout and config.get("holdout", 0):
        words.append(f"{config['holdout']:,} images held out")
    if config.get("ema", 0.0):
        words.append(f"weights averaged, decay {config['ema']:g}")
    if config.get("distort", 1.0) != 1.0:
        words.append(f"distortions ×{config['distort']:g}")
    if config.get("weight_decay", 0.0):
        words.append(f"weight decay {config['weight_decay']:g}")
    return words


def _mean_sd(values: list[float]) -> str:
    values = [100 * v for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"


def nesy_table(results: list[dict]) -> list[str]:
    """One row per (N, training budget) over all the given nesy result files."""
    lines = ["", "**The MNIST-addition benchmark** (`fixed` format: two N-digit numbers, each MNIST-train "
             "image used once per epoch, test sums from MNIST-test; exact-sum accuracy in %, mean ± sd over "
             "seeds):", "",
             "| N | ours | ours, resampled sums | digit accuracy p | ceiling | seconds per run | epoch kept | target "
             "| best published |",
             "|---|---|---|---|---|---|---|---|---|"]
    for setting, (nesy, mine) in _settings(results).items():
        lines.append(_nesy_row(nesy, setting[0], mine))
    names = dict.fromkeys(name for nesy in results for name in nesy["published"] if name in CITATIONS)
    lines += ["", "Published figures from: " + "; ".join(cite(name) for name in names) + "."]
    recorded = [provenance_note(nesy) for nesy in results if "machine" in nesy]
    older = "; ".join(f"`{nesy['command']}`" for nesy in results if "machine" not in nesy)
    if older:
        recorded.append(f"measured by {older} on the project's 2-core CPU machine (these files predate the "
                        "provenance record, so they do not name it themselves)")
    lines += ["", "Rows " + "; ".join(recorded) + "."]
    return lines


def _setting(run: dict) -> tuple:
    config = run["config"]
    return (run["digits"], config["max_seconds"], *_design(config), run.get("device", "cpu"))


def _settings(results: list[dict]) -> dict[tuple, tuple[dict, list[dict]]]:
    """Every setting (N, budget, design, device) in order, with its first file and its runs by seed:
    seeds run at different times (one file each) are one setting."""
    settings = {}
    for setting in sorted({_setting(r) for nesy in results for r in nesy["runs"]}):
        files = [nesy for nesy in results if any(_setting(r) == setting for r in nesy["runs"])]
        mine = [r for nesy in files for r in nesy["runs"] if _setting(r) == setting]
        settings[setting] = (files[0], sorted(mine, key=lambda r: r["config"].get("seed", 0)))
    return settings


def _validation_rank(runs: list[dict]) -> tuple:
    """How a setting ranks on validation, never on test: settings whose validation digits were held out of
    training first, then the mean last validation digit accuracy of the kept models, then the longer
    budget (a setting without a recorded curve is ranked by its budget alone)."""
    curves = [kept_trajectory(r)[-1]["val_digit_accuracy"] for r in runs if r.get("curve")]
    held_out = all(r["config"].get("holdout", 0) for r in runs)
    return (bool(curves) and held_out, statistics.mean(curves) if curves else -1.0, runs[0]["config"]["max_seconds"])


def wilson(right: int, count: int) -> str:
    """A 95% Wilson interval for right/count, in %."""
    interval = binomtest(right, count).proportion_ci(confidence_level=0.95, method="wilson")
    return f"{100 * interval.low:.1f}–{100 * interval.high:.1f}"


def _pooled(runs: list[dict], which: str) -> tuple[int, int]:
    """(sums right, sums) over the seeds' `which` ("protocol" or "resampled") test sets."""
    return (sum(round(r[which]["exact_sum_accuracy"] * r[which]["count"]) for r in runs),
            sum(r[which]["count"] for r in runs))


def headline(results: list[dict]) -> list[str]:
    """The benchmark's one table: `chosen_table` with what it measures and where it came from."""
    names = dict.fromkeys(name for nesy in results for name in nesy["published"] if name in CITATIONS)
    return ["`fixed` format: two N-digit numbers, each MNIST-train image used once per epoch, test sums from "
            "MNIST-test. Each row is the setting whose kept models read the validation digits best (digits held out "
            "of training rank first); the test sums were not looked at to choose it. Intervals pool the seeds' "
            "sums.", "", *chosen_table(results), "",
            "Published figures from: " + "; ".join(cite(name) for name in names) + "."]


def chosen_table(results: list[dict]) -> list[str]:
    """One row per N: the setting chosen on validation, its exact sums on the resampled test sums (pooled over
    seeds, with a 95% interval) as the headline, the protocol's small test set only with its interval."""
    by_n: dict[int, list] = {}
    for setting, (nesy, runs) in _settings(results).items():
        by_n.setdefault(setting[0], []).append((nesy, runs))
    lines = ["| N | setting, chosen on val | exact sums, resampled test (95% interval) | the protocol's test sums "
             "| digit accuracy p | target | best published |", "|---|---|---|---|---|---|---|"]
    for N, candidates in sorted(by_n.items()):
        nesy, runs = max(candidates, key=lambda c: _validation_rank(c[1]))
        config = runs[0]["config"]
        setting = ", ".join([*_gpu(runs[0]), config.get("precision", "fp32"), f"{config['max_seconds']:g} s",
                             *_design_words(config), f"{len(runs)} seed{'s' * (len(runs) > 1)}"])
        right, count = _pooled(runs, "resampled")
        p_right, p_count = _pooled(runs, "protocol")
        published = [(t[str(N)], name) for name, t in nesy["published"].items() if t.get(str(N)) is not None]
        target = nesy["targets"].get(str(N))
        lines.append(f"| {N} | {setting}; one of {len(candidates)} setting{'s' * (len(candidates) > 1)} | **{100 * right / count:.2f}%** ({wilson(right, count)}; "
                     f"{count:,} sums) | {wilson(p_right, p_count)} ({p_count:,} sums) "
                     f"| {_mean_sd([r['protocol']['digit_accuracy'] for r in runs])} "
                     f"| {'–' if target is None else f'≥ {target}'} "
                     f"| {'–' if not published else '{} ({})'.format(*max(published))} |")
    return lines


def _nesy_row(nesy: dict, N: int, mine: list[dict]) -> str:
    published = [(t[str(N)], name) for name, t in nesy["published"].items() if t.get(str(N)) is not None]
    best = max(published) if published else None
    target, every = nesy["targets"].get(str(N)), N in nesy.get("every_seed", [])
    exact = [100 * r["protocol"]["exact_sum_accuracy"] for r in mine]
    judged = min(exact) if every else statistics.mean(exact)
    verdict = "–" if target is None else (f"≥ {target}{' on every seed' if every else ''}: "
                                          f"{'met' if judged >= target else 'missed'}")
    if (digit_target := nesy.get("digit_targets", {}).get(str(N))) is not None:
        p = statistics.mean(100 * r["protocol"]["digit_accuracy"] for r in mine)
        verdict = f"p ≥ {digit_target}%: {'met' if p >= digit_target else 'missed'}"
    config = mine[0]["config"]
    precision = [config.get("precision", "fp32")] if config.get("precision", "fp32") != "fp32" else []
    setting = _gpu(mine[0]) + precision + _design_words(config)
    label = f"{N} ({', '.join(setting)})" if setting else f"{N}"
    return (f"| {label} | {_protocol(mine)} | {_mean_sd([r['resampled']['exact_sum_accuracy'] for r in mine])} "
            f"({mine[0]['resampled']['count']:,} sums) "
            f"| {_mean_sd([r['protocol']['digit_accuracy'] for r in mine])} | {_mean_sd([r['protocol']['ceiling'] for r in mine])} "
            f"| {statistics.mean(r['train_seconds'] for r in mine):.0f} | {_kept(mine[0]['config'])} | {verdict} "
            f"| {'–' if best is None else f'{best[0]} ({best[1]})'} |")


TINY = 50   # test sums per seed up to which a protocol's mean ± sd says nothing: only its interval is shown


def _protocol(runs: list[dict]) -> str:
    """The protocol's exact sums over seeds: mean ± sd, or for tiny test sets only the 95% interval of the pooled sums."""
    seeds, count = f"{len(runs)} seed{'s' * (len(runs) > 1)}", runs[0]["protocol"]["count"]
    if count > TINY:
        return f"{_mean_sd([r['protocol']['exact_sum_accuracy'] for r in runs])} ({seeds}, {count} sums)"
    right, pooled = _pooled(runs, "protocol")
    return f"95% interval {wilson(right, pooled)} ({seeds}, {count} sums each)"


def _gpu(run: dict) -> list[str]:
    """The device of a run trained off the CPU, for its setting (rows trained on a GPU say so); else []."""
    device = run.get("device", "cpu")
    return [] if device == "cpu" else [device]


def _kept(config: dict) -> str:
    # runs from before `keep` existed kept the best validation epoch, the earliest on a tie
    return "last" if config.get("keep") == "last" else "best on validation"


def save_plot(fig: Figure, ax, path: Path, legend_size: float | None = None) -> None:
    """Legend, grid and layout of a one-axes plot, then the file, written atomically."""
    ax.legend(fontsize=legend_size)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def curves_figure(results: list[dict], path: Path) -> str:
    """Digit error on the validation sums against training seconds, one line per run that recorded
    its curve: the runs whose validation digits were held out of training, if any did, else the rest.
    Returns what the lines measure, for the caption; "" (and no file) when no run recorded a curve."""
    runs = [r for nesy in results for r in nesy["runs"] if r.get("curve")]
    if held_out := [r for r in runs if r["config"].get("holdout", 0)]:
        runs = held_out
    if not runs:
        return ""
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    for r in runs:
        precision, starts = r["config"].get("precision", "fp32"), r["config"].get("starts", 1)
        averaged = ", weights averaged" if r["config"].get("ema", 0.0) else ""
        curve = [c for c in r["curve"] if c.get("stage", "") == ""]   # a run with short starts: the kept one going on
        ax.semilogy([c["seconds"] for c in curve], [1 - c["val_digit_accuracy"] for c in curve], ".-",
                    label=f"N={r['digits']} seed {r['seed']} ({precision}{f', after {starts} starts' if starts > 1 else ''}"
                          f"{averaged})")
    ax.set_xlabel("training seconds")
    ax.set_ylabel("digit error on held-out MNIST-train digits" if held_out else "digit error on validation sums")
    save_plot(fig, ax, path, legend_size=7)
    return ("the digit error on MNIST-train images held out of training" if held_out
            else "the digit error on the validation sums (MNIST-train images the model also trains on)")


THRESHOLDS = (0.9, 0.99, 0.995)   # validation digit accuracies whose first arrival the curve table times


def kept_trajectory(run: dict) -> list[dict]:
    """The curve of the model a run kept: with short starts, the start with the lowest last training
    loss (the rule `short_starts` keeps by) and then the run going on; else the whole curve."""
    curve = run["curve"]
    starts = {c["stage"]: c["train_loss"] for c in curve if c.get("stage", "").startswith("start")}
    kept = min(starts, key=starts.get) if starts else None
    return [c for c in curve if c.get("stage", "") in ("", kept)]


def _run_setting(config: dict, reader: bool = False) -> str:
    """A run's setting in a table cell whose table holds out validation digits in its own column:
    precision, budget, then its other design choices (the reader too, if asked)."""
    budget = f"{config['max_seconds']:g} s"
    return ", ".join([config.get("precision", "fp32"), budget, *_design_words(config, holdout=False, reader=reader)])


def curve_rows(results: list[dict]) -> list[str]:
    """Where each recorded run spends its time, from its curve: when the kept model's validation digit
    accuracy first reached each threshold (training seconds of the whole run, short starts included),
    its value half-way and at the end beside the test p, and the training images read per second."""
    lines = ["| N | setting | seed | validation digits | " + " | ".join(f"reached {100 * t:g}%" for t in THRESHOLDS)
             + " | p half-way | p at the end | test p | images per second |", "|---" * (8 + len(THRESHOLDS)) + "|"]
    runs = sorted((r for nesy in results for r in nesy["runs"] if r.get("curve")),
                  key=lambda r: (r["digits"], _design(r["config"]), r["seed"]))
    for r in runs:
        config, path = r["config"], kept_trajectory(r)
        reached = [next((f"{c['seconds']:.0f} s" for c in path if c["val_digit_accuracy"] >= t), "never")
                   for t in THRESHOLDS]
        half = next(c for c in path if c["seconds"] >= path[-1]["seconds"] / 2)
        main = [c for c in path if c.get("stage", "") == ""]
        seconds = sorted(b["seconds"] - a["seconds"] for a, b in zip(main, main[1:]))
        N, trained = r["digits"], SPLIT_SIZES["train"] - config.get("holdout", 0)
        per_epoch = trained // (2 * N) * 2 * N
        speed = f"{per_epoch / seconds[len(seconds) // 2]:.0f}" if seconds else "–"
        held = f"{config['holdout']:,} held out" if config.get("holdout", 0) else "trained on"
        setting = ", ".join(_gpu(r) + [_run_setting(config, reader=True)])
        lines.append(f"| {N} | {setting} | {r['seed']} | {held} | {' | '.join(reached)} "
                     f"| {100 * half['val_digit_accuracy']:.2f}% | {100 * path[-1]['val_digit_accuracy']:.2f}% "
                     f"| {100 * r['protocol']['digit_accuracy']:.2f}% | {speed} |")
    return lines


def _held_out(run: dict) -> dict | None:
    """A run's reading of every held-out image; the first averaged run wrote it as `averaged_vs_trained`."""
    if (first := run.get("averaged_vs_trained")) is not None:
        return {"images": first["images"], "digit_accuracy": first["averaged_digit_accuracy"],
                **{k: first[k] for k in ("trained_digit_accuracy", "only_averaged_right", "only_trained_right")}}
    return run.get("held_out")


def held_out_rows(results: list[dict]) -> list[str]:
    """Runs that held validation images out: every one of those images read by the kept weights and,
    where the run kept a moving average of its weights, by the weights it averaged too (a paired
    comparison: the same run, the same images)."""
    runs = sorted((r for nesy in results for r in nesy["runs"] if _held_out(r) is not None),
                  key=lambda r: (r["digits"], _design(r["config"]), r["seed"]))
    if not runs:
        return []
    lines = ["| N | reader | seed | setting | held-out images | read right | read right by the trained weights "
             "| only the average right | only the trained right |", "|---" * 9 + "|"]
    for r in runs:
        c, config = _held_out(r), r["config"]
        setting = _run_setting(config)   # the reader has its own column here
        paired = (f"{100 * c['trained_digit_accuracy']:.2f}% | {c['only_averaged_right']} | {c['only_trained_right']}"
                  if "trained_digit_accuracy" in c else "– | – | –")
        lines.append(f"| {r['digits']} | {config.get('reader', 'vgg')} | {r['seed']} | {setting} | {c['images']:,} "
                     f"| {100 * c['digit_accuracy']:.2f}% | {paired} |")
    return lines


def supervised_rows(results: list[dict]) -> list[str]:
    """The reader taught digit labels (bench/calc_supervised.py), the yardstick for the readers learned
    from sums: what it reads, and the exact-sum ceiling p^2N that its MNIST-test reading would give."""
    lines = ["| reader | seed | trained | epochs | held-out MNIST-train images read right | MNIST-test images read right "
             "| ceiling p^2N at that p |", "|---" * 7 + "|"]
    for result in results:
        for r in result["runs"]:
            h, t, N = r["held_out"], r["test"], r["digits"]
            lines.append(f"| {r['config'].get('reader', 'vgg')} | {r['seed']} | {r['train_seconds']:.0f} s | {len(r['curve'])} "
                         f"| {100 * h['digit_accuracy']:.2f}% of {h['images']:,} "
                         f"| {100 * t['digit_accuracy']:.2f}% of {t['images']:,} "
                         f"| N={N}: {100 * t['digit_accuracy'] ** (2 * N):.2f}% |")
    return lines


def markdown(nesy: list[dict], supervised: list[dict], assets_dir: Path, out_dir: Path) -> list[str]:
    """The MNIST-addition paragraphs from the loaded `nesy*.json` and `supervised*.json` files: the table,
    the learning curves and where the runs spend their time, the held-out readings and the supervised
    yardstick (empty when there are no files)."""
    lines = []
    if nesy:
        lines += nesy_table(nesy)
        if measured := curves_figure(nesy, assets_dir / "calc_curves.png"):
            figure = (assets_dir / "calc_curves.png").relative_to(out_dir)
            lines += ["", f"Learning curves of the runs that recorded them: {measured}, after each epoch.", "",
                      f"![digit error against training seconds]({figure})", "",
                      "Where those runs spend their time (the validation digits of each curve, the kept model's "
                      "path):", "", *curve_rows(nesy)]
        if held_out := held_out_rows(nesy):
            lines += ["", "Every held-out image read at the end of the runs that held images out (with a moving "
                      "average of the weights, also by the weights it averaged):", "", *held_out]
    if supervised:
        lines += ["", "The same reader taught every digit's label instead (the N=15 runs' images, distortions, "
                  "rate and budget; `bench/calc_supervised.py`), the yardstick for the readers learned from sums:",
                  "", *supervised_rows(supervised)]
    return lines
