"""The calc benchmarks in the report, read from their JSON output and never retyped.

`bench/calc_nesy.py` writes `nesy*.json` (the neuro-symbolic MNIST-addition protocol; one file per
invocation, e.g. `nesy.json` and `nesy-600s-n1.json`, all shown in one table) and `scale.json`
(sums of up to 1,000-digit numbers); `bench/calc_peer.py` writes `peer.json` (the 2017 Keras model
beside ours); `bench/calc_real.py` writes `real-test.json` (photos, scans, strips and drawings). Each file is optional; the section quotes whichever exist under `<bench_dir>/calc/`.
"""

from __future__ import annotations

import statistics
from dataclasses import fields
from pathlib import Path

from matplotlib.figure import Figure

from neuralab.calc.config import CalcConfig
from neuralab.calc.published import CITATIONS, cite
from neuralab.core.mnist import SPLIT_SIZES
from neuralab.core.reference import load_result, provenance_note


# a run's design choices: a file written before a choice existed ran with CalcConfig's default for it
DESIGN = ("precision", "starts", "start_seconds", "holdout", "ema", "reader", "distort", "weight_decay")
_DEFAULTS = {field.name: field.default for field in fields(CalcConfig)}


def _design(config: dict) -> tuple:
    return tuple(config.get(name, _DEFAULTS[name]) for name in DESIGN)


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
    def key(run: dict) -> tuple:
        config = run["config"]
        return (run["digits"], config["max_seconds"], *_design(config), run.get("device", "cpu"))

    # one row per setting: seeds run at different times (one file each) are one row
    for setting in sorted({key(r) for nesy in results for r in nesy["runs"]}):
        files = [nesy for nesy in results if any(key(r) == setting for r in nesy["runs"])]
        mine = [r for nesy in files for r in nesy["runs"] if key(r) == setting]
        lines.append(_nesy_row(files[0], setting[0], sorted(mine, key=lambda r: r["config"].get("seed", 0))))
    names = dict.fromkeys(name for nesy in results for name in nesy["published"] if name in CITATIONS)
    lines += ["", "Published figures from: " + "; ".join(cite(name) for name in names) + "."]
    recorded = [provenance_note(nesy) for nesy in results if "machine" in nesy]
    older = "; ".join(f"`{nesy['command']}`" for nesy in results if "machine" not in nesy)
    if older:
        recorded.append(f"measured by {older} on the project's 2-core CPU machine (these files predate the "
                        "provenance record, so they do not name it themselves)")
    lines += ["", "Rows " + "; ".join(recorded) + "."]
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
    setting = _gpu(mine[0]) + [config.get("precision", "fp32")] * (config.get("precision", "fp32") != "fp32")
    if config.get("reader", "vgg") != "vgg":
        setting.append(f"{config['reader']} reader")
    if config.get("starts", 1) > 1:
        setting.append(f"{config['starts']} starts of {config['start_seconds']:g} s")
    if config.get("holdout", 0):
        setting.append(f"{config['holdout']:,} images held out")
    if config.get("ema", 0.0):
        setting.append(f"weights averaged, decay {config['ema']:g}")
    if config.get("distort", 1.0) != 1.0:
        setting.append(f"distortions ×{config['distort']:g}")
    if config.get("weight_decay", 0.0):
        setting.append(f"weight decay {config['weight_decay']:g}")
    label = f"{N} ({', '.join(setting)})" if setting else f"{N}"
    return (f"| {label} | {_mean_sd([r['protocol']['exact_sum_accuracy'] for r in mine])} ({len(mine)} seed{'s' * (len(mine) > 1)}, "
            f"{mine[0]['protocol']['count']} sums) | {_mean_sd([r['resampled']['exact_sum_accuracy'] for r in mine])} "
            f"({mine[0]['resampled']['count']:,} sums) "
            f"| {_mean_sd([r['protocol']['digit_accuracy'] for r in mine])} | {_mean_sd([r['protocol']['ceiling'] for r in mine])} "
            f"| {statistics.mean(r['train_seconds'] for r in mine):.0f} | {_kept(mine[0]['config'])} | {verdict} "
            f"| {'–' if best is None else f'{best[0]} ({best[1]})'} |")


def _gpu(run: dict) -> list[str]:
    """The device of a run trained off the CPU, for its setting (rows trained on a GPU say so); else []."""
    device = run.get("device", "cpu")
    return [] if device == "cpu" else [device]


def _kept(config: dict) -> str:
    # runs from before `keep` existed kept the best validation epoch, the earliest on a tie
    return "last" if config.get("keep") == "last" else "best on validation"


def _save(fig: Figure, ax, path: Path, legend_size: float | None = None) -> None:
    ax.legend(fontsize=legend_size)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def scale_figure(scale: dict, path: Path) -> None:
    rows = scale["scale"]
    N = [r["digits"] for r in rows]
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    ax.loglog(N, [r["step_seconds"] for r in rows], "o-", label="training step (one sum)")
    ax.loglog(N, [r["predict_seconds"] for r in rows], "s-", label="predicted sum")
    ax.loglog(N, [rows[-1]["step_seconds"] * n / N[-1] for n in N], ":", color="grey", label="linear in N")
    ax.set_xlabel("digits per number N")
    ax.set_ylabel("seconds")
    _save(fig, ax, path)


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
    _save(fig, ax, path, legend_size=7)
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


def _run_setting(config: dict, reader: bool = False, start_seconds: bool = False) -> str:
    """A run's setting in a table cell: precision, budget, the reader if not vgg, short starts (with
    their seconds if asked), the decay of its averaged weights, its distortions' strength if not 1,
    its weight decay if any."""
    parts = [config.get("precision", "fp32"), f"{config['max_seconds']:g} s"]
    if reader and config.get("reader", "vgg") != "vgg":
        parts.append(config["reader"])
    if config.get("starts", 1) > 1:
        parts.append(f"{config['starts']} starts" + (f" of {config['start_seconds']:g} s" if start_seconds else ""))
    if config.get("ema", 0.0):
        parts.append(f"averaged {config['ema']:g}")
    if config.get("distort", 1.0) != 1.0:
        parts.append(f"distorted ×{config['distort']:g}")
    if config.get("weight_decay", 0.0):
        parts.append(f"weight decay {config['weight_decay']:g}")
    return ", ".join(parts)


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
        setting = _run_setting(config, start_seconds=True)   # the reader has its own column here
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


def scale_lines(scale: dict, figure: str) -> list[str]:
    rows = scale["scale"]
    lines = ["", "**Long numbers.** Each N trained from scratch on N-digit sums alone; times on 2 CPU cores:",
             "", "| N | ms per training step | ms per predicted sum | trained for | exact sums | digit p | ceiling p^2N |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["trained"]
        lines.append(f"| {r['digits']} | {1000 * r['step_seconds']:.1f} | {1000 * r['predict_seconds']:.1f} "
                     f"| {t['train_seconds']:.0f} s | {100 * t['exact_sum_accuracy']:.2f}% of {t['count']} "
                     f"| {100 * t['digit_accuracy']:.2f}% | {100 * t['ceiling']:.3g}% |")
    if all("reader_of" in r for r in rows):
        lines += ["", "The N=1 model's reader, scoring sums of every N: "
                  + ", ".join(f"N={r['digits']}: {100 * r['reader_of']['exact_sum_accuracy']:.2f}% "
                              f"(ceiling {100 * r['reader_of']['ceiling']:.3g}%)" for r in rows) + "."]
    lines += ["", f"![time per step and per sum against N]({figure})", "", f"Measured with `{scale['command']}`."]
    return lines


def _machine_on(cost: dict) -> str:
    """A cost file's machine (its GPU, for a file timed there), date and commit: timings of one
    machine move between days and commits."""
    commit = f", {cost['commit'][:7]}" if cost.get("commit") else ""
    machine = cost["machine"]["gpu"] if cost.get("device") == "cuda" else cost["machine"]["cpu"]
    return f"{machine}, {cost['date'][:10]}{commit}"


def cost_rows(costs: list[dict]) -> list[str]:
    """`bench/calc_cost.py`'s figures, one block of rows per file (a machine on a date): one sum's
    training step split into reader and arithmetic, a predicted sum, the step per 1000 digits against
    its target, and the busiest operators."""
    bf16 = all("step_bf16_seconds" in r for cost in costs for r in cost["rows"])   # older files lack it
    lines = ["| machine | N | training step, one sum | reader forward + backward | the same in bf16 | arithmetic "
             "forward + backward | predicted sum | training per 1000 digits |" + (" the same in bf16 |" if bf16 else "")
             + " busiest operators of a step (ms) |", "|---|---|---|---|---|---|---|---|" + "---|" * bf16 + "---|"]
    for cost in costs:
        target, machine = cost["target_per_1000_digits"], f"{_machine_on(cost)}, {cost['threads']} threads"

        def judged(per_1000: float) -> str:
            return f"{per_1000:.3f} s (≤ {target}: {'met' if per_1000 <= target else '**missed**'})"

        for r in cost["rows"]:
            busiest = ", ".join(f"{e['name'].removeprefix('aten::')} {e['self_ms']:.0f}" for e in r["busiest"][:3])
            step_bf16 = f" {judged(r['step_bf16_seconds_per_1000_digits'])} |" if bf16 else ""
            lines.append(f"| {machine} | {r['digits']} | {1000 * r['step_seconds']:.1f} ms "
                         f"| {1000 * r['reader_seconds']:.1f} ms | {1000 * r['reader_bf16_seconds']:.1f} ms "
                         f"| {1000 * r['arithmetic_seconds']:.1f} ms | {1000 * r['predict_seconds']:.1f} ms "
                         f"| {judged(r['step_seconds_per_1000_digits'])} |{step_bf16} {busiest} |")
    compiled = [(_machine_on(cost), r) for cost in costs for r in cost["rows"]
                if "step_bf16_compiled_seconds" in r]
    if compiled:
        lines += ["", "The bf16 step with the reader under torch.compile (inductor): " + "; ".join(
            f"{cpu}, N={r['digits']}: {1000 * r['step_bf16_compiled_seconds']:.1f} ms against "
            f"{1000 * r['step_bf16_seconds']:.1f} ms eager (compiling took {r['compile_seconds']:.0f} s)"
            for cpu, r in compiled) + "."]
    return lines


def peer_table(peer: dict) -> list[str]:
    names = {"symbolic": "ours: CNN + exact arithmetic", "seed": "ours: the 2017 model in PyTorch",
             "keras-2017": "the 2017 model in Keras (peer)"}
    first = peer["symbolic"]
    lines = ["", f"**The 2017 model as a peer**, same data and wall time ({first['count']} MNIST-test sums):", "",
             "| model | trained | exact sums | per character |", "|---|---|---|---|"]
    for key, name in names.items():
        r = peer[key]
        lines.append(f"| {name} | {r['train_seconds']:.0f} s | {100 * r['exact_sum_accuracy']:.2f}% "
                     f"| {100 * r['char_accuracy']:.2f}% |")
    lines += ["", f"Measured with `{peer['command']}`."]
    return lines


REAL_KINDS = {"strip": "clean strips (one number per picture)", "photo": "phone photos of column sums",
              "row": "phone photos of a row \"a + b\"", "scan": "scans of column sums",
              "canvas": "mouse drawings in the page's boxes (Chromium)", "wide": "mouse drawings in the page's wide box"}


def real_rows(real: dict) -> list[str]:
    """`bench/calc_real.py`'s figures as a table: each kind of picture beside the same digits as raw
    arrays, and the command that measured them."""
    lines = ["| pictures | numbers | digits right | numbers right | same digits as arrays | ratio | layout right | target |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, r in real["kinds"].items():
        lines.append(f"| {REAL_KINDS.get(kind, kind)} | {r['numbers']} | {100 * r['digit_accuracy']:.2f}% "
                     f"| {100 * r['number_accuracy']:.2f}% | {100 * r['arrays']['number_accuracy']:.2f}% "
                     f"| {r['ratio_to_arrays']:.3f} | {100 * r['layout_accuracy']:.1f}% | {r['target']} |")
    return lines + ["", f"Measured with `{real['provenance']['command']}`."]


def real_table(real: dict) -> list[str]:
    """The report's paragraph on people's pictures: what was read, by which checkpoint, then `real_rows`."""
    where = real["provenance"]
    return ["", f"**Reading people's pictures** (MNIST-{real['split']} digits written on generated pictures, "
            f"read by the checkpoint `{Path(real['checkpoint']).name}`; {where['machine']['cpu']}, "
            f"{where['date'][:10]}, commit {str(where['commit'])[:7]}):", "", *real_rows(real)]


def _load_all(bench_dir: Path, pattern: str) -> list[dict]:
    """Every result file of `calc/` that matches `pattern`, by name."""
    return [load_result(bench_dir, f"calc/{path.name}") for path in sorted((bench_dir / "calc").glob(pattern))]


def markdown(bench_dir: Path | None, assets_dir: Path, out_dir: Path) -> list[str]:
    """The benchmark paragraphs for the calc section (empty when no results are there)."""
    if bench_dir is None:
        return []
    lines = []
    if nesy := _load_all(bench_dir, "nesy*.json"):
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
    if supervised := _load_all(bench_dir, "supervised*.json"):
        lines += ["", "The same reader taught every digit's label instead (the N=15 runs' images, distortions, "
                  "rate and budget; `bench/calc_supervised.py`), the yardstick for the readers learned from sums:",
                  "", *supervised_rows(supervised)]
    if (scale := load_result(bench_dir, "calc/scale.json")) is not None:
        scale_figure(scale, assets_dir / "calc_scale.png")
        lines += scale_lines(scale, str((assets_dir / "calc_scale.png").relative_to(out_dir)))
    if costs := _load_all(bench_dir, "cost*.json"):
        lines += ["", "**What a long sum costs** (fresh weights; the arithmetic is the carry chain):", "",
                  *cost_rows(costs), "", "Measured with " + "; ".join(
                      f"`{cost['command']}` on {cost['machine']['cpu']}, {cost['date'][:10]}" for cost in costs) + "."]
    if (peer := load_result(bench_dir, "calc/peer.json")) is not None:
        lines += peer_table(peer)
    if (real := load_result(bench_dir, "calc/real-test.json")) is not None:
        lines += real_table(real)
    return lines
