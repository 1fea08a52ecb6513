"""How a Python list of str reaches Go: the three paths of the C ABI, end to end, on the same 4 M items.

    joined:  "\\n".join(items).encode() -> hotpath_count_delimited   (what count_unique uses)
    packed:  b"".join(encoded) + array('q', lengths) -> hotpath_count_packed
    char**:  (c_char_p * n)(*encoded) + lengths -> hotpath_count_strings

Usage: /usr/bin/python3 bench/python/marshal.py   (after make python)
"""

from __future__ import annotations

import ctypes
import sys
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from hotpath import _lib  # noqa: E402

ITEMS = [f"user-{i * 7919 % 1_000_003:07d}" for i in range(4_000_000)]


def call(fn, *args) -> int:
    count = ctypes.c_int64()
    err = _lib.Error()
    _lib.check(fn(*args, ctypes.byref(count), ctypes.byref(err)), err)
    return count.value


def joined(items) -> int:
    buf = "\n".join(items).encode("utf-8", "surrogatepass")
    return call(_lib.lib().hotpath_count_delimited, buf, len(buf), 10, 0, len(items))


def packed(items) -> int:
    enc = [s.encode("utf-8", "surrogatepass") for s in items]
    buf = b"".join(enc)
    lengths = array("q", map(len, enc))
    return call(_lib.lib().hotpath_count_packed, buf, len(buf), lengths.buffer_info()[0], len(enc), 0)


def pointers(items) -> int:
    enc = [s.encode("utf-8", "surrogatepass") for s in items]
    ptrs = (ctypes.c_char_p * len(enc))(*enc)
    lengths = array("q", map(len, enc))
    return call(_lib.lib().hotpath_count_strings, ptrs, lengths.buffer_info()[0], len(enc), 0)


def main() -> None:
    want = len(set(ITEMS))
    results = {}
    for name, fn in (("joined", joined), ("packed", packed), ("char**", pointers)):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            got = fn(ITEMS)
            best = min(best, time.perf_counter() - t)
        assert got == want, (name, got, want)
        results[name] = best
    print("| path (4 M str items, 1 M distinct) | seconds | vs joined |\n|---|---:|---:|")
    for name, s in results.items():
        print(f"| {name} | {s:.3f} | {s / results['joined']:.1f}× |")


if __name__ == "__main__":
    main()
