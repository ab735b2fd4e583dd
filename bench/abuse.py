"""Hostile and careless input against the real CLI and the real server: every row of the table the
hostile-input issue found, each counted for tracebacks, 5xx answers, exit codes and peak memory.

Each CLI row runs `neuralab` in its own process under a 4 GB address-space cap and reports that
process's peak RSS. The server rows run the app on uvicorn on loopback (in this process) and
measure how far this process's peak RSS rises above its size before the request. Targets: 0 tracebacks, 0 5xx, exit 2 (or a 4xx)
for every row, peak RSS under 1 GB.

    python bench/abuse.py --json src/neuralab/results/abuse.json
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from neuralab.calc.config import CalcConfig
from neuralab.calc.models import SymbolicCalc
from neuralab.core.args import number_in, output_file, script_main
from neuralab.cli.hostile import cli_rows, files
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.web.app import create_app
from neuralab.web.reader import DigitReader
from neuralab.web.serve import in_background

RSS_TARGET_MB = 1024
CAP_BYTES = 4 << 30   # the probes ran under a 4 GB cap
RUNNER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from neuralab.cli import main
try:
    main(sys.argv[1:])
finally:
    peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print("PEAK_RSS_KB", peak, file=sys.stderr)
"""   # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec


def run_cli_row(name: str, args: list[str], timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", RUNNER.format(cap=CAP_BYTES), *args], capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
        code, err = done.returncode, done.stderr
    except subprocess.TimeoutExpired as e:
        code, err = None, (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    peak = [int(line.split()[1]) for line in err.splitlines() if line.startswith("PEAK_RSS_KB")]
    shown = [line for line in err.splitlines() if line.strip() and not line.startswith("PEAK_RSS_KB")]
    return {"row": name, "kind": "cli", "exit": code, "traceback": "Traceback (most recent call last)" in err,
            "lines": len(shown), "message": shown[-1][:200] if shown else "", "peak_rss_mb": peak[0] / 1024 if peak else None,
            "seconds": time.perf_counter() - t0}


def peak_rss_kb(reset: bool = False) -> int:
    """This process's peak resident memory (VmHWM); `reset` starts a new peak from the current size."""
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))


def _raw(url: str, head: bytes, parts, wait: float = 60.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head)
        try:
            for part in parts:
                sock.sendall(part)
        except OSError:      # the server refused and closed while the body was still coming
            pass
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def server_rows() -> list[dict]:
    torch.manual_seed(0)
    app = create_app(DigitReader(SymbolicCalc(CalcConfig().layout, touch=True).eval()))   # as a served checkpoint, judge and all
    rows = []
    with in_background(app) as url:
        def row(name, head, parts):
            before = peak_rss_kb(reset=True)
            t0 = time.perf_counter()
            answer = _raw(url, head, parts)
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
            grown = (peak_rss_kb() - before) / 1024
            rows.append({"row": name, "kind": "web", "status": status, "traceback": False,
                         "peak_rss_mb": grown, "seconds": time.perf_counter() - t0})

        chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
        post = b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        row("POST /api/sum, 1 GB chunked body (RSS growth)", post + b"Transfer-Encoding: chunked\r\n\r\n", (chunk for _ in range(1024)))
        row("POST /api/sum, body 1 byte in 30 s", post + b"Content-Length: 100\r\n\r\n", [b"{"])
        for name in ("nope.js", ".css", "..js", "%00.js", "x" * 5000 + ".js"):
            row(f"GET /static/{name[:20]}", f"GET /static/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), [])
        read = b"POST /api/read HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        for name, digit in (("a NaN array", "[[NaN" + ", NaN" * 27 + "]" + (", [NaN" + ", NaN" * 27 + "]") * 27 + "]"),
                            ("a 3-D array", "[[[0.5]]]"), ('strings "0.5"', '[["0.5"]]'), ("booleans", "[[true]]")):
            body = ('{"digits": [' + digit + "]}").encode()
            row(f"POST /api/read, {name}", read + b"Content-Length: %d\r\n\r\n" % len(body), [body])
    return rows


@script_main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=output_file(".json"), default=None, help="write the rows, with their provenance, to this file")
    parser.add_argument("--timeout", type=number_in(float, 1, 3600), default=120, help="seconds per CLI row (default 120)")
    args = parser.parse_args()
    where = provenance()   # the commit and machine as the run starts
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [run_cli_row(name, argv, args.timeout) for name, argv in cli_rows(files(root), str(root / "scratch"))]
        rows += server_rows()
    print(f"{'row':<48}{'exit/status':>12}{'traceback':>10}{'peak MB':>9}{'s':>6}  message")
    for r in rows:
        outcome = r.get("exit") if r["kind"] == "cli" else r.get("status")
        rss = "-" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f}"
        print(f"{r['row'][:47]:<48}{outcome!s:>12}{'yes' if r['traceback'] else 'no':>10}{rss:>9}{r['seconds']:>6.1f}"
              f"  {r.get('message', '')[:70]}")
    tracebacks = sum(r["traceback"] for r in rows)
    server_errors = sum(1 for r in rows if r["kind"] == "web" and (r["status"] or 500) >= 500)
    not_refused = [r["row"] for r in rows if (r.get("exit") if r["kind"] == "cli" else (r["status"] or 500) // 100 * 100)
                   not in (2, 400)]
    over = [r["row"] for r in rows if (r["peak_rss_mb"] or 0) > RSS_TARGET_MB]
    print(f"\ntracebacks {tracebacks} (target 0); 5xx {server_errors} (target 0); rows not refused with exit 2 / 4xx: "
          f"{len(not_refused)} {not_refused}; rows over {RSS_TARGET_MB} MB: {len(over)} {over}")
    if args.json:
        atomic_write_json(Path(args.json), {**where, "rows": rows, "tracebacks": tracebacks,
                                            "server_errors": server_errors, "not_refused": not_refused,
                                            "over_rss_target": over, "rss_target_mb": RSS_TARGET_MB})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
