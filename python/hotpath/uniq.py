"""Distinct counting with hotpath's Go engine: in-memory iterables and files.

``count_unique(items)`` gives the same answer as ``len(set(items))``; with
``strip=True`` the same as ``len({s.strip() for s in items})``.

How items reach Go (measured, see bench/python): on CPython, Go reads the
objects where the interpreter keeps them. The list is copied into a tuple
(one C loop of pointer copies, which keeps every item alive and the array
fixed while Go reads it with the GIL released); Go skips repeats of the same
object (a list built as ``["a", "b"] * n`` holds two objects), then views
each ASCII str's and bytes object's data in place and converts other strs to
UTF-8. The object layout it reads is measured and checked when this module
first counts (:func:`_probe_layout`); an interpreter whose layout differs, or
an item that is not an exact str or bytes, takes the path below.

Otherwise the items are joined into
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

__all__ = ["count_unique", "count_unique_file", "Result", "ColumnResult", "TopValue", "GroupCount", "parse_size"]

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


class _PyLayout(ctypes.Structure):
    """C ``hotpath_pylayout``: where this interpreter keeps str and bytes data."""

    _fields_ = [
        ("str_type", ctypes.c_size_t),
        ("bytes_type", ctypes.c_size_t),
        ("ascii_data", ctypes.c_int64),
        ("compact_data", ctypes.c_int64),
        ("bytes_data", ctypes.c_int64),
    ]


# The offset of a tuple's item array: after ob_refcnt, ob_type and ob_size.
_TUPLE_ITEMS = 24
_layout: Optional[_PyLayout] = None
_layout_probed = False


def _probe_layout() -> Optional[_PyLayout]:
    """Measure where this interpreter keeps str, bytes and tuple data, and check it on known objects.

    Returns None (Go then never reads objects directly) on anything but a
    64-bit little-endian CPython whose objects read back as expected: a
    free-threaded or future interpreter with another layout fails a check
    here instead of giving a wrong count.
    """
    import platform
    import sys

    if platform.python_implementation() != "CPython" or sys.maxsize != 2**63 - 1 or sys.byteorder != "little":
        return None
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        return None
    layout = _PyLayout(id(str), id(bytes), sys.getsizeof("") - 1, sys.getsizeof("\xe9") - 2, sys.getsizeof(b"") - 1)

    def u64(addr: int) -> int:
        return ctypes.c_uint64.from_address(addr).value

    def state(s: str) -> "tuple[int, int, int]":
        st = ctypes.c_uint32.from_address(id(s) + 32).value
        return st >> 2 & 7, st >> 5 & 1, st >> 6 & 1

    ascii_s, latin, ucs2, ucs4, raw = "hotpath", "caf\xe9", "\u0100x", "\U0001f600y", b"by\x00tes"
    probe = (ascii_s, latin, ucs2, ucs4, raw)
    checks = [
        u64(id(ascii_s) + 8) == id(str) and u64(id(raw) + 8) == id(bytes),
        u64(id(ascii_s) + 16) == 7 and u64(id(raw) + 16) == 6,
        state(ascii_s) == (1, 1, 1) and state(latin) == (1, 1, 0),
        state(ucs2) == (2, 1, 0) and state(ucs4) == (4, 1, 0),
        ctypes.string_at(id(ascii_s) + layout.ascii_data, 7) == b"hotpath",
        ctypes.string_at(id(latin) + layout.compact_data, 4) == b"caf\xe9",
        ctypes.string_at(id(ucs2) + layout.compact_data, 4) == "\u0100x".encode("utf-16-le"),
        ctypes.string_at(id(ucs4) + layout.compact_data, 8) == "\U0001f600y".encode("utf-32-le"),
        ctypes.string_at(id(raw) + layout.bytes_data, 6) == raw,
        [u64(id(probe) + _TUPLE_ITEMS + 8 * i) for i in range(5)] == [id(o) for o in probe],
    ]
    return layout if all(checks) else None


def _count_objects(items: List[Any], strip: bool) -> int:
    """Count items with Go reading the objects in place; -1 when it cannot (see the module's doc)."""
    global _layout, _layout_probed
    if not _layout_probed:
        _layout = _probe_layout()
        _layout_probed = True
    if _layout is None:
        return -1
    lib = _lib.lib()
    snapshot = tuple(items)  # alive and unchanging while Go reads it, the GIL released
    count = ctypes.c_int64()
    err = _lib.Error()
    rc = lib.hotpath_count_pyobjects(id(snapshot) + _TUPLE_ITEMS, len(snapshot), ctypes.byref(_layout), int(strip),
                                     ctypes.byref(count), ctypes.byref(err))
    _lib.check(rc, err)
    return count.value


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
    got = _count_objects(items, strip)
    if got >= 0:
        return got
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
    percent: float = 0.0


@dataclass(frozen=True)
class GroupCount:
    """One group of a per-group count (``by=``): its value (a CSV record when the group has several
    columns), its distinct values, its rows and their percent of all rows."""

    group: str
    distinct: int
    rows: int
    percent: float


@dataclass(frozen=True)
class ColumnResult:
    """The distinct count of one column (or of lines, whole records, a composite key).

    With ``by=``, ``by`` names the group columns and ``groups`` holds the groups, most distinct
    first (``distinct`` is then the number of distinct group and value pairs).
    """

    name: str
    distinct: int
    approx: bool = False
    top: List[TopValue] = field(default_factory=list)
    nulls: int = 0
    by: str = ""
    groups: List[GroupCount] = field(default_factory=list)


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
        top = [TopValue(t.get("value", ""), t.get("count", 0), t.get("percent", 0.0)) for t in c.get("top") or []]
        groups = [GroupCount(g.get("group", ""), g.get("distinct", 0), g.get("rows", 0), g.get("percent", 0.0))
                  for g in c.get("groups") or []]
        cols.append(ColumnResult(c.get("name", ""), c.get("distinct", 0), bool(c.get("approx", False)), top,
                                 c.get("nulls", 0), c.get("by", ""), groups))
    return Result(cols, doc.get("rows", 0), doc.get("bytes", 0), float(doc.get("seconds", 0.0)), doc.get("skipped", 0), doc)


def count_unique_file(
    path: Union[str, "os.PathLike[str]"],
    columns: Union[None, str, int, Sequence[Union[str, int]]] = None,
    *,
    keys: Union[None, str, Sequence[Union[str, int]]] = None,
    by: Union[None, str, int, Sequence[Union[str, int]]] = None,
    top: Optional[int] = None,
    approx: bool = False,
    memory: Union[None, int, str] = None,
    records: bool = False,
    no_header: bool = False,
    delimiter: Optional[str] = None,
    trim: bool = False,
    ignore_case: bool = False,
    skip_empty: bool = False,
    nulls: Optional[Sequence[str]] = None,
    quote: Optional[str] = None,
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
        keys: count the distinct combinations of these columns as one composite key (a list, or a
            comma-separated string), instead of ``columns``.
        by: per group of these columns, count the distinct values of the one column in ``columns``
            (or of ``keys``) in each group: ``Result.columns[0].groups``, most distinct first.
        top: also return the ``top`` most frequent values with their counts (with ``by``: only
            the ``top`` first groups).
        approx: HyperLogLog++ estimate in small fixed memory (≤ 1% error at
            the default precision).
        memory: exact counting stays inside this many bytes (int, or a string
            such as ``"512MB"``), spilling to disk beyond it.
        records: count distinct whole records instead of columns.
        no_header: the first row is data; columns are 1-based indexes only.
        delimiter: field separator, one character (default ``","``).
        trim: strip whitespace around values.
        ignore_case: values that differ only in case count as one (Unicode
            simple case folding; bytes that are not UTF-8 compare as they are).
        skip_empty: empty values are not counted (by default an empty field
            is a value); they are reported in ``ColumnResult.nulls``.
        nulls: values not counted (compared after ``trim`` and
            ``ignore_case``), reported in ``ColumnResult.nulls``.
        quote: the quoting character, or ``"none"`` (quotes are data);
            default ``'"'``, none for a tab delimiter.
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
    for name, cols in (("keys", keys), ("by", by)):
        if isinstance(cols, str):
            cols = cols.split(",")
        elif isinstance(cols, int):
            cols = [cols]
        if cols:
            opts[name] = [str(c) for c in cols]
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
    if ignore_case:
        opts["ignore_case"] = True
    if skip_empty:
        opts["skip_empty"] = True
    if nulls:
        opts["nulls"] = [str(n) for n in ([nulls] if isinstance(nulls, str) else nulls)]
    if quote is not None:
        opts["quote"] = quote
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
