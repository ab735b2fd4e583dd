"""The main job's benchmark files as tables (`bench/report.py`, `bench/abuse.py`), and the headline
table of docs/benchmarks.md, one per part, each figure printed from its own result file."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from neuralab.calc.nesy_tables import chosen_table
from neuralab.core.errors import UserError
from neuralab.core.reference import load_result, load_results
from neuralab.depth.findings import PUBLISHED


def _load(results: Path, relative: str) -> dict:
    """A result file the headlines need (`core.reference.load_result`, which names an unreadable one)."""
    if (record := load_result(results, relative)) is None:
        raise UserError(f"{results / relative}: missing; the headline table is printed from it")
    return record


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


TEMP_FOLDER = re.compile(re.escape(tempfile.gettempdir()) + r"/tmp\w+")


def run_rows(result: dict) -> list[str]:
    """`bench/report.py`'s file: each part's share, what it used and its figure, then the targets."""
    lines = ["| part | share of the budget | used | this run's figure |", "|---|---|---|---|"]
    for name, part in result["parts"].items():
        over = " (over its share: the parts after it were given less)" if part["seconds"] > 1.05 * part["share"] else ""
        lines.append(f"| {name} | {part['share']:.0f} s | {part['seconds']:.0f} s{over} | {part['summary']} |")
    lines += ["", "| target | anchor | measured | |", "|---|---|---|---|"]
    for name, anchor in result["targets"].items():
        value, at_most = result["figures"][name], name in result.get("at_most", [])
        met = value <= anchor if at_most else value >= anchor
        lines.append(f"| {name} | {'≤' if at_most else '≥'} {anchor:g} | {value:.4g} | **{'met' if met else 'missed'}** |")
    within = result["wall_seconds"] <= result["budget"]
    lines += ["", f"The whole command took {result['wall_seconds']:.0f} s of a {result['budget']:.0f} s budget "
              f"(**{'within' if within else 'over'}** it), exit status {result['exit']}."]
    return lines


def abuse_rows(result: dict) -> list[str]:
    """`bench/abuse.py`'s file: every hostile input, how it was refused and what it said."""
    lines = ["| input | answer | traceback | peak RSS | seconds | what it says (its start) |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        answer = f"exit {r['exit']}" if r["kind"] == "cli" else f"HTTP {r['status']}"
        rss = "–" if r["peak_rss_mb"] is None else f"{max(r['peak_rss_mb'], 0):.0f} MB"
        said = TEMP_FOLDER.sub("…", r.get("message", ""))[:90].replace("|", "\\|")   # the run's scratch folder
        lines.append(f"| {r['row']} | {answer} | {'**yes**' if r['traceback'] else 'no'} | {rss} | {r['seconds']:.1f} "
                     f"| {'`' + said + '`' if said else '–'} |")
    lines += ["", f"Tracebacks: {result['tracebacks']} (target 0). 5xx answers: {result['server_errors']} (target 0). "
              f"Rows not refused with exit 2 or a 4xx: {len(result['not_refused'])}"
              + (f" ({', '.join(result['not_refused'])})" if result["not_refused"] else "")
              + f". Rows over {result['rss_target_mb']} MB: {len(result['over_rss_target'])}"
              + (f" ({', '.join(result['over_rss_target'])})" if result["over_rss_target"] else "") + "."]
    return lines


def headline_rows(results: Path) -> list[str]:
    """One short table per part: its headline figures beside their targets and anchors, each from its file."""
    head = ["| figure | measured | target | anchor | |", "|---|---|---|---|---|"]
    report = _load(results, "report/budget-10m.json")
    lines = ["**The main job** (`report/budget-10m.json`): `neuralab report --budget 10m` from empty `runs/`.", "", *head,
             f"| whole command | {report['wall_seconds']:.0f} s | ≤ {report['budget']:.0f} s | – "
             f"| {_verdict(report['wall_seconds'] <= report['budget'])} |"]
    for name, anchor in report["targets"].items():
        value, at_most = report["figures"][name], name in report.get("at_most", [])
        lines.append(f"| {name} | {value:.4g} | {'≤' if at_most else '≥'} {anchor:g} | – "
                     f"| {_verdict(value <= anchor if at_most else value >= anchor)} |")
    lines += ["", f"**1.1 backprop** (`report/budget-10m.json`): {report['parts']['backprop']['summary']}."]
    depth = _load(results, "depth/target-val.json")
    worst = min(a for row in depth["test"] for a in row["accuracies"])
    lines += ["", f"**1.3 depth** (`depth/target-val.json`): `{depth['chosen']}` with {depth['activation']}, chosen on val, "
              f"{depth['seeds']} seeds × {depth['epochs']} epochs.", "", *head,
              f"| worst test accuracy, depths 1–3, every seed | {worst:.4f} | ≥ {depth['target']} | {PUBLISHED['relu'][3]} (2017, ReLU depth 3) "
              f"| {_verdict(worst >= depth['target'])} |"]
    filters = _load(results, "filters/throughput.json")
    two = filters["methods"]["ours, two layers (clip)"]
    lines += ["", "**1.4 filters** (`filters/throughput.json`):", "", *head,
              f"| the CNN against numpy+scipy, {filters['images']} images | {two['vs_scipy']:.2f}× "
              f"| ≥ {filters['target_ratio']:g}× | 1× (scipy) | {_verdict(two['vs_scipy'] >= filters['target_ratio'])} |",
              f"| largest difference from scipy | {filters['max_abs_error']['two layers']:.1e} | – | 0 | |"]
    caption = _load(results, "caption/attention.json")
    lines += ["", "**1.6 caption** (`caption/attention.json`): the learned encoder, full profile.", "", *head]
    for split, r in caption["splits"].items():
        goal = caption["target"]["exact_match"][split]
        lines.append(f"| exact match, {split} split, {r['count']} clips | {r['exact_match']:.3f} | ≥ {goal} in "
                     f"≤ {caption['target']['train_seconds']} s | none published (a drawing) "
                     f"| {_verdict(r['exact_match'] >= goal and r['train_seconds'] <= caption['target']['train_seconds'])} |")
    calc = _load(results, "calc/symbolic-600s.json")["symbolic"]["test"]
    notebook = _load(results, "calc/real-notebook-test.json")["kinds"]
    lines += ["", "**1.8 calc** (`calc/symbolic-600s.json`, `calc/real-notebook-test.json`, `calc/nesy*.json`):", "", *head,
              f"| exact sums, {calc['count']:,} MNIST-test sums, 600 s | {100 * calc['exact_sum_accuracy']:.2f}% | – "
              "| not reported (2017) | |",
              f"| per character | {100 * calc['char_accuracy']:.2f}% | – | 93.22% (2017, on digits it trained on) | |"]
    lines += [f"| numbers right, {kind} pictures | {100 * r['number_accuracy']:.2f}% | {r['target'].split(':')[0]} "
              f"| {100 * r['arrays']['number_accuracy']:.2f}% as arrays | {_verdict('MISSED' not in r['target'])} |"
              for kind, r in notebook.items() if kind in ("photo", "squared", "lined", "tilted", "hands", "joined")]
    nesy = load_results(results, "calc/nesy*.json")
    lines += ["", "MNIST addition, one row per N, chosen on val:", "", *chosen_table(nesy)]
    load, pictures, abuse = _load(results, "web/load.json"), _load(results, "web/pictures.json"), _load(results, "abuse.json")
    lines += ["", "**The web page and hostile input** (`web/load.json`, `web/pictures.json`, `abuse.json`):", "", *head,
              f"| p95 of {load['requests']} requests, {load['concurrency']} at once | {load['p95_ms']:.0f} ms | – | – | |",
              f"| server errors (5xx) under picture load | {pictures['server_5xx']} | 0 | – | {_verdict(pictures['server_5xx'] == 0)} |",
              f"| peak memory under picture load | {pictures['peak_rss_mb']} MB | ≤ {pictures['anchors']['peak_rss_mb']} MB | – "
              f"| {_verdict(pictures['peak_rss_mb'] <= pictures['anchors']['peak_rss_mb'])} |",
              f"| hostile inputs with a traceback or a 5xx | {abuse['tracebacks'] + abuse['server_errors']} of {len(abuse['rows'])} "
              f"| 0 | – | {_verdict(abuse['tracebacks'] + abuse['server_errors'] == 0)} |"]
    lines += ["", "**Teachers' exercises** (`exercises.json`):", "", *head, *exercise_rows(_load(results, "exercises.json"))]
    return lines


def exercise_rows(result: dict) -> list[str]:
    """`bench/exercises.py`'s file: each level's keys against torch, the filter keys against scipy, the
    teaching points held, and the time to write a 20-exercise sheet (rows of the headline table)."""
    agree, target = result["agree"], result["sheet_seconds_target"]
    rows = []
    for level, r in result["backprop"].items():
        rows += [f"| backprop {level}: largest \\|key − torch float64\\|, {r['variants']:,} variants of {r['seeds']:,} seeds "
                 f"| {r['max_abs_gap']:.1e} | ≤ {agree:g} | – | {_verdict(r['max_abs_gap'] <= agree)} |",
                 f"| backprop {level}: teaching points held in torch | {r['teaching_held']:,} of {r['teaching_named']:,} "
                 f"| all | – | {_verdict(r['teaching_held'] == r['teaching_named'])} |"]
    f = result["filters"]
    rows.append(f"| filters: largest \\|key's CNN − scipy\\|, {f['variants']:,} variants | {f['max_abs_gap']:.1e} "
                f"| ≤ {agree:g} | – | {_verdict(f['max_abs_gap'] <= agree)} |")
    rows += [f"| 20-exercise sheet and key (Markdown, HTML, PDF), {name}, as a command | {seconds:.1f} s | < {target:g} s "
             f"| – | {_verdict(seconds < target)} |" for name, seconds in result["sheets"].items()]
    return rows
