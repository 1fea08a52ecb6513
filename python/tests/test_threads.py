"""The GIL is released during Go work: other Python threads run, and Go calls run in parallel."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import hotpath
from support import make_jpeg


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return make_jpeg(3000, 2000)


def python_progress(seconds: float, stop: threading.Event) -> float:
    """Count loop iterations of pure Python per second until stop is set or seconds pass."""
    n = 0
    start = time.perf_counter()
    while not stop.is_set() and time.perf_counter() - start < seconds:
        n += 1
    return n / (time.perf_counter() - start)


def test_python_threads_run_during_go_calls(big_jpeg):
    solo = python_progress(0.3, threading.Event())
    stop = threading.Event()

    def go_work():
        try:
            for _ in range(6):
                hotpath.thumbnail(big_jpeg, 800, format="jpeg")
        finally:
            stop.set()

    t = threading.Thread(target=go_work)
    t.start()
    during = python_progress(60, stop)
    t.join()
    # Were the GIL held during the Go calls, the loop would barely move; with
    # it released the loop keeps most of its solo speed (2 cores, 2 threads).
    assert during > 0.25 * solo, f"Python made {during:.0f} it/s during Go work, {solo:.0f} alone"


def test_go_calls_run_in_parallel(big_jpeg):
    # Each call's interval is taken in Python, around the foreign call. Were
    # the GIL held during the call, no other thread could even start one, and
    # no two intervals would overlap; released, they overlap (on any number of
    # cores). Speed-ups are measured in bench/python, not asserted here.
    spans = []
    lock = threading.Lock()

    def work(_):
        t0 = time.perf_counter()
        out = hotpath.thumbnail(big_jpeg, 400, format="webp")
        t1 = time.perf_counter()
        with lock:
            spans.append((t0, t1))
        return out

    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(work, range(8)))
    assert all(o[:4] == b"RIFF" for o in outs)
    spans.sort()
    overlaps = sum(1 for (a0, a1), (b0, b1) in zip(spans, spans[1:]) if b0 < a1)
    assert overlaps >= 3, f"only {overlaps} of 7 consecutive calls overlapped: {spans}"


def test_counts_from_many_threads_agree():
    datasets = [[f"k{i % (1000 + t)}" for i in range(200_000)] for t in range(8)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(hotpath.count_unique, datasets))
    assert got == [len(set(d)) for d in datasets]
