"""Photo uploads under load: `neuralab serve` in its own process, many clients posting pictures at once.

Cases (each a JPEG rendered with `calc.pages` and `calc.paper`, sent as `/api/picture` data URLs):
  photo   a column sum on squared paper photographed at 1600 px (what the page sends after scaling)
  large   the same page at 4000x4000 (a camera's full size, sent directly to the API)
  noise   1000x1000 pure noise
Per case: `--requests` uploads, `--concurrency` at once. Printed per case beside the issue's anchors:
status counts (anchor: 0 5xx), p50/p95 latency (anchor: each answered within 5 s of a worker taking
it), and the server's peak resident memory over the whole run (VmHWM; anchor: <= 1.5 GB).

    python bench/web_pictures.py --checkpoint CKPT [--requests 200] [--concurrency 40] [--json FILE]
"""

from __future__ import annotations

import argparse
import base64
import io
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from neuralab.calc.pages import photograph, write_page
from neuralab.calc.paper import on_paper
from neuralab.core import mnist
from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance

ANCHORS = {"server_5xx": 0, "peak_rss_mb": 1536, "p95_seconds": 5.0}


def pictures() -> dict[str, str]:
    """The three cases as data URLs."""
    data, rng = mnist.load(), np.random.default_rng(0)
    labels = [[2, 9, 4], [6, 1], [7, 0, 5, 8]]
    images = [data.x_test[[rng.choice(np.flatnonzero(data.y_test == d)) for d in ds]] for ds in labels]
    page = photograph(on_paper(write_page(images, labels, rng, height=90), rng, paper="squared", height=90), rng)
    photo = Image.fromarray(page.image)
    out = {}
    for name, image in (("photo", photo.resize((1600, 1600 * photo.height // photo.width))),
                        ("large", photo.resize((4000, 4000))),
                        ("noise", Image.fromarray((rng.random((1000, 1000)) * 255).astype(np.uint8)))):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        out[name] = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    return out


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(base: str, url: str, requests: int, concurrency: int) -> dict:
    """Post `url` `requests` times, `concurrency` at once: status counts and latencies."""
    with httpx.Client(base_url=base, timeout=120) as client:
        def one(_: int) -> tuple[int, float]:
            t0 = time.perf_counter()
            status = client.post("/api/picture", json={"picture": url}).status_code
            return status, time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - t0
    statuses = [s for s, _ in results]
    seconds = np.array([t for _, t in results])
    return {"requests": requests, "concurrency": concurrency, "wall_seconds": round(wall, 1),
            "status_counts": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "server_5xx": sum(s >= 500 for s in statuses),
            "p50_seconds": round(float(np.percentile(seconds, 50)), 2),
            "p95_seconds": round(float(np.percentile(seconds, 95)), 2)}


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a symbolic calc checkpoint")
    parser.add_argument("--requests", type=number_in(int, 1, 10_000), default=200, help="per case (default 200)")
    parser.add_argument("--concurrency", type=number_in(int, 1, 256), default=40, help="default 40")
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the figures here")
    args = parser.parse_args()
    where, urls = provenance(), pictures()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "neuralab", "serve", "--checkpoint", str(args.checkpoint),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        cases = {}
        for name, url in urls.items():
            cases[name] = load(base, url, args.requests, args.concurrency)
            cases[name]["peak_rss_mb_so_far"] = round(peak_rss_mb(server.pid))
            print(f"{name:<6} {cases[name]['status_counts']}  p50 {cases[name]['p50_seconds']} s  "
                  f"p95 {cases[name]['p95_seconds']} s  wall {cases[name]['wall_seconds']} s  "
                  f"server peak {cases[name]['peak_rss_mb_so_far']} MB", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:                 # still draining requests a client gave up on
            server.kill()
    peak = max(c["peak_rss_mb_so_far"] for c in cases.values())
    fives = sum(c["server_5xx"] for c in cases.values())
    print(f"5xx {fives} (anchor {ANCHORS['server_5xx']})  server peak {peak} MB (anchor <= {ANCHORS['peak_rss_mb']} MB)")
    if args.json:
        atomic_write_json(args.json, {**where, "checkpoint": str(args.checkpoint), "anchors": ANCHORS,
                                      "cases": cases, "server_5xx": fives, "peak_rss_mb": peak})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
