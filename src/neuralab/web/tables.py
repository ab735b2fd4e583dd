"""The web page's benchmark files as tables, for docs/benchmarks."""

from __future__ import annotations


def load_rows(result: dict) -> list[str]:
    """`bench/web.py`'s file: the page's API under load."""
    lines = ["| requests | concurrency | throughput | p50 | p95 | errors |", "|---|---|---|---|---|---|",
             f"| {result['requests']:,} | {result['concurrency']} | {result['requests_per_second']:.1f} req/s "
             f"| {result['p50_ms']:.1f} ms | {result['p95_ms']:.1f} ms | {result['errors']} (anchor: 0) |"]
    return lines


def pictures_rows(result: dict) -> list[str]:
    """`bench/web_pictures.py`'s file: picture uploads at once, their answers and the server's memory."""
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
    return lines
