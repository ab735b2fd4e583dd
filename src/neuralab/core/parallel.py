"""Independent pieces of array work spread over this machine's cores.

scipy.ndimage's filters, labelling and transforms let go of Python's lock while they run, so
threads run them side by side: a page's straight-run filters at ten slants, say, take about half
the time on two cores. `each` keeps the order of its items, so a result does not depend on how
many cores there are. Each item runs in a copy of the caller's context, so a request's deadline
(`core.deadline`) holds in the threads too. Work given to `each` from inside one of its threads
runs there, one item after the other: a pool whose threads wait on the same pool could wait for ever.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_PREFIX = "neuralab-array"
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def each(work: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """[work(item) for item in items], on as many threads as there are cores; in the items' order."""
    global _pool
    items = list(items)
    if len(items) < 2 or cores() < 2 or threading.current_thread().name.startswith(_PREFIX):
        return [work(item) for item in items]
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(cores(), thread_name_prefix=_PREFIX)
    contexts = [contextvars.copy_context() for _ in items]            # one each: a context runs in one thread at a time
    return list(_pool.map(lambda job: job[0].run(work, job[1]), zip(contexts, items)))
