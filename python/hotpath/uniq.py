"""Distinct counting with hotpath's Go engine: in-memory iterables and files.

``count_unique(items)`` gives the same answer as ``len(set(items))``; with
``strip=True`` the same as ``len({s.strip() for s in items})``.

How items reach Go (measured, see bench/python): the items are joined into
one buffer with a separator (``"\\n"``) by ``str.join`` — a single C loop —
handed to Go as UTF-8 without another copy (an ASCII str is its UTF-8
bytes: CPython's PyUnicode_AsUTF8AndSize returns its text as is). Go checks that
the buffer holds exactly as many values as there were items; if an item
contained the separator it answers "mismatch" and the buffer is joined again
with a byte that occurs nowhere in the data. Building a C array of pointers
(or an array of lengths) costs Python a conversion per item and measured
5-20 times slower than the join, so it is used only when every byte value
occurs in the data.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
from array import array
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _lib
from .errors import InvalidError

__all__ = ["count_unique", "count_unique_file", "Result", "ColumnResult", "TopValue", "parse_size"]

StrOrBytes = Union[str, bytes]

# Bytes Go's trim (Python's str.strip() on UTF-8) removes that bytes.strip() keeps.
_STR_ONLY_SPACE = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")

# Separators tried for the joined buffer, most likely absent first.
_SEPARATORS = [10, 0, 31, 30, 29, 28, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]


def _count_joined(buf: Union[bytes, str], sep: int, n: int, strip: bool) -> int:
    """Count the distinct values of buf, joined with sep; -1 when buf holds not n values.

    A str is handed over as its UTF-8 bytes (lone surrogates as "surrogatepass" writes them).
    """
    lib = _lib.lib()
    data, size = _utf8(buf) if isinstance(buf, str) else (buf, len(buf))
    count = ctypes.c_int64()
    err = _lib.Error()
    rc = lib.hotpath_count_delimited(data, size, sep, int(strip), n, ctypes.byref(count), ctypes.byref(err))
    _lib.check(rc, err)
    return count.value


if hasattr(ctypes, "pythonapi"):
    _as_utf8 = ctypes.pythonapi.PyUnicode_AsUTF8AndSize
    _as_utf8.argtypes = [ctypes.py_object, ctypes.POINTER(ctypes.c_ssize_t)]
    _as_utf8.restype = ctypes.c_void_p
else:  # not CPython
    _as_utf8 = None


def _utf8(s: str) -> "tuple[Union[int, bytes], int]":
    """Return the address (or a bytes copy) and the length of s's UTF-8 bytes.

    CPython's PyUnicode_AsUTF8AndSize returns the text itself for an ASCII str
    (no copy) and otherwise a UTF-8 copy it keeps with s, so the address is
    valid while s lives; the caller keeps s alive during the Go call. A str
    holding lone surrogates, which strict UTF-8 refuses, is encoded with
    "surrogatepass".
    """
    if _as_utf8 is not None:
        size = ctypes.c_ssize_t()
        try:
            return _as_utf8(s, ctypes.byref(size)), size.value
        except UnicodeEncodeError:
            pass
    b = s.encode("utf-8", "surrogatepass")
    return b, len(b)


def _count_packed(encoded: Sequence[bytes], strip: bool) -> int:
    """Count distinct values given as bytes, packed back to back with a lengths array (any byte allowed)."""
    lib = _lib.lib()
    buf = b"".join(encoded)
    lengths = array("q", map(len, encoded))
    addr, n = lengths.buffer_info()
    count = ctypes.c_int64()
    err = _lib.Error()
    rc = lib.hotpath_count_packed(buf, len(buf), addr, n, int(strip), ctypes.byref(count), ctypes.byref(err))
    _lib.check(rc, err)
    return count.value


def _count_str(items: List[str], strip: bool) -> int:
    n = len(items)
    # With strip, Go trims exactly what str.strip() removes (uniq's pyStrip).
    joined = "\n".join(items)
    got = _count_joined(joined, 10, n, strip)
    if got >= 0:
        return got
    # An item holds "\n": join again with a byte that occurs nowhere. UTF-8
    # never encodes a character below 0x80 inside a multi-byte sequence, so an
    # ASCII character absent from the text is a byte absent from every item.
    for sep in _SEPARATORS[1:]:
        if chr(sep) not in joined:
            return _count_joined(chr(sep).join(items), sep, n, strip)
    return _count_packed([s.encode("utf-8", "surrogatepass") for s in items], strip)


def _count_bytes(items: List[bytes], strip: bool) -> int:
    n = len(items)
    buf = b"\n".join(items)
    if strip and (not buf.isascii() or any(c in buf for c in _STR_ONLY_SPACE)):
        # bytes.strip() removes " \t\n\r\v\f" only; Go's trim, made for
        # str, also removes \x1c-\x1f and UTF-8 encoded Unicode spaces, so
        # such data is stripped here.
        items = [s.strip() for s in items]
        buf = b"\n".join(items)
        strip = False
    got = _count_joined(buf, 10, n, strip)
    if got >= 0:
        return got
    for sep in range(256):
        if sep not in buf:
            return _count_joined(bytes([sep]).join(items), sep, n, strip)
    return _count_packed(items, strip)


def count_unique(items: Iterable[StrOrBytes], *, strip: bool = False) -> int:
    """Return the number of distinct items, as ``len(set(items))`` does, counted in Go.

    Args:
        items: any iterable of ``str`` or ``bytes`` (a list is used as is;
            other iterables are read into a list first). ``str`` and ``bytes``
            may be mixed; as in a Python set, ``"a"`` and ``b"a"`` differ.
        strip: remove surrounding whitespace from each item first, as
            ``str.strip()`` / ``bytes.strip()`` do (the seed's ``.trim()``).

    Returns:
        The number of distinct items.

    Raises:
        TypeError: an item is neither ``str`` nor ``bytes``, or ``items`` is a
            single ``str`` or ``bytes``.
        ForkError: called in a process forked after its parent used hotpath.

    The GIL is released while Go counts; the joining before it is Python work.
    """
    if isinstance(items, (str, bytes, bytearray)):
        raise TypeError("count_unique wants an iterable of str or bytes, not a single " + type(items).__name__)
    if not isinstance(items, list):
        items = list(items)
    if not items:
        return 0
    if len(items) == 1:
        if not isinstance(items[0], (str, bytes)):
            raise TypeError(f"count_unique items must be str or bytes, got {type(items[0]).__name__}")
        return 1
    first = items[0]
    try:
        if isinstance(first, str):
            return _count_str(items, strip)
        if isinstance(first, bytes):
            return _count_bytes(items, strip)
    except TypeError:
        pass  # not all items of the first's type: split by type below
    strs: List[str] = []
    raw: List[bytes] = []
    for it in items:
        if isinstance(it, str):
            strs.append(it)
        elif isinstance(it, bytes):
            raw.append(it)
        else:
            raise TypeError(f"count_unique items must be str or bytes, got {type(it).__name__}")
    # A str never equals a bytes, so the two kinds are counted apart and added.
    return count_unique(strs, strip=strip) + count_unique(raw, strip=strip)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mi": 1024**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4,
          "ti": 1024**4, "tib": 1024**4}


def parse_size(size: Union[int, str]) -> int:
    """Return a byte count from an int or a string such as ``"512MB"``, ``"2GiB"`` or ``"1.5g"``.

    Raises:
        InvalidError: a malformed size or a negative number.
    """
    if isinstance(size, bool):
        raise InvalidError(f"bad size {size!r}")
    if isinstance(size, int):
        if size < 0:
            raise InvalidError(f"bad size {size!r}: negative")
        return size
    m = _SIZE.match(str(size))
    if not m or m.group(2).lower() not in _UNITS:
        raise InvalidError(f"bad size {size!r}: want a number of bytes with an optional unit (KB, MB, GB, KiB, MiB, GiB)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


@dataclass(frozen=True)
class TopValue:
    """One of the most frequent values of a column, with its number of occurrences."""

    value: str
    count: int


@dataclass(frozen=True)
class ColumnResult:
    """The distinct count of one column (or of lines, or of whole records)."""

    name: str
    distinct: int
    approx: bool = False
    top: List[TopValue] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    """What :func:`count_unique_file` found, as ``hotpath uniq --json`` prints it.

    ``count`` is the distinct count of the first (usually only) column;
    ``raw`` keeps the engine's whole JSON document.
    """

    columns: List[ColumnResult]
    rows: int
    bytes: int
    seconds: float
    skipped: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def count(self) -> int:
        """The distinct count of the first column."""
        return self.columns[0].distinct if self.columns else 0

    def __getitem__(self, name: str) -> ColumnResult:
        """Return the result of the column called name."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _result_from_json(doc: Dict[str, Any]) -> Result:
    cols = []
    for c in doc.get("columns") or []:
        top = [TopValue(t.get("value", ""), t.get("count", 0)) for t in c.get("top") or []]
        cols.append(ColumnResult(c.get("name", ""), c.get("distinct", 0), bool(c.get("approx", False)), top))
    return Result(cols, doc.get("rows", 0), doc.get("bytes", 0), float(doc.get("seconds", 0.0)), doc.get("skipped", 0), doc)


def count_unique_file(
    path: Union[str, "os.PathLike[str]"],
    columns: Union[None, str, int, Sequence[Union[str, int]]] = None,
    *,
    top: Optional[int] = None,
    approx: bool = False,
    memory: Union[None, int, str] = None,
    records: bool = False,
    no_header: bool = False,
    delimiter: Optional[str] = None,
    trim: bool = False,
    lenient: bool = False,
    precision: Optional[int] = None,
    temp_dir: Optional[str] = None,
    workers: Optional[int] = None,
    cancel: Optional[_lib.CancelToken] = None,
) -> Result:
    """Count the distinct values of a file with hotpath's engine, as ``hotpath uniq`` does.

    Args:
        path: a CSV or text file; ``.gz`` and ``.zst`` are read transparently.
        columns: None for distinct lines (each line stripped, as the seed's
            Python loop counts them); a column name or 1-based index, or a
            list of them, for distinct values of each column (RFC 4180).
        top: also return the ``top`` most frequent values with their counts.
        approx: HyperLogLog++ estimate in small fixed memory (≤ 1% error at
            the default precision).
        memory: exact counting stays inside this many bytes (int, or a string
            such as ``"512MB"``), spilling to disk beyond it.
        records: count distinct whole records instead of columns.
        no_header: the first row is data; columns are 1-based indexes only.
        delimiter: field separator, one character (default ``","``).
        trim: strip whitespace around values.
        lenient: skip malformed rows (reported in ``Result.skipped``) instead of failing.
        precision: HyperLogLog precision for ``approx``.
        temp_dir: where spill files go.
        workers: number of threads (default: all cores).
        cancel: a :class:`CancelToken`; ``cancel.cancel()`` from another
            thread stops the count within milliseconds. In the main thread,
            Ctrl-C stops it too (KeyboardInterrupt).

    Raises:
        NotFoundError: no such file (a FileNotFoundError).
        ColumnNotFoundError: a column the header does not name (a LookupError).
        InvalidError: malformed CSV (naming the line) or bad options (a ValueError).
        CancelledError: cancelled through ``cancel``.
    """
    if isinstance(columns, (str, int)):
        columns = [columns]
    opts: Dict[str, Any] = {}
    if columns:
        opts["columns"] = [str(c) for c in columns]
    if top:
        opts["top"] = int(top)
    if approx:
        opts["approx"] = True
    if memory is not None:
        opts["memory"] = parse_size(memory)
    if records:
        opts["records"] = True
    if no_header:
        opts["no_header"] = True
    if delimiter is not None:
        opts["delimiter"] = delimiter
    if trim:
        opts["trim"] = True
    if lenient:
        opts["lenient"] = True
    if precision is not None:
        opts["precision"] = int(precision)
    if temp_dir is not None:
        opts["temp_dir"] = os.fspath(temp_dir)
    if workers is not None:
        opts["workers"] = int(workers)
    lib = _lib.lib()
    cpath, copts = os.fsencode(path), json.dumps(opts).encode()

    def call(token: int) -> Result:
        out = ctypes.c_void_p()
        err = _lib.Error()
        rc = lib.hotpath_count_file(cpath, copts, token, ctypes.byref(out), ctypes.byref(err))
        _lib.check(rc, err)
        return _result_from_json(json.loads(_lib.take_string(out.value)))

    return _lib.cancellable(call, cancel)
