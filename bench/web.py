"""Load test of the calculator web API on loopback: 1,000 requests, 8 at a time.

Starts the real app on uvicorn (in this process, on a free port), sends `POST /api/sum` requests
of two 3-digit numbers drawn as PNG data URLs from MNIST-test, and prints throughput, p50/p95
latency and the error count (anchor: zero errors).

    python bench/web.py [--checkpoint CKPT] [--requests 1000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from neuralab.core import mnist
from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.web.app import png_data_url
from neuralab.web.serve import build_app, in_background


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: newest calc run, else train quick")
    parser.add_argument("--requests", type=number_in(int, 1, 100_000), default=1000, help="default 1000")
    parser.add_argument("--concurrency", type=number_in(int, 1, 256), default=8, help="default 8")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = parser.parse_args()
    where = provenance()

    app = build_app(args.checkpoint)
    with in_background(app) as base:
        x_test = mnist.load().x_test
        rng = np.random.default_rng(0)
        payloads = [{"numbers": [{"digits": [png_data_url(x_test[i]) for i in rng.integers(0, 10000, 3)]}
                                 for _ in range(2)]} for _ in range(50)]
        url = f"{base}/api/sum"
        latencies, errors = [], 0
        with httpx.Client(timeout=30) as client:
            def one(k: int) -> tuple[float, bool]:
                t0 = time.perf_counter()
                ok = client.post(url, json=payloads[k % len(payloads)]).status_code == 200
                return time.perf_counter() - t0, ok

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                for latency, ok in pool.map(one, range(args.requests)):
                    latencies.append(latency)
                    errors += not ok
            wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    print(f"requests {args.requests}  concurrency {args.concurrency}  wall {wall:.1f}s")
    print(f"throughput {args.requests / wall:.1f} req/s  p50 {np.percentile(lat, 50):.1f} ms  "
          f"p95 {np.percentile(lat, 95):.1f} ms  errors {errors} (anchor: 0)")
    if args.json:
        atomic_write_json(Path(args.json), {
            **where, "requests": args.requests, "concurrency": args.concurrency, "wall_seconds": wall,
            "requests_per_second": args.requests / wall, "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)), "errors": errors})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
