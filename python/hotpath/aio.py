"""The in-process engines from asyncio code: ``await hotpath.acount_unique_file(...)``.

A Go call blocks the thread that makes it (the GIL is released, but the
calling thread waits), so calling :func:`hotpath.count_unique_file` inside an
``async def`` FastAPI handler would stop the event loop for the whole count.
These helpers run the same calls in a thread pool with one thread per core
(the engines use every core themselves; more threads would only queue), so
the loop keeps serving other requests. Cancelling the awaiting task (a client
that disconnects, a timeout) cancels the Go work too.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Optional, TypeVar

from ._lib import CancelToken
from .image import Rendition, thumbnail, transform
from .uniq import Result, StrOrBytes, count_unique, count_unique_file

__all__ = ["run_in_engine", "athumbnail", "atransform", "acount_unique", "acount_unique_file"]

T = TypeVar("T")

_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()


def _engine_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="hotpath-engine")
        return _pool


async def run_in_engine(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, cancel=token, **kwargs)`` in the engine thread pool and await its result.

    fn is one of hotpath's in-process functions taking ``cancel=``; when the
    awaiting task is cancelled, the token is cancelled and the Go work stops.
    """
    token = kwargs.pop("cancel", None) or CancelToken()
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(_engine_pool(), functools.partial(fn, *args, cancel=token, **kwargs))
    try:
        return await fut
    except asyncio.CancelledError:
        token.cancel()
        raise


async def athumbnail(data: bytes, width: int, height: Optional[int] = None, **kwargs: Any) -> bytes:
    """:func:`hotpath.thumbnail`, awaited without blocking the event loop."""
    return await run_in_engine(thumbnail, data, width, height, **kwargs)


async def atransform(data: bytes, width: int = 0, height: Optional[int] = None, **kwargs: Any) -> Rendition:
    """:func:`hotpath.transform`, awaited without blocking the event loop."""
    return await run_in_engine(transform, data, width, height, **kwargs)


async def acount_unique(items: Iterable[StrOrBytes], *, strip: bool = False) -> int:
    """:func:`hotpath.count_unique`, awaited without blocking the event loop (the join of items runs in the pool too)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_engine_pool(), functools.partial(count_unique, items, strip=strip))


async def acount_unique_file(path: Any, columns: Any = None, **kwargs: Any) -> Result:
    """:func:`hotpath.count_unique_file`, awaited without blocking the event loop; cancelling the task stops the count."""
    return await run_in_engine(count_unique_file, path, columns, **kwargs)
