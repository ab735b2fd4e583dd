"""Write the tables of docs/benchmarks.md (and its appendix docs/benchmarks/*.md) from the result files in
src/neuralab/results/, never by hand.

Each generated table sits between `<!-- table: NAME -->` and `<!-- /table -->`; NAME picks the
result file and the function that prints it. `--check` rewrites nothing and exits 1 when a table
differs from what its file says (the test suite runs it).

    python bench/docs_tables.py            # rewrite every table
    python bench/docs_tables.py --check    # fail if any table and its JSON disagree
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from neuralab.calc.benchmarks import cost_rows, real_rows
from neuralab.caption.tables import result_rows
from neuralab.calc.nesy_tables import chosen_table, curve_rows, held_out_rows, nesy_table, supervised_rows
from neuralab.core.io import atomic_write_bytes
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.core.reference import measured_sentence
from neuralab.depth.experiment import summary_markdown
from neuralab.depth.findings import PUBLISHED, target_lines
from neuralab.filters.tables import throughput_rows

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def _measured(result: dict) -> list[str]:
    return ["", measured_sentence(result)]


def caption_table(result: dict) -> list[str]:
    return result_rows(result) + _measured(result)


def caption_errors_table(result: dict) -> list[str]:
    lines = ["| digits in the clip | clips | wrong | exact match |", "|---|---|---|---|"]
    for actors, n in result["clips"].items():
        wrong = result["wrong_clips"].get(actors, 0)
        lines.append(f"| {actors} | {n} | {wrong} | {1 - wrong / n:.3f} |")
    lines += ["", "Wrong words by kind: " + ", ".join(f"{kind} {n}" for kind, n in result["wrong_words"].items())
              + f" ({result['encoder']} encoder, {result['split']} split, {result['count']} validation clips, greedy)."]
    return lines + _measured(result)


def caption_runs_table(result: dict) -> list[str]:
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
    return lines + _measured(result)


def calc_confusion_table(result: dict) -> list[str]:
    lines = ["| digit | " + " | ".join(f"read {d}" for d in range(10)) + " |", "|---" * 11 + "|"]
    for digit, row in enumerate(result["confusion"]):
        lines.append(f"| {digit} | " + " | ".join(f"**{n}**" if n == max(row) else str(n) for n in row) + " |")
    lines += ["", f"N={result['digits']}, seed {result['seed']} ({result['precision']}), on {result['count']:,} "
              f"{result['images']} digits (trained on from sums, their labels never seen): read right "
              f"{100 * result['accuracy']:.2f}%, read as a digit of the same residue mod 3 "
              f"{100 * result['same_residue_mod3']:.2f}%. Checkpoint `{result['checkpoint']}`."]
    return lines + _measured(result)


def calc_misread_table(result: dict) -> list[str]:
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
    return lines + _measured(result)


TEMP_FOLDER = re.compile(re.escape(tempfile.gettempdir()) + r"/tmp\w+")


def abuse_table(result: dict) -> list[str]:
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
    return lines + _measured(result)


def filters_table(result: dict) -> list[str]:
    return throughput_rows(result) + _measured(result)


def web_table(result: dict) -> list[str]:
    lines = ["| requests | concurrency | throughput | p50 | p95 | errors |", "|---|---|---|---|---|---|",
             f"| {result['requests']:,} | {result['concurrency']} | {result['requests_per_second']:.1f} req/s "
             f"| {result['p50_ms']:.1f} ms | {result['p95_ms']:.1f} ms | {result['errors']} (anchor: 0) |"]
    return lines + _measured(result)


def web_pictures_table(result: dict) -> list[str]:
    lines = ["| upload | requests | at once | answers | 5xx | p50 | p95 | server peak memory |", "|---|---|---|---|---|---|---|---|"]
    for name, case in result["cases"].items():
        answers = ", ".join(f"{count} × {status}" for status, count in case["status_counts"].items())
        lines.append(f"| {name} | {case['requests']} | {case['concurrency']} | {answers} | {case['server_5xx']} "
                     f"| {case['p50_seconds']} s | {case['p95_seconds']} s | {case['peak_rss_mb_so_far']} MB |")
    anchors = result["anchors"]
    lines += ["", f"Anchors: {anchors['server_5xx']} 5xx (measured {result['server_5xx']}: "
              f"**{'met' if result['server_5xx'] <= anchors['server_5xx'] else 'missed'}**); server peak memory "
              f"≤ {anchors['peak_rss_mb']} MB (measured {result['peak_rss_mb']} MB: "
              f"**{'met' if result['peak_rss_mb'] <= anchors['peak_rss_mb'] else 'missed'}**)."]
    return lines + _measured(result)


def depth_h200_table(result: dict) -> list[str]:
    names = {"relu": "ReLU", "sigmoid": "sigmoid"}
    lines = ["| cell | ours, mean ± sd | published (1 Keras run) | within ±0.02 |", "|---|---|---|---|"]
    for r in result["reproduction"]:
        lines.append(f"| {names[r['activation']]} depth {r['depth']} | {r['mean']:.4f} ± {r['std']:.4f} "
                     f"({r['seeds']} seeds) | {r['published']:.3f} | {'yes' if r['within'] else '**no**'} |")
    lines += ["", "Mean test accuracy after 10 epochs of every run in the folder, per variant (n: seeds):", "",
              summary_markdown(result["rows"])]
    lines += ["", f"Trained on {', '.join(result['trained_on'])} (the runs record the device, not the commit)."]
    return lines + _measured(result)


def depth_deep_table(result: dict) -> list[str]:
    lines = [f"Mean test accuracy ± sd over seeds after {' or '.join(map(str, result['epochs']))} epochs "
             "(n: seeds):", "", summary_markdown(result["rows"], spread=True)]
    return lines + ["", f"Trained on {', '.join(result['trained_on'])}."] + _measured(result)


def depth_target_table(result: dict) -> list[str]:
    return target_lines(result) + _measured(result)


def depth_keras_table(result: dict) -> list[str]:
    lines = ["| cell | published (1 Keras run, 2017) | ours | Keras " + result["keras"] + " (torch backend) |",
             "|---|---|---|---|"]
    for c in result["cells"]:
        lines.append(f"| {c['activation']} depth {c['depth']} | {c['published']:.3f} | {c['ours']:.4f} | {c['keras']:.4f} |")
    met = result["ratio"] <= result["target_ratio"]
    lines += ["", f"{result['epochs']} epochs, seed {result['seed']}, {result['threads']} torch threads: ours "
              f"{result['ours_seconds']:.0f} s (with its per-epoch diagnostics), Keras {result['keras_seconds']:.0f} s, "
              f"ratio {result['ratio']:.2f} (target ≤ {result['target_ratio']:g}: **{'met' if met else 'missed'}**)."]
    return lines + _measured(result)


def report_table(result: dict) -> list[str]:
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
    return lines + _measured(result)


def _load(results: Path, relative: str) -> dict:
    return json.loads((results / relative).read_text())


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def headline_tables(results: Path) -> list[str]:
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
              for kind, r in notebook.items() if kind in ("photo", "squared", "lined", "tilted")]
    nesy = [json.loads(f.read_text()) for f in sorted(results.glob("calc/nesy*.json"))]
    lines += ["", "MNIST addition, one row per N, chosen on val:", "", *chosen_table(nesy)]
    load, pictures, abuse = _load(results, "web/load.json"), _load(results, "web/pictures.json"), _load(results, "abuse.json")
    lines += ["", "**The web page and hostile input** (`web/load.json`, `web/pictures.json`, `abuse.json`):", "", *head,
              f"| p95 of {load['requests']} requests, {load['concurrency']} at once | {load['p95_ms']:.0f} ms | – | – | |",
              f"| server errors (5xx) under picture load | {pictures['server_5xx']} | 0 | – | {_verdict(pictures['server_5xx'] == 0)} |",
              f"| peak memory under picture load | {pictures['peak_rss_mb']} MB | ≤ {pictures['anchors']['peak_rss_mb']} MB | – "
              f"| {_verdict(pictures['peak_rss_mb'] <= pictures['anchors']['peak_rss_mb'])} |",
              f"| hostile inputs with a traceback or a 5xx | {abuse['tracebacks'] + abuse['server_errors']} of {len(abuse['rows'])} "
              f"| 0 | – | {_verdict(abuse['tracebacks'] + abuse['server_errors'] == 0)} |"]
    return lines


TABLES = {
    "headlines": (None, headline_tables),
    "report": ("report/budget-10m.json", report_table),
    "report-first": ("report/budget-10m-first.json", report_table),
    "report-3067516": ("report/budget-10m-3067516.json", report_table),
    "depth-h200": ("depth/h200.json", depth_h200_table),
    "depth-target": ("depth/target-val.json", depth_target_table),
    "depth-deep": ("depth/deep-variants.json", depth_deep_table),
    "depth-keras": ("depth/keras-10-epochs.json", depth_keras_table),
    "calc-real": ("calc/real-test.json", real_rows),
    "calc-real-notebook": ("calc/real-notebook-test.json", real_rows),
    "calc-real-notebook-600s": ("calc/real-notebook-test-600s.json", real_rows),
    "calc-real-camera": ("calc/real-camera-test.json", real_rows),
    "calc-cost": ("calc/cost*.json", lambda results: cost_rows(results) + [m for r in results for m in _measured(r)]),
    "calc-confusion": ("calc/confusion-n100-bf16-seed0.json", calc_confusion_table),
    "calc-misread": ("calc/misread-n15-wd0.05-seed0-2.json", calc_misread_table),
    "calc-nesy": ("calc/nesy*.json", lambda results: nesy_table(results)[2:]),
    "calc-curves": ("calc/nesy*.json", curve_rows),
    "calc-held-out": ("calc/nesy*.json", held_out_rows),
    "calc-supervised": ("calc/supervised*.json",
                        lambda results: supervised_rows(results) + [m for r in results for m in _measured(r)]),
    "caption": ("caption/full.json", caption_table),
    "caption-attention": ("caption/attention.json", caption_table),
    "caption-errors": ("caption/errors.json", caption_errors_table),
    "caption-attention-runs": ("caption/attention-runs.json", caption_runs_table),
    "abuse": ("abuse.json", abuse_table),
    "filters": ("filters/throughput.json", filters_table),
    "web": ("web/load.json", web_table),
    "web-pictures": ("web/pictures.json", web_pictures_table),
}


def render(docs: str, results: Path) -> str:
    def table(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"error: docs table {name!r} has no result file (known: {', '.join(TABLES)})")
        path, printer = TABLES[name]
        if path is None:     # a table drawn from several files
            loaded = results
        elif "*" in path:      # every file of the pattern, as one list
            loaded = [json.loads(f.read_text()) for f in sorted(results.glob(path))]
        else:
            loaded = json.loads((results / path).read_text())
        body = "\n".join(printer(loaded)) + "\n"
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(table, docs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, nargs="+",
                        default=[ROOT / "docs" / "benchmarks.md", *sorted((ROOT / "docs" / "benchmarks").glob("*.md"))])
    parser.add_argument("--results", type=Path, default=REFERENCE_RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if a table differs from its result file")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.docs:
        docs = path.read_text()
        fresh = render(docs, args.results)
        if not args.check:
            atomic_write_bytes(path, fresh.encode())
            print(f"wrote {path}")
            continue
        stale = [m["name"] for m, n in zip(BLOCK.finditer(docs), BLOCK.finditer(fresh)) if m["body"] != n["body"]]
        if stale:
            print(f"{path}: tables differ from their result files: {', '.join(stale)}; run python bench/docs_tables.py",
                  file=sys.stderr)
            failed = 1
        else:
            print(f"{path}: {len(BLOCK.findall(docs))} tables match their result files")
    return failed


if __name__ == "__main__":
    sys.exit(main())
