"""The in-process engines from asyncio code, and cancelling them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hotpath


def write_csv(path, rows: int) -> None:
    with open(path, "w") as f:
        f.write("id,group\n")
        step = 200_000
        for start in range(0, rows, step):
            f.write("".join(f"{i},{i % 97}\n" for i in range(start, min(rows, start + step))))


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """A CSV whose exact count, with a tiny memory budget (spilling), takes well over a second."""
    path = tmp_path_factory.mktemp("aio") / "big.csv"
    write_csv(path, 6_000_000)
    return path


SLOW = dict(memory="4MB", workers=1)


def test_helpers_give_the_same_answers(jpeg, tmp_path):
    p = tmp_path / "small.csv"
    write_csv(p, 1000)

    async def scenario():
        assert (await hotpath.acount_unique_file(p, "group")).count == 97
        assert await hotpath.acount_unique(["a", "b", "a"]) == 2
        thumb = await hotpath.athumbnail(jpeg, 100)
        assert thumb == hotpath.thumbnail(jpeg, 100)
        r = await hotpath.atransform(jpeg, 50, 50, fit="fill", format="png")
        assert (r.width, r.height, r.format) == (50, 50, "png")

    asyncio.run(scenario())


def test_fastapi_loop_answers_while_a_count_runs(big_csv):
    fastapi = pytest.importorskip("fastapi", reason="Debian's python3-fastapi (scripts/deps.sh --test installs it)")
    import httpx

    app = fastapi.FastAPI()

    @app.get("/count")
    async def count():
        r = await hotpath.acount_unique_file(big_csv, "id", **SLOW)
        return {"distinct": r.count}

    @app.get("/ping")
    async def ping():
        return {"ok": True}

    async def scenario():
        async with httpx.AsyncClient(app=app, base_url="http://app") as c:
            task = asyncio.create_task(c.get("/count"))
            await asyncio.sleep(0.2)  # the count is running in the engine pool
            latencies = []
            while not task.done() and len(latencies) < 20:
                t0 = time.perf_counter()
                assert (await c.get("/ping")).json() == {"ok": True}
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.02)
            assert not task.done(), "the count ended before the pings: the test proved nothing"
            assert max(latencies) < 0.05, latencies
            assert (await task).json() == {"distinct": 6_000_000}

    asyncio.run(scenario())


def test_cancel_token_stops_a_count_from_another_thread(big_csv):
    token = hotpath.CancelToken()
    threading.Timer(0.3, token.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(hotpath.CancelledError):
        hotpath.count_unique_file(big_csv, "id", cancel=token, **SLOW)
    assert time.monotonic() - t0 < 1.3
    with pytest.raises(hotpath.CancelledError):  # a cancelled token stays cancelled
        hotpath.count_unique_file(big_csv, "group", cancel=token)


def test_cancelling_the_task_cancels_the_count(big_csv):
    async def scenario():
        task = asyncio.create_task(hotpath.acount_unique_file(big_csv, "id", **SLOW))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The pool's thread is free again at once: a small call runs now.
        small = await asyncio.wait_for(hotpath.acount_unique(["x", "y"]), 1.0)
        return time.monotonic() - t0, small

    took, small = asyncio.run(scenario())
    assert small == 2 and took < 1.0


def test_ctrl_c_stops_a_count_within_a_second(big_csv):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.path.dirname(hotpath.__path__[0])!r})
        import hotpath
        print("start", flush=True)
        try:
            hotpath.count_unique_file({str(big_csv)!r}, "id", memory="4MB", workers=1)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(0.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=10)
    assert out.strip() == "interrupted"
    assert time.monotonic() - t0 < 1.0
