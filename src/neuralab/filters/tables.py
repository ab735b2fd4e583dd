"""The filters' benchmark file as a table: one writer for the docs and the report's section."""

from __future__ import annotations


def throughput_rows(result: dict) -> list[str]:
    """`bench/filters.py`'s file as a table and its verdict, for the docs and the report alike."""
    lines = ["| method | seconds | images/s | vs scipy (same range handling) |", "|---|---|---|---|"]
    for name, r in result["methods"].items():
        lines.append(f"| {name} | {r['seconds']:.3f} | {r['images_per_second']:.0f} | {r['vs_scipy']:.2f}× |")
    ours = {k: v["vs_scipy"] for k, v in result["methods"].items() if k.startswith("ours")}
    met = all(v >= result["target_ratio"] for v in ours.values())
    errors = result["max_abs_error"]
    lines += ["", f"{result['images']} random 128×128 RGB float32 images, best of {result['repeats']}, "
              f"{result['threads']} torch threads. Target ours ≥ {result['target_ratio']:g}× scipy: "
              f"**{'met' if met else 'missed'}** ({', '.join(f'{v:.2f}×' for v in ours.values())}). Ours agrees "
              f"with scipy to {errors['two layers']:.0e} (two layers) and {errors['fused']:.0e} (fused)."]
    return lines
