"""Memory ownership across the C boundary: Go keeps nothing of ours, and everything Go returns is freed."""

from __future__ import annotations

import gc
import os

import pytest

import hotpath
from hotpath import _lib


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_inputs_can_be_dropped_and_reused_after_a_call(jpeg):
    # Go keeps no pointer to the caller's buffers: counts over data freed and
    # overwritten after earlier calls stay right.
    for round_ in range(20):
        items = [f"{round_}-{i % 1000}" for i in range(20_000)]
        assert hotpath.count_unique(items) == 1000
        del items
        gc.collect()
        junk = [bytes([round_ % 256]) * 1000 for _ in range(2000)]  # reuse the freed memory
        assert hotpath.count_unique(junk) == 1
    out = hotpath.thumbnail(bytearray(jpeg), 64)
    again = hotpath.thumbnail(jpeg, 64)
    assert out == again  # a result is a Python-owned copy, unchanged by later calls


def test_results_are_freed_no_growth(jpeg):
    # Every C-malloc'ed output (a 1.2 MB JPEG here) is released: 60 calls
    # would otherwise leak about 70 MB.
    for _ in range(10):
        hotpath.thumbnail(jpeg, 1200, format="jpeg", quality=100)
    gc.collect()
    before = rss_bytes()
    for _ in range(60):
        out = hotpath.thumbnail(jpeg, 1200, format="jpeg", quality=100)
    assert len(out) > 1_000_000
    gc.collect()
    grew = rss_bytes() - before
    assert grew < 30 << 20, f"RSS grew {grew >> 20} MB over 60 thumbnails"


def test_error_strings_are_freed():
    def fail():
        with pytest.raises(hotpath.UnsupportedError):
            hotpath.thumbnail(b"x" * 64, 10)

    for _ in range(1000):
        fail()
    gc.collect()
    before = rss_bytes()
    for _ in range(50_000):
        fail()
    gc.collect()
    grew = rss_bytes() - before
    assert grew < 8 << 20, f"RSS grew {grew >> 20} MB over 50k errors"


def test_version_is_returned_and_freed():
    v = hotpath.library_version()
    assert v and v[0].isdigit()


def test_c_contract_bad_arguments_are_errors_not_crashes():
    # Calling the C functions directly with inconsistent arguments: an
    # "invalid" error, never a crash.
    import ctypes
    from array import array

    lib = _lib.lib()
    count = ctypes.c_int64()
    err = _lib.Error()
    lengths = array("q", [2, 5])  # add up to 7, the buffer holds 3
    rc = lib.hotpath_count_packed(b"abc", 3, lengths.buffer_info()[0], 2, 0, ctypes.byref(count), ctypes.byref(err))
    with pytest.raises(hotpath.InvalidError):
        _lib.check(rc, err)
    rc = lib.hotpath_count_delimited(None, 5, 10, 0, -1, ctypes.byref(count), ctypes.byref(err))
    with pytest.raises(hotpath.InvalidError):
        _lib.check(rc, err)
    rc = lib.hotpath_count_strings(None, None, -1, 0, ctypes.byref(count), ctypes.byref(err))
    with pytest.raises(hotpath.InvalidError):
        _lib.check(rc, err)
    rc = lib.hotpath_count_file(b"/x", b"{\"no_such_option\": 1}", 0, ctypes.byref(ctypes.c_void_p()), ctypes.byref(err))
    with pytest.raises(hotpath.InvalidError) as info:
        _lib.check(rc, err)
    assert "no_such_option" in info.value.message


def test_char_pointer_array_entry_point():
    # hotpath_count_strings takes (char**, lengths); values may hold NUL.
    import ctypes
    from array import array

    items = [b"a\x00b", b"a", b"a\x00b", b""]
    arr = (ctypes.c_char_p * len(items))(*items)
    lengths = array("q", map(len, items))
    count = ctypes.c_int64()
    err = _lib.Error()
    rc = _lib.lib().hotpath_count_strings(arr, lengths.buffer_info()[0], len(items), 0, ctypes.byref(count), ctypes.byref(err))
    _lib.check(rc, err)
    assert count.value == 3
