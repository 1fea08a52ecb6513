"""Loading libhotpath.so (the Go engines behind a C ABI) with ctypes.

The library is found, in order, at ``$HOTPATH_LIB``, next to this file (an
installed package), or in the source tree's ``build/`` directory (after
``make python``). It is loaded lazily, on the first call that needs it, so
that ``import hotpath`` before ``os.fork()`` is safe.

Fork safety: the Go runtime starts threads when the library loads, and
threads do not survive ``fork()``. A child forked *after* its parent loaded
the library must not call it (it would hang); hotpath detects this and raises
:class:`~hotpath.errors.ForkError`. Use the library only in the children (do
not call it in the parent before forking), or start workers with the
``spawn`` (or ``forkserver``) start method, which run a fresh interpreter.

The GIL: ctypes.CDLL releases the GIL for the duration of every foreign call,
so Go work in one Python thread runs in parallel with other Python threads.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import POINTER, Structure, c_char, c_char_p, c_int, c_int32, c_int64, c_ubyte, c_void_p
from pathlib import Path
from typing import Optional

from .errors import ForkError, error_for

__all__ = ["lib", "check", "take_string", "take_bytes", "Error", "Image", "library_path", "version"]

LIBRARY_NAME = "libhotpath.so"


class Error(Structure):
    """C ``hotpath_error``: code and message, C-malloc'ed by Go, freed with hotpath_free."""

    _fields_ = [("code", c_void_p), ("message", c_void_p)]


class Image(Structure):
    """C ``hotpath_image``: encoded bytes (C-malloc'ed by Go) and their dimensions and format."""

    _fields_ = [
        ("data", c_void_p),
        ("len", c_int64),
        ("width", c_int32),
        ("height", c_int32),
        ("format", c_char * 8),
    ]


def library_path() -> Path:
    """Return the path of libhotpath.so that :func:`lib` would load.

    Raises:
        OSError: when no library is found (build it with ``make python``).
    """
    env = os.environ.get("HOTPATH_LIB")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    candidates = [here / LIBRARY_NAME, here.parent.parent / "build" / LIBRARY_NAME]
    for c in candidates:
        if c.is_file():
            return c
    raise OSError(
        f"{LIBRARY_NAME} not found (looked at {', '.join(str(c) for c in candidates)}); "
        "run 'make python' in the hotpath repository, or set HOTPATH_LIB"
    )


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_loaded_pid: Optional[int] = None


def _declare(cdll: ctypes.CDLL) -> None:
    err = POINTER(Error)
    i64 = POINTER(c_int64)
    cdll.hotpath_free.argtypes = [c_void_p]
    cdll.hotpath_free.restype = None
    cdll.hotpath_version.argtypes = []
    cdll.hotpath_version.restype = c_void_p
    cdll.hotpath_count_strings.argtypes = [c_void_p, c_void_p, c_int64, c_int, i64, err]
    cdll.hotpath_count_strings.restype = c_int
    cdll.hotpath_count_packed.argtypes = [c_char_p, c_int64, c_void_p, c_int64, c_int, i64, err]
    cdll.hotpath_count_packed.restype = c_int
    cdll.hotpath_count_delimited.argtypes = [c_void_p, c_int64, c_ubyte, c_int, c_int64, i64, err]
    cdll.hotpath_count_delimited.restype = c_int
    cdll.hotpath_count_file.argtypes = [c_char_p, c_char_p, POINTER(c_void_p), err]
    cdll.hotpath_count_file.restype = c_int
    cdll.hotpath_thumbnail.argtypes = [c_char_p, c_int64, c_char_p, POINTER(Image), err]
    cdll.hotpath_thumbnail.restype = c_int


def lib() -> ctypes.CDLL:
    """Return the loaded library, loading it on first use.

    Raises:
        ForkError: in a child forked after the parent loaded the library.
        OSError: when the library cannot be found or loaded.
    """
    global _lib, _loaded_pid
    cdll = _lib
    if cdll is not None:
        if _loaded_pid != os.getpid():
            raise ForkError(
                "libhotpath was loaded before this process was forked; the Go runtime does not "
                "survive fork(): load hotpath only in the child, or use the 'spawn' start method"
            )
        return cdll
    with _lock:
        if _lib is None:
            cdll = ctypes.CDLL(str(library_path()))
            _declare(cdll)
            _loaded_pid = os.getpid()
            _lib = cdll
    return lib()


def take_string(p: Optional[int]) -> str:
    """Decode the C-malloc'ed NUL-terminated UTF-8 string at p and release it."""
    if not p:
        return ""
    try:
        return ctypes.string_at(p).decode("utf-8", "replace")
    finally:
        _lib.hotpath_free(p)  # type: ignore[union-attr]


def take_bytes(p: Optional[int], n: int) -> bytes:
    """Copy n bytes of C-malloc'ed memory at p into a bytes object and release it."""
    if not p:
        return b""
    try:
        return ctypes.string_at(p, n)
    finally:
        _lib.hotpath_free(p)  # type: ignore[union-attr]


def check(rc: int, err: Error) -> None:
    """Raise the exception for a failed call (rc != 0), releasing the C error fields."""
    if rc == 0:
        return
    code = take_string(err.code) or "internal"
    message = take_string(err.message) or "unknown error"
    err.code = err.message = None
    raise error_for(code, message)


def version() -> str:
    """Return the version of the loaded libhotpath."""
    return take_string(lib().hotpath_version())


