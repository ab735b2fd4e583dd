"""The report quotes the calc benchmarks from their JSON output: what is in the files is what is shown."""

import json

import pytest

from neuralab.calc import benchmarks, nesy_tables, published
from neuralab.core.errors import UserError
from neuralab.core.reference import load_results

from .helpers import bench_module


def _result(exact, digit, count=100):
    return {"count": count, "exact_sum_accuracy": exact, "char_accuracy": 0.99, "digit_accuracy": digit,
            "ceiling": None if digit is None else digit ** 2, "train_seconds": 12.0}


def write(folder, name, obj):
    (folder / "calc").mkdir(parents=True, exist_ok=True)
    (folder / "calc" / name).write_text(json.dumps(obj))


def test_tables_and_figure_come_from_the_json(tmp_path):
    bench = tmp_path / "results"
    def runs(budget, exact, **config):
        return [{"digits": 1, "seed": s, "train_seconds": 10.0 + s, "config": {"max_seconds": budget} | config,
                 "protocol": _result(e, 0.995), "resampled": _result(e - 0.01, 0.995, 10000)}
                for s, e in enumerate(exact)]
    nesy = {"published": {"A-NeSI": {1: 97.66}}, "targets": {1: 99.0}}
    write(bench, "nesy.json", nesy | {"runs": runs(20, (0.990, 0.992, 0.994)), "command": "bench --budget 20"})
    write(bench, "nesy-600s.json", nesy | {"runs": runs(600, (0.98, 0.98), keep="last"), "command": "bench --budget 600"})
    curved = runs(900, (0.995, 0.985), precision="bf16")
    for run in curved:
        run["curve"] = [{"epoch": e, "seconds": 300.0 * e, "train_loss": 1.0 / e, "val_digit_accuracy": 1 - 0.01 / e}
                        for e in (1, 2, 3)]
    write(bench, "nesy-bf16.json", nesy | {"runs": curved, "every_seed": [1],
          "command": "bench --precision bf16", "date": "2026-12-01T19:00:00+00:00", "commit": "fedcba987",
          "machine": {"cpu": "Some CPU", "cores": 2, "torch": "2.13.0"}})
    scale = [{"digits": n, "step_seconds": 0.01 * n, "predict_seconds": 0.001 * n,
              "trained": _result(0.5, 0.9, 100)} for n in (1, 10, 100)]
    write(bench, "scale.json", {"scale": scale, "command": "python bench/calc_nesy.py --scale 1,10,100"})
    write(bench, "peer.json", {k: _result(x, None) for k, x in (("symbolic", 0.97), ("seed", 0.01), ("keras-2017", 0.02))}
          | {"command": "python bench/calc_peer.py"})
    arrays = {"number_accuracy": 0.99}
    write(bench, "real-test.json", {"split": "test", "checkpoint": "/runs/calc/x/best.safetensors",
          "provenance": {"machine": {"cpu": "Some CPU"}, "date": "2026-12-01T12:00:00+00:00", "commit": "abcdef123",
                         "command": "python bench/calc_real.py --split test"},
          "kinds": {"photo": {"numbers": 600, "digit_accuracy": 0.995, "number_accuracy": 0.985, "arrays": arrays,
                              "ratio_to_arrays": 0.98 / 0.99, "layout_accuracy": 1.0, "target": "met"}}})
    busiest = [{"name": "aten::convolution_backward", "self_ms": 812.4, "calls": 4}]
    for name, cpu, scale in (("cost.json", "Some CPU", 1.0), ("cost-other.json", "Other CPU", 0.5)):
        write(bench, name, {"command": f"python bench/calc_cost.py --json {name}", "date": "2026-12-01T18:00:00+00:00",
              "commit": "0123456789abc", "machine": {"cpu": cpu, "cores": 2}, "threads": 2, "target_per_1000_digits": 0.3,
              "rows": [{"digits": n, "step_seconds": s, "reader_seconds": s * 0.9, "reader_bf16_seconds": s * 0.5,
                        "arithmetic_seconds": 0.004, "predict_seconds": 2 * s, "step_seconds_per_1000_digits": s * 1000 / n,
                        "busiest": busiest} for n, s in ((100, 0.02 * scale), (1000, 1.25 * scale))]})
    compiled = json.loads((bench / "calc" / "cost-other.json").read_text())
    compiled["rows"][1] |= {"step_bf16_seconds": 0.3, "step_bf16_compiled_seconds": 0.33, "compile_seconds": 38.6}
    write(bench, "cost-other.json", compiled)
    gpu = compiled | {"device": "cuda", "machine": {"cpu": "Host CPU", "gpu": "Some GPU", "cores": 16}}
    write(bench, "cost-gpu.json", gpu)
    out = tmp_path / "report"
    text = "\n".join(fold.markdown for fold in benchmarks.folds(bench, out / "assets" / "calc", out))
    assert ("| Some CPU, 2026-12-01, 0123456, 2 threads | 100 | 20.0 ms | 18.0 ms | 10.0 ms | 4.0 ms | 40.0 ms | 0.200 s (≤ 0.3: met) "
            "| convolution_backward 812 |") in text
    assert "| Some CPU, 2026-12-01, 0123456, 2 threads | 1000 | 1250.0 ms | 1125.0 ms | 625.0 ms | 4.0 ms | 2500.0 ms | 1.250 s (≤ 0.3: **missed**) |" in text
    assert "| Other CPU, 2026-12-01, 0123456, 2 threads | 1000 | 625.0 ms |" in text            # every machine's file, one row per N
    assert "| Some GPU, 2026-12-01, 0123456, 2 threads | 1000 |" in text          # a file timed on the GPU names it
    assert "`python bench/calc_cost.py --json cost.json` on Some CPU, 2026-12-01" in text
    assert "Other CPU, 2026-12-01, 0123456, N=1000: 330.0 ms against 300.0 ms eager (compiling took 39 s)" in text
    assert "| phone photos of column sums | 600 | 99.50% | 98.50% | 99.00% | 0.990 | 100.0% | met |" in text
    assert "Measured by `python bench/calc_real.py --split test` on 2026-12-01, Some CPU (? cores), torch ?, commit abcdef1." in text
    assert "| 1 | 99.20 ± 0.20 (3 seeds, 100 sums) | 98.20 ± 0.20 (10,000 sums) |" in text   # mean ± sd of the three runs
    assert "≥ 99.0: met" in text and "97.66 (A-NeSI)" in text
    assert "| 1 | 98.00 ± 0.00 (2 seeds, 100 sums) |" in text and "≥ 99.0: missed" in text   # the second file's row
    assert text.index("| 1 | 99.20") < text.index("| 1 | 98.00")                   # rows by N, then budget
    assert "| 11 | best on validation | ≥ 99.0: met |" in text and "| 10 | last | ≥ 99.0: missed |" in text
    assert "`bench --budget 600`; `bench --budget 20`" in text
    # mean 99.0 meets 99.0, but this file's target holds for every seed, and one seed has 98.5
    assert "| 1 (bf16) | 99.00 ± 0.71 (2 seeds, 100 sums) |" in text and "≥ 99.0 on every seed: missed" in text
    assert "measured by `bench --precision bf16` on 2026-12-01, Some CPU (2 cores)" in text
    assert "| 100 | 1000.0 | 100.0 |" in text
    assert "| ours: CNN + exact arithmetic | 12 s | 97.00% |" in text
    assert (out / "assets" / "calc" / "calc_scale.png").stat().st_size > 1000
    assert (out / "assets" / "calc" / "calc_curves.png").stat().st_size > 1000
    assert "![digit error against training seconds](assets/calc/calc_curves.png)" in text
    assert "| 1 | bf16, 900 s | 0 | trained on | 300 s | 300 s | 600 s | 99.50% | 99.67% | 99.50% |" in text


def test_no_results_no_paragraphs_and_bad_json_is_one_clear_error(tmp_path):
    assert benchmarks.folds(None, tmp_path, tmp_path) == []
    assert benchmarks.folds(tmp_path, tmp_path, tmp_path) == []
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "nesy.json").write_text("{not json")
    with pytest.raises(UserError, match="nesy.json: not readable result JSON"):
        benchmarks.folds(tmp_path, tmp_path, tmp_path)


def test_every_published_figure_names_its_source_in_the_page(tmp_path):
    assert published.CITATIONS.keys() == published.PUBLISHED.keys()
    for authors, paper, venue, year, table in published.CITATIONS.values():
        assert authors and paper and venue and 2018 <= year <= 2026 and table
    nesy = {"command": "python bench/calc_nesy.py", "published": {"A-NeSI": {"15": 76.84}, "Scallop": {"15": None}},
            "targets": {}, "runs": [{"digits": 15, "seed": 0, "train_seconds": 60.0, "config": {"max_seconds": 60},
                                     "protocol": _result(0.8, 0.99), "resampled": _result(0.8, 0.99)}]}
    text = "\n".join(nesy_tables.nesy_table([nesy]))
    assert 'A-NeSI: van Krieken, Thanapalasingam, Tomczak, van Harmelen, ten Teije, "A-NeSI' in text
    assert "Scallop: Li, Huang, Naik" in text


def test_runs_with_held_out_digits_get_their_own_row_and_alone_draw_the_curves(tmp_path):
    def run(seed, holdout):
        curve = [{"epoch": e, "seconds": 60.0 * e, "train_loss": 1.0 / e, "val_digit_accuracy": 1 - 0.01 / e}
                 for e in (1, 2)]
        return {"digits": 200, "seed": seed, "train_seconds": 1800.0, "curve": curve,
                "config": {"max_seconds": 1800, "precision": "bf16", "holdout": holdout},
                "protocol": _result(0.25, 0.996), "resampled": _result(0.24, 0.996)}
    bench = tmp_path / "results"
    write(bench, "nesy-old.json", {"published": {}, "targets": {}, "runs": [run(0, 0)], "command": "bench"})
    write(bench, "nesy-new.json", {"published": {}, "targets": {}, "runs": [run(1, 5000)], "command": "bench --holdout",
                                      "digit_targets": {200: 99.6}})
    distorted = run(2, 5000)
    distorted["config"]["distort"] = 1.5
    write(bench, "nesy-strong.json", {"published": {}, "targets": {}, "runs": [distorted], "command": "bench --distort 1.5"})
    decayed = run(3, 5000)
    decayed["config"]["weight_decay"] = 0.05
    write(bench, "nesy-decayed.json", {"published": {}, "targets": {}, "runs": [decayed], "command": "bench --weight-decay 0.05"})
    on_gpu = run(0, 5000) | {"device": "cuda"}
    write(bench, "nesy-gpu.json", {"published": {}, "targets": {}, "runs": [on_gpu], "command": "bench --device cuda"})
    out = tmp_path / "report"
    text = "\n".join(fold.markdown for fold in benchmarks.folds(bench, out / "assets" / "calc", out))
    assert "| 200 (bf16) | 25.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 200 (bf16, 5,000 images held out) | 25.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 200 (bf16, 5,000 images held out, distortions ×1.5) | 25.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 200 | bf16, 1800 s, distortions ×1.5 | 2 | 5,000 held out |" in text      # its own curve row
    assert "| 200 (bf16, 5,000 images held out, weight decay 0.05) | 25.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 200 | bf16, 1800 s, weight decay 0.05 | 3 | 5,000 held out |" in text
    assert "| 200 (cuda, bf16, 5,000 images held out) | 25.00 ± 0.00 (1 seed, 100 sums) |" in text   # not merged with the CPU seed
    assert "| 200 | cuda, bf16, 1800 s | 0 | 5,000 held out |" in text
    assert "| 1800 | best on validation | p ≥ 99.6%: met |" in text and text.count("p ≥") == 1   # the file's own p target
    assert "Learning curves of the runs that recorded them: the digit error on MNIST-train images held out" in text


def test_the_curve_table_times_the_kept_start_and_the_run_going_on():
    def point(stage, seconds, loss, accuracy):
        return {"stage": stage, "epoch": 1, "seconds": seconds, "train_loss": loss, "val_digit_accuracy": accuracy}
    curve = [point("start1", 10, 5.0, 0.995), point("start2", 20, 3.0, 0.95),      # start 2: the lower loss
             point("", 30, 2.0, 0.991), point("", 40, 1.5, 0.993), point("", 50, 1.0, 0.996)]
    run = {"digits": 100, "seed": 3, "curve": curve, "protocol": _result(0.4, 0.9955),
           "config": {"max_seconds": 50, "precision": "bf16", "starts": 2, "holdout": 5000}}
    rows = nesy_tables.curve_rows([{"runs": [run]}])
    # start 1 reached 99.5% first, but start 2 is the one kept; 55,000 images per epoch, 10 s each
    assert rows[2] == ("| 100 | bf16, 50 s, 2 starts | 3 | 5,000 held out | 20 s | 30 s | 50 s | 99.10% | 99.60% "
                       "| 99.55% | 5500 |")


def test_runs_that_average_their_weights_get_their_own_row_and_a_paired_held_out_reading(tmp_path):
    def run(seed, ema):
        curve = [{"epoch": 1, "seconds": 600.0, "train_loss": 1.0, "val_digit_accuracy": 0.997}]
        row = {"digits": 15, "seed": seed, "train_seconds": 600.0, "curve": curve,
               "config": {"max_seconds": 600, "precision": "bf16", "holdout": 5000, "ema": ema},
               "protocol": _result(0.9, 0.997), "resampled": _result(0.9, 0.997)}
        if ema:
            row["held_out"] = {"images": 5000, "digit_accuracy": 0.9974, "trained_digit_accuracy": 0.9968,
                               "only_averaged_right": 9, "only_trained_right": 6}
        return row
    bench = tmp_path / "results"
    wide = run(2, 0.0) | {"config": run(2, 0.0)["config"] | {"reader": "vgg-wide"}}
    write(bench, "nesy-a.json", {"published": {}, "targets": {}, "runs": [run(0, 0.0), run(1, 0.9995), wide],
                                 "command": "b"})
    out = tmp_path / "report"
    text = "\n".join(fold.markdown for fold in benchmarks.folds(bench, out / "assets" / "calc", out))
    assert "| 15 (bf16, 5,000 images held out) | 90.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 15 (bf16, 5,000 images held out, weights averaged, decay 0.9995) | 90.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 15 | bf16, 600 s, weights averaged, decay 0.9995 | 1 | 5,000 held out |" in text
    assert "| 15 (bf16, vgg-wide reader, 5,000 images held out) | 90.00 ± 0.00 (1 seed, 100 sums) |" in text
    assert "| 15 | bf16, 600 s, vgg-wide reader | 2 | 5,000 held out |" in text
    assert nesy_tables.held_out_rows([{"runs": [run(0, 0.0), run(1, 0.9995)]}])[2] == \
        "| 15 | vgg | 1 | bf16, 600 s, weights averaged, decay 0.9995 | 5,000 | 99.74% | 99.68% | 9 | 6 |"
    assert nesy_tables.held_out_rows([{"runs": [run(0, 0.0)]}]) == []


def test_the_first_averaged_run_is_read_under_the_name_it_was_written_with():
    run = {"digits": 15, "seed": 0, "config": {"max_seconds": 600, "precision": "bf16", "ema": 0.9995},
           "averaged_vs_trained": {"images": 5000, "averaged_digit_accuracy": 0.9958, "trained_digit_accuracy": 0.996,
                                   "only_averaged_right": 0, "only_trained_right": 1}}
    assert nesy_tables.held_out_rows([{"runs": [run]}])[2] == \
        "| 15 | vgg | 0 | bf16, 600 s, weights averaged, decay 0.9995 | 5,000 | 99.58% | 99.60% | 0 | 1 |"


def test_the_reader_taught_labels_is_shown_beside_the_runs_from_its_file(tmp_path):
    curve = [{"epoch": e, "seconds": 300.0 * e, "train_loss": 0.1, "val_digit_accuracy": 0.99} for e in (1, 2)]
    row = {"digits": 15, "seed": 3, "train_seconds": 598.4, "curve": curve, "config": {"reader": "vgg-wide"},
           "held_out": {"images": 5000, "digit_accuracy": 0.9968}, "test": {"images": 10000, "digit_accuracy": 0.9972}}
    bench = tmp_path / "results"
    write(bench, "supervised-600s-seed3.json", {"runs": [row], "command": "python bench/calc_supervised.py"})
    out = tmp_path / "report"
    text = "\n".join(fold.markdown for fold in benchmarks.folds(bench, out / "assets" / "calc", out))
    # 0.9972 ** 30 = 0.91933
    assert "| vgg-wide | 3 | 598 s | 2 | 99.68% of 5,000 | 99.72% of 10,000 | N=15: 91.93% |" in text


def test_the_headline_row_of_each_n_is_chosen_on_val_not_on_test(tmp_path):
    """Three settings of N=15: the best on test trains on its validation digits, the second best on test
    held them out but reads them worse; the chosen row is the one that reads its held-out digits best."""
    def run(seed, val, test, **config):
        return {"digits": 15, "seed": seed, "train_seconds": 600.0, "config": {"max_seconds": 600} | config,
                "curve": [{"epoch": 1, "seconds": 600.0, "train_loss": 0.1, "val_digit_accuracy": val}],
                "protocol": _result(test, 0.99, 333), "resampled": _result(test, 0.99, 10000)}
    nesy = {"published": {"A-NeSI": {15: 80.0}}, "targets": {15: 91.0}}
    write(tmp_path, "nesy-a.json", nesy | {"runs": [run(0, 0.9999, 0.97), run(1, 0.9998, 0.96)]})     # no hold-out
    write(tmp_path, "nesy-b.json", nesy | {"runs": [run(0, 0.990, 0.93, holdout=5000)]})
    write(tmp_path, "nesy-c.json", nesy | {"runs": [run(0, 0.996, 0.88, holdout=5000, ema=0.999),
                                                    run(1, 0.994, 0.90, holdout=5000, ema=0.999)]})
    table = nesy_tables.chosen_table(load_results(tmp_path, "calc/nesy*.json"))
    assert len(table) == 3   # header, rule, one row for N=15
    assert table[2].startswith("| 15 | fp32, 600 s, 5,000 images held out, weights averaged, decay 0.999, 2 seeds; "
                               "one of 3 settings | **89.00%** (88.6–89.4; 20,000 sums) | 86.4–91.2 (666 sums) |")   # Wilson, by hand: 593 of 666


def test_the_report_quotes_the_newest_cost_file_of_each_machine(tmp_path):
    def cost(date, cpu="Some CPU"):
        return {"date": date, "machine": {"cpu": cpu}, "rows": []}
    old, new, other = cost("2026-11-01"), cost("2026-12-01"), cost("2026-10-01", "Other CPU")
    assert benchmarks.latest_per_machine([new, other, old]) == [other, new]


def test_a_tiny_protocol_test_set_is_shown_only_with_its_interval():
    """Five sums per seed say nothing as a mean ± sd: the pooled 95% interval stands in its place."""
    runs = [{"digits": 1000, "seed": s, "train_seconds": 10.0, "config": {"max_seconds": 3600},
             "protocol": _result(e, 0.99, 5), "resampled": _result(0.0, 0.99, 100)} for s, e in enumerate((0.2, 0.0, 0.0))]
    (row,) = [line for line in nesy_tables.nesy_table([{"runs": runs, "published": {}, "targets": {}, "command": "bench"}])
              if line.startswith("| 1000")]
    assert row.startswith("| 1000 | 95% interval 1.2–29.8 (3 seeds, 5 sums each) | 0.00 ± 0.00 (100 sums) |")  # 1 of 15


@pytest.mark.mnist
def test_the_pictures_bench_reads_with_the_one_digit_judge_unless_told_not_to(fixture_checkpoint, real_mnist, tmp_path):
    real = bench_module("calc_real")
    for flags, judged in (([], True), (["--no-judge"], False)):
        out = tmp_path / f"joined-{judged}.json"
        assert real.main(["--checkpoint", str(fixture_checkpoint), "--split", "train", "--numbers", "4",
                          "--kinds", "joined", "--json", str(out), *flags]) == 0
        result = json.loads(out.read_text())
        assert result["one_digit_judge"] is judged and result["kinds"]["joined"]["numbers"] == 4
