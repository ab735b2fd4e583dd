"""Pick the model the web page serves, and run the app on uvicorn.

Order: `--checkpoint`, else the best checkpoint of the newest finished symbolic `calc` run in
`runs/`, else train the quick calculator first (with its progress shown) and serve that.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.runs import CHECKPOINT, runs_holding
from neuralab.web.app import Limits, create_app
from neuralab.web.reader import DigitReader

log = logging.getLogger(__name__)
HEADER_SECONDS = 10.0   # a request head is a few hundred bytes: any real client sends it at once


def newest_calc_checkpoint(runs_root: Path) -> Path | None:
    """The best checkpoint of the newest finished symbolic calc run, if any."""
    for run in runs_holding(runs_root, "calc"):
        try:
            model = run.config.get("model")
        except (UserError, json.JSONDecodeError):
            log.warning("%s: unreadable config.json, skipped", run.path)
            continue
        if model == "symbolic" and (run.path / CHECKPOINT).is_file():
            return run.path / CHECKPOINT
    return None


def resolve_checkpoint(checkpoint: Path | None, runs_root: Path, data_dir: Path | None) -> Path:
    if checkpoint is not None:
        return checkpoint
    found = newest_calc_checkpoint(runs_root)
    if found is not None:
        log.info("serving %s", found)
        return found
    from neuralab.calc.config import CalcConfig, resolve
    from neuralab.calc.train import train

    log.info("no calc run in %s: training the quick calculator first", runs_root)
    best = train(resolve(CalcConfig(), "quick"), runs_root, data_dir).checkpoint
    return best


def mnist_test_sampler(data_dir: Path | None):
    """`count -> (count, 28, 28)` MNIST-test digits; the data is loaded on the first call."""
    cache: dict = {}
    rng = np.random.default_rng()

    def sample(count: int) -> np.ndarray:
        if "x" not in cache:
            cache["x"] = mnist.load(data_dir).x_test
        return cache["x"][rng.integers(0, len(cache["x"]), count)]

    return sample


def build_app(checkpoint: Path | None, runs_root: Path = Path("runs"), data_dir: Path | None = None,
              device: str = "cpu", limits: Limits = Limits()):
    from neuralab.calc.evaluate import load_model

    path = resolve_checkpoint(checkpoint, runs_root, data_dir)
    model, _, _ = load_model(path, device=device)
    return create_app(DigitReader(model, device), limits, mnist_test_sampler(data_dir))


def server_config(app, host: str, port: int, log_level: str = "info"):
    """uvicorn's config for the app: idle keep-alive clients let go after 5 s, and a connection whose
    request head has not arrived within `HeaderDeadline.seconds` closed (uvicorn has no such limit)."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        seconds = HEADER_SECONDS

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.loop.call_later(self.seconds, self._head_too_slow)

        def _head_too_slow(self) -> None:
            if self.cycle is None and not self.transport.is_closing():   # no request head yet
                self.transport.close()

    return uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_keep_alive=5, http=HeaderDeadline)


def serve(app, host: str, port: int) -> None:
    import uvicorn

    if not 0 < port < 65536:
        raise UserError(f"--port: {port} is not a TCP port")
    with socket.socket() as probe:   # a port in use is one line, before uvicorn logs anything
        # uvicorn's own rule: a port whose last connections linger in TIME_WAIT after a restart is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise UserError(f"--port {port}: cannot listen on {host}:{port} ({e.strerror})") from None
    log.info("serving on http://%s:%d/  (API docs at /docs)", host, port)
    uvicorn.Server(server_config(app, host, port)).run()


@contextlib.contextmanager
def in_background(app) -> Iterator[str]:
    """Run the app on a free loopback port in a thread (benchmarks, browser tests); yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, "warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
