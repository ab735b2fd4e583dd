"""The calc benchmarks in the report, read from their JSON output and never retyped.

The MNIST-addition benchmark has its own module (`nesy_tables`). Here: `bench/calc_nesy.py --scale`
writes `scale.json` (sums of up to 1,000-digit numbers), `bench/calc_cost.py` writes `cost*.json`
(what a long sum costs), `bench/calc_peer.py` writes `peer.json` (the 2017 Keras model beside ours)
and `bench/calc_real.py` writes `real-test.json` (photos, scans, strips and drawings). Each file is
optional; the section quotes whichever exist under `<bench_dir>/calc/`.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from neuralab.calc import nesy_tables
from neuralab.core.reference import load_result, load_results, measured_sentence
from neuralab.core.section import Fold

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
    nesy_tables.save_plot(fig, ax, path)


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
    lines += ["", f"![time per step and per sum against N]({figure})", "", measured_sentence(scale)]
    return lines


def symbolic_rows(runs: list[dict]) -> list[str]:
    """Every kept 600 s run of `bench/calc.py --only symbolic` (`symbolic-600s*.json`), oldest first:
    the MNIST-test figure that changes to the reader must not lower (>= 97% exact sums); then where
    each came from, in the same order."""
    lines = ["| commit | date | machine | trained | exact sums | digit p | ceiling | target ≥ 97% exact |",
             "|---|---|---|---|---|---|---|---|"]
    runs = sorted(runs, key=lambda r: r.get("provenance", r)["date"])
    for run in runs:
        made, test = run.get("provenance", run), run["symbolic"]["test"]
        changed = " (uncommitted changes)" if made.get("uncommitted_changes") else ""
        lines.append(f"| `{made['commit'][:7]}`{changed} | {made['date'][:10]} | {made['machine']['cpu']}, "
                     f"{made['machine']['cores']} cores | {test['train_seconds']:.0f} s "
                     f"| {100 * test['exact_sum_accuracy']:.2f}% of {test['count']:,} "
                     f"| {100 * test['digit_accuracy']:.2f}% "
                     f"| {100 * test['ceiling']:.2f}% | {'met' if test['exact_sum_accuracy'] >= 0.97 else 'MISSED'} |")
    return lines + [line for run in runs for line in ["", measured_sentence(run)]]


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
    lines += ["", measured_sentence(peer)]
    return lines


REAL_KINDS = {"strip": "clean strips (one number per picture)", "photo": "phone photos of column sums",
              "row": "phone photos of a row \"a + b\"", "scan": "scans of column sums",
              "canvas": "mouse drawings in the page's boxes (Chromium)", "wide": "mouse drawings in the page's wide box",
              "squared": "photos on squared notebook paper (3 inks, half shadowed)",
              "lined": "photos on lined notebook paper (3 inks, half shadowed)",
              "turned": "photos on plain paper turned up to 10°, shadowed",
              "tilted": "photos leaning up to 25° from the camera (keystone)",
              "camera": "squared-paper photos at 12 megapixels (4000×3000)",
              "hands": "phone photos of column sums in a looser hand (spacing, small digits, '+' sizes)",
              "joined": "phone photos of column sums in a fast hand (two digits in five touch the one before)",
              "pens": "phone photos of column sums in other pens and slants (strokes 0.04-0.2 heights, ±30°)",
              "desk": "squared-paper photos of a page on a desk (the desk at both sides)"}


def real_rows(real: dict) -> list[str]:
    """`bench/calc_real.py`'s figures as a table: each kind of picture beside the same digits as raw
    arrays, and the command that measured them."""
    timed = any("read_seconds_p95" in r for r in real["kinds"].values())   # files since the p95 column
    marked = any("wrong_unmarked" in r for r in real["kinds"].values())    # files since the '?' column
    lines = ["| pictures | numbers | digits right | numbers right | same digits as arrays | ratio | layout right "
             + ("| read wrong, no '?' " if marked else "") + ("| read p95 " if timed else "") + "| target |",
             "|---|---|---|---|---|---|---|" + "---|" * (1 + timed + marked)]
    for kind, r in real["kinds"].items():
        lines.append(f"| {REAL_KINDS.get(kind, kind)} | {r['numbers']} | {100 * r['digit_accuracy']:.2f}% "
                     f"| {100 * r['number_accuracy']:.2f}% | {100 * r['arrays']['number_accuracy']:.2f}% "
                     f"| {r['ratio_to_arrays']:.3f} | {100 * r['layout_accuracy']:.1f}% "
                     + (f"| {_percent(r.get('wrong_unmarked'))} " if marked else "")
                     + (f"| {_seconds(r.get('read_seconds_p95'))} " if timed else "") + f"| {r['target']} |")
    return lines + ["", measured_sentence(real)]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"     # the browser kinds mark no doubts


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"      # the browser kinds time the page, not the reading


def real_table(real: dict) -> list[str]:
    """The report's paragraph on people's pictures: what was read, by which checkpoint, then `real_rows`."""
    return ["", f"**Reading people's pictures** (MNIST-{real['split']} digits written on generated pictures, "
            f"read by the checkpoint `{Path(real['checkpoint']).name}`):", "", *real_rows(real)]


def latest_per_machine(costs: list[dict]) -> list[dict]:
    """The newest cost file of each machine (its GPU for a GPU timing, else its CPU): older files are history."""
    latest = {}
    for cost in sorted(costs, key=lambda c: c.get("date", "")):
        machine = cost["machine"]["gpu"] if cost.get("device") == "cuda" else cost["machine"]["cpu"]
        latest[machine] = cost
    return list(latest.values())


def folds(bench_dir: Path | None, assets_dir: Path, out_dir: Path) -> list[Fold]:
    """The benchmark paragraphs for the calc section, one fold each (none when no results are there)."""
    if bench_dir is None:
        return []
    found = []
    if nesy := load_results(bench_dir, "calc/nesy*.json"):
        found.append(Fold("The MNIST-addition benchmark: one row per N, the setting chosen on val",
                          "\n".join(nesy_tables.headline(nesy))))
    supervised = load_results(bench_dir, "calc/supervised*.json")   # each file loaded once, for every table
    if every_run := nesy_tables.markdown(nesy, supervised, assets_dir, out_dir):
        found.append(Fold("Appendix: every MNIST-addition run, its learning curves and held-out readings",
                          "\n".join(every_run)))
    if (scale := load_result(bench_dir, "calc/scale.json")) is not None:
        scale_figure(scale, assets_dir / "calc_scale.png")
        found.append(Fold("Long numbers: time per step and per sum against N",
                          "\n".join(scale_lines(scale, str((assets_dir / "calc_scale.png").relative_to(out_dir))))))
    if costs := load_results(bench_dir, "calc/cost*.json"):
        latest = latest_per_machine(costs)
        found.append(Fold("What a long sum costs, the latest measurement per machine", "\n".join([
            "Fresh weights; the arithmetic is the carry chain. Older measurements are in docs/benchmarks.md.", "",
            *cost_rows(latest), "", "Measured with " + "; ".join(
                f"`{cost['command']}` on {cost['machine']['cpu']}, {cost['date'][:10]}" for cost in latest) + "."])))
    if (peer := load_result(bench_dir, "calc/peer.json")) is not None:
        found.append(Fold("The 2017 model as a peer, on the same data and wall time", "\n".join(peer_table(peer))))
    if (real := load_result(bench_dir, "calc/real-test.json")) is not None:
        found.append(Fold("Reading people's pictures: photos, scans, strips and drawings", "\n".join(real_table(real))))
    return found


def confusion_rows(result: dict) -> list[str]:
    """`bench/calc_confusion.py`'s file: which digit each held-out image was read as."""
    lines = ["| digit | " + " | ".join(f"read {d}" for d in range(10)) + " |", "|---" * 11 + "|"]
    for digit, row in enumerate(result["confusion"]):
        lines.append(f"| {digit} | " + " | ".join(f"**{n}**" if n == max(row) else str(n) for n in row) + " |")
    lines += ["", f"N={result['digits']}, seed {result['seed']} ({result['precision']}), on {result['count']:,} "
              f"{result['images']} digits (trained on from sums, their labels never seen): read right "
              f"{100 * result['accuracy']:.2f}%, read as a digit of the same residue mod 3 "
              f"{100 * result['same_residue_mod3']:.2f}%. Checkpoint `{result['checkpoint']}`."]
    return lines


def misread_rows(result: dict) -> list[str]:
    """`bench/calc_misread.py`'s file: the images several readers misread together."""
    readers = result["readers"]
    lines = ["| MNIST-train image | label | read together as | its probability | the label's | readers wrong |",
             "|---|---|---|---|---|---|"]
    for m in result["misread"]:
        lines.append(f"| #{m['mnist_train_index']} | {m['label']} | {m['read_as']} | {m['p_read_as']:.2f} "
                     f"| {m['p_label']:.2f} | {m['readers_wrong']} of {len(readers)} |")
    alone = ", ".join(f"{100 * r['read_right']:.2f}%" for r in readers)
    lines += ["", f"{len(readers)} readers (N={readers[0]['digits']}, seeds "
              f"{', '.join(str(r['seed']) for r in readers)}, {readers[0]['precision']}) on the {result['count']:,} "
              f"images {result['images']}, which they never trained on: alone they read {alone} right, together "
              f"{100 * result['read_right_together']:.2f}%; {result['misread_by_every_reader']} images are misread "
              "by every one of them."]
    return lines
