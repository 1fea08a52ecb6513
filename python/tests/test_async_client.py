"""hotpath.AsyncClient against a real `hotpath serve`: every method, retries, streaming in bounded memory."""

from __future__ import annotations

import asyncio
import io
import os
import resource
import subprocess
import sys
import textwrap

import pytest
from PIL import Image as PILImage

import hotpath
from support import SIGNING_KEY, Server, make_jpeg


def run(coro):
    return asyncio.run(coro)


def size_of(data: bytes):
    return PILImage.open(io.BytesIO(data)).size


def test_every_method(server, jpeg, tmp_path):
    async def scenario():
        async with hotpath.AsyncClient(server.url, server.admin_key, signing_key=SIGNING_KEY) as c:
            assert await c.health()
            img = await c.upload(jpeg, filename="a.jpg")
            assert isinstance(img, hotpath.Image) and (img.width, img.height) == (1200, 800)
            assert (await c.get(img.id)).variant("medium").width == 800
            assert max(size_of(await c.variant(img.id, "thumb"))) == 200
            assert await c.original(img.id) == jpeg
            chunks = [ch async for ch in c.iter_original(img.id, chunk_size=4096)]
            assert b"".join(chunks) == jpeg and len(chunks) > 1
            assert b"".join([ch async for ch in c.iter_variant(img.id, "thumb")]) == await c.variant(img.id, "thumb")
            assert size_of(await c.transform(img.id, w=300, h=300, fit="fill")) == (300, 300)
            assert c.variant_url(img.id, "thumb") == f"{server.url}/v1/images/{img.id}/variants/thumb"

            p = tmp_path / "b.jpg"
            p.write_bytes(jpeg)
            from_path = await c.upload(p)
            assert from_path.filename == "b.jpg" and from_path.sha256 == img.sha256

            async def agen():
                for i in range(0, len(jpeg), 1000):
                    yield jpeg[i:i + 1000]

            assert (await c.upload(agen(), filename="gen.jpg")).sha256 == img.sha256

            results = await c.upload_many([jpeg, b"not an image"])
            assert [r.ok for r in results] == [True, False]
            assert isinstance(results[1].error, hotpath.HotpathError)

            job = await c.upload(jpeg, async_=True)
            assert isinstance(job, hotpath.Job)
            for _ in range(200):
                if (await c.job(job.id)).state in ("succeeded", "failed"):
                    break
                await asyncio.sleep(0.05)
            assert (await c.job(job.id)).state == "succeeded"

            batch = await c.upload_batch([jpeg, jpeg])
            for _ in range(200):
                b = await c.batch(batch.id)
                if b.done:
                    break
                await asyncio.sleep(0.05)
            assert b.done and b.succeeded == 2

            page = await c.list(limit=2)
            assert len(page.images) == 2 and page.next_cursor
            ids = [i.id async for i in c.iter_images(page_size=2)]
            assert img.id in ids and len(ids) == len(set(ids))

            await c.delete(img.id)
            with pytest.raises(hotpath.NotFoundError) as info:
                await c.get(img.id)
            assert info.value.status == 404

    run(scenario())


def test_unreachable_server_is_unavailable():
    async def scenario():
        async with hotpath.AsyncClient("http://127.0.0.1:9", "k", timeout=2) as c:
            with pytest.raises(hotpath.UnavailableError):
                await c.get("x")
            assert not await c.health()

    run(scenario())


def test_busy_server_is_retried_after_retry_after(tmp_path):
    # One worker and no queue: concurrent uploads beyond the first answer 429
    # with Retry-After; the client waits and sends them again.
    s = Server(tmp_path, "--workers", "1", "--queue-size", "0")
    try:
        big = make_jpeg(3000, 2000)

        async def many(retries: int):
            async with hotpath.AsyncClient(s.url, s.admin_key, retries=retries, max_retry_wait=2) as c:
                return await asyncio.gather(*(c.upload(big) for _ in range(6)), return_exceptions=True)

        without = run(many(0))
        busy = [r for r in without if isinstance(r, hotpath.BusyError)]
        assert busy, "the server never answered 429: the retry test would prove nothing"
        assert all(b.retry_after is not None for b in busy)
        with_retries = run(many(30))
        assert all(isinstance(r, hotpath.Image) for r in with_retries), with_retries
    finally:
        s.stop()


def test_streaming_upload_of_100mb_keeps_client_memory_bounded(server, tmp_path):
    # A 100 MB body (not an image: the server refuses it after reading it) sent
    # from a file: the client process's peak RSS must not grow by the body's size.
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(100 << 20)
    script = textwrap.dedent(f"""
        import asyncio, resource, sys
        sys.path.insert(0, {str(os.path.dirname(hotpath.__path__[0]))!r})
        import hotpath
        async def main():
            async with hotpath.AsyncClient({server.url!r}, {server.admin_key!r}, retries=0) as c:
                before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                try:
                    await c.upload({str(path)!r})
                except hotpath.HotpathError as e:
                    print("refused", e.code)
                after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                print("grew_kb", after - before)
        asyncio.run(main())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    grew = int(out.stdout.split("grew_kb")[1].split()[0])
    assert "refused" in out.stdout
    assert grew < 30 * 1024, f"client RSS grew by {grew} KiB for a 100 MB streamed upload"
