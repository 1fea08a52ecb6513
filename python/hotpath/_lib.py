"""Loading libhotpath.so (the Go engines behind a C ABI) with ctypes.

The library is found, in order, at ``$HOTPATH_LIB``, in ``native/`` next to
this file (an installed package or wheel), or in the source tree's ``build/``
directory (after ``make python``). It is loaded lazily, on the first call that needs it, so
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
from typing import Callable, Optional, TypeVar

T = TypeVar("T")

from .errors import ForkError, error_for

__all__ = ["lib", "check", "take_string", "take_bytes", "Error", "Image", "library_path", "version", "CancelToken", "cancellable"]

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

    In order: ``$HOTPATH_LIB``; the library an installed package (a wheel)
    carries in ``hotpath/native/``; the source tree's ``build/`` (after
    ``make python``). Builds never write into the source package, so a stale
    copy there cannot shadow a fresh ``make python``.

    Raises:
        OSError: when no library is found (build it with ``make python``).
    """
    env = os.environ.get("HOTPATH_LIB")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    candidates = [here / "native" / LIBRARY_NAME, here.parent.parent / "build" / LIBRARY_NAME]
    for c in candidates:
        if c.is_file():
            return c
    raise OSError(
        f"{LIBRARY_NAME} not found (looked at {', '.join(str(c) for c in candidates)}); "
        "run 'make python' in the hotpath repository, or set HOTPATH_LIB"
    )


def _load(path: Path) -> ctypes.CDLL:
    """Load the library at path, naming the package to install when a C library it needs is missing."""
    try:
        return ctypes.CDLL(str(path))
    except OSError as e:
        if "libvips" in str(e):
            raise OSError(
                f"hotpath's native library needs libvips, which is not installed ({e}); "
                "install it: Debian/Ubuntu 'apt-get install libvips42', Fedora 'dnf install vips', macOS 'brew install vips'"
            ) from e
        raise


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
    cdll.hotpath_count_pyobjects.argtypes = [c_void_p, c_int64, c_void_p, c_int, i64, err]
    cdll.hotpath_count_pyobjects.restype = c_int
    cdll.hotpath_count_file.argtypes = [c_char_p, c_char_p, c_int64, POINTER(c_void_p), err]
    cdll.hotpath_count_file.restype = c_int
    cdll.hotpath_thumbnail.argtypes = [c_char_p, c_int64, c_char_p, c_int64, POINTER(Image), err]
    cdll.hotpath_thumbnail.restype = c_int
    for name in ("hotpath_encrypt", "hotpath_decrypt"):
        getattr(cdll, name).argtypes = [c_char_p, c_int64, c_char_p, c_int64, c_int64, POINTER(c_void_p), i64, err]
        getattr(cdll, name).restype = c_int
    for name in ("hotpath_encrypt_file", "hotpath_decrypt_file"):
        getattr(cdll, name).argtypes = [c_char_p, c_char_p, c_char_p, c_int64, c_int64, err]
        getattr(cdll, name).restype = c_int
    cdll.hotpath_cancel_token_new.argtypes = []
    cdll.hotpath_cancel_token_new.restype = c_int64
    cdll.hotpath_cancel.argtypes = [c_int64]
    cdll.hotpath_cancel.restype = None
    cdll.hotpath_cancel_token_free.argtypes = [c_int64]
    cdll.hotpath_cancel_token_free.restype = None


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
            cdll = _load(library_path())
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


class CancelToken:
    """Cancels the in-process calls it is passed to (``cancel=token``), from any thread.

    A cancelled call stops between chunks of its work (a count within
    milliseconds; an image after libvips' current step) and raises
    :class:`~hotpath.CancelledError`. A token stays cancelled: calls started
    with it afterwards fail at once. Tokens are cheap; use one per request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._id = 0
        self._cancelled = False
        self._lib: Optional[ctypes.CDLL] = None

    def _token(self) -> int:
        """Return the Go side's token for this one, made on first use."""
        with self._lock:
            if not self._id:
                self._lib = lib()
                self._id = self._lib.hotpath_cancel_token_new()
                if self._cancelled:
                    self._lib.hotpath_cancel(self._id)
            return self._id

    def cancel(self) -> None:
        """Cancel the calls running with this token and those started with it later."""
        with self._lock:
            self._cancelled = True
            if self._id and self._lib is not None:
                self._lib.hotpath_cancel(self._id)

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def __del__(self) -> None:
        if self._id and self._lib is not None and _loaded_pid == os.getpid():
            try:
                self._lib.hotpath_cancel_token_free(self._id)
            except Exception:  # interpreter shutdown
                pass


def cancellable(fn: "Callable[[int], T]", cancel: Optional[CancelToken]) -> "T":
    """Run fn(token) — a Go call taking a cancel token — so that it can be stopped.

    In the main thread, Ctrl-C (KeyboardInterrupt) must stop a long count
    within a second, but Python delivers signals only between bytecodes, never
    while a foreign call runs. So there fn runs in a helper thread while the
    main thread waits in short slices; a KeyboardInterrupt cancels the token,
    waits for Go to return (milliseconds), and is raised again. Elsewhere fn
    runs in the calling thread.
    """
    token = cancel or CancelToken()
    if threading.current_thread() is not threading.main_thread():
        return fn(token._token())
    tid = token._token()
    box: "list" = []

    def run() -> None:
        try:
            box.append((True, fn(tid)))
        except BaseException as e:  # handed to the caller's thread
            box.append((False, e))

    t = threading.Thread(target=run, name="hotpath-call", daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.05)
    except KeyboardInterrupt:
        token.cancel()
        t.join()
        raise
    ok, value = box[0]
    if not ok:
        raise value
    return value


def version() -> str:
    """Return the version of the loaded libhotpath."""
    return take_string(lib().hotpath_version())


