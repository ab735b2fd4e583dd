"""A bounded pool of workers for the web API's reading work (pictures, digit boxes, the model).

At most `workers` requests are worked on at once and at most `queue` more wait their turn; a
request beyond that is answered at once with 503 and `Retry-After`, so memory and latency stay
bounded however many clients send at once. Each request's work has a deadline counted from when
a worker takes it up (`core.deadline`), and the memory it freed is handed back to the system
afterwards, so one large photo does not leave the server holding its peak.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from neuralab.core import deadline

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full."""


def _libc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0), which returns freed heap pages to the system; a no-op elsewhere."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


class Gate:
    def __init__(self, workers: int, queue: int, seconds: float):
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="reader")
        self.capacity, self.seconds = workers + queue, seconds
        self.taken, self.lock = 0, threading.Lock()
        self.trim = _libc_trim()

    async def run(self, work: Callable[..., T], *args) -> T:
        """Run `work(*args)` on a worker, within the deadline; raise Busy if the queue is full."""
        with self.lock:
            if self.taken >= self.capacity:
                raise Busy()
            self.taken += 1
        try:
            return await asyncio.wrap_future(self.pool.submit(self._job, work, *args))
        finally:
            with self.lock:
                self.taken -= 1

    def _job(self, work: Callable[..., T], *args) -> T:
        try:
            with deadline.within(self.seconds):
                return work(*args)
        finally:
            gc.collect()
            self.trim()
