"""count_unique: the same answer as len(set(items)) for every kind of input."""

from __future__ import annotations

import random

import pytest

import hotpath


def py_count(items, strip=False):
    return len({s.strip() for s in items}) if strip else len(set(items))


CASES = {
    "empty": [],
    "one": ["a"],
    "one empty": [""],
    "two empties": ["", ""],
    "empty and value": ["", "a", ""],
    "trailing empty": ["a", ""],
    "leading empty": ["", "a"],
    "duplicates": ["item1", "item2", "item1", "item3"] * 10,
    "whitespace variants": [" a", "a ", "a", "\ta\n", "a\r\n", "\u3000a\u00a0", "\x1ca\x1f"],
    "only whitespace": [" ", "\t", "", "\n", "\u2003"],
    "non-ascii": ["héllo", "hello", "héllo", "日本語", "日本語 ", "😀", "😀"],
    "combining forms differ": ["é", "e\u0301"],
    "newline inside": ["a\nb", "a", "b", "a\nb", "a\n"],
    "nul inside": ["a\x00b", "a", "b\x00", "a\x00b"],
    "lone surrogate": ["\ud800", "\udfff", "\ud800", "x"],
    "long value": ["x" * 2_000_000, "x" * 2_000_000, "y"],
    "case": ["A", "a"],
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("strip", [False, True])
def test_str_matches_set(name, strip):
    items = CASES[name]
    assert hotpath.count_unique(items, strip=strip) == py_count(items, strip)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("strip", [False, True])
def test_bytes_matches_set(name, strip):
    items = [s.encode("utf-8", "surrogatepass") for s in CASES[name]]
    assert hotpath.count_unique(items, strip=strip) == py_count(items, strip)


@pytest.mark.parametrize("strip", [False, True])
def test_bytes_every_byte_value(strip):
    # Every byte occurs, so no separator is free: the packed path must count.
    items = [bytes([i]) for i in range(256)] + [bytes([i, j]) for i in range(0, 256, 7) for j in range(256)]
    items += items[:100]
    assert hotpath.count_unique(items, strip=strip) == py_count(items, strip)


@pytest.mark.parametrize("strip", [False, True])
def test_str_every_ascii_char(strip):
    items = [chr(i) for i in range(128)] + ["x" + chr(i) for i in range(128)] + ["é", "é"]
    assert hotpath.count_unique(items, strip=strip) == py_count(items, strip)


def test_bytes_strip_is_bytes_strip():
    # bytes.strip() keeps \x1c and UTF-8 no-break spaces; str.strip() removes them.
    items = [b"a\x1c", b"a", b"\xc2\xa0a", b" a "]
    assert hotpath.count_unique(items, strip=True) == 3
    assert hotpath.count_unique([s.decode() for s in items], strip=True) == 1


def test_mixed_str_and_bytes_are_distinct():
    items = ["a", b"a", "a", b"b", " a"]
    assert hotpath.count_unique(items) == py_count(items) == 4
    assert hotpath.count_unique(items, strip=True) == py_count(items, strip=True) == 3


@pytest.mark.parametrize("items", [(x for x in ["a", "b", "a"]), ("a", "b", "a"), {"a": 1, "b": 2}, iter(["a"]), map(str, [1, 2, 1])])
def test_any_iterable(items):
    got = hotpath.count_unique(items)
    assert got == 2 or got == 1


@pytest.mark.parametrize("bad", [[1, 2], ["a", 1], [b"a", None], [None], [1.5, "x"]])
def test_non_string_items_raise_type_error(bad):
    with pytest.raises(TypeError):
        hotpath.count_unique(bad)


@pytest.mark.parametrize("bad", ["abc", b"abc"])
def test_single_string_is_refused(bad):
    with pytest.raises(TypeError):
        hotpath.count_unique(bad)


def test_random_against_set():
    rng = random.Random(7)
    alphabet = "ab \t\n\x00é日\u3000\x1c"
    for _ in range(200):
        items = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(4))) for _ in range(rng.randrange(1, 30))]
        for strip in (False, True):
            assert hotpath.count_unique(items, strip=strip) == py_count(items, strip), (items, strip)
            raw = [s.encode() for s in items]
            assert hotpath.count_unique(raw, strip=strip) == py_count(raw, strip), (raw, strip)


def test_seed_dataset_four_million():
    items = ["item1", "item2", "item1", "item3"] * 1_000_000
    assert hotpath.count_unique(items) == 3
    assert hotpath.count_unique(items, strip=True) == 3


def test_millions_distinct():
    # gcd(7919, 3000017) == 1, so i -> i*7919 mod 3000017 is one-to-one: the
    # first 2 M values are distinct, and the 500 k repeated ones add none.
    base = [f"user-{i * 7919 % 3_000_017:08d}" for i in range(2_000_000)]
    items = base + [f" {s}\t" for s in base[:500_000]]
    assert hotpath.count_unique(items) == 2_500_000
    assert hotpath.count_unique(items, strip=True) == 2_000_000
    assert hotpath.count_unique([s.encode() for s in items], strip=True) == 2_000_000


def test_millions_non_ascii_bytes():
    items = [f"ключ-{i % 1_234_567}-é".encode() for i in range(2_000_000)]
    assert hotpath.count_unique(items) == 1_234_567


def test_objects_read_in_place_on_this_interpreter():
    # Debian's CPython: Go reads the objects where they are (the probe passes),
    # so the cases above exercise that path; other interpreters join instead.
    assert hotpath.uniq._probe_layout() is not None


def test_millions_of_every_str_kind_read_in_place():
    kinds = ["a{}", "é{}", "\u0100{}", "\U0001f600{}", "\ud800{}", " x{} "]
    items = [kinds[i % len(kinds)].format(i % 300_001) for i in range(1_200_000)]
    assert hotpath.count_unique(items) == len(set(items))
    assert hotpath.count_unique(items, strip=True) == len({s.strip() for s in items})
    mixed = items[:200_000] + [s.encode("utf-8", "surrogatepass") for s in items[:200_000]]
    assert hotpath.count_unique(mixed) == len(set(mixed))


class Tagged(str):
    pass


def test_str_subclasses_take_the_joined_path():
    items = [Tagged("a"), "a", Tagged("b")] * 1000
    assert hotpath.count_unique(items) == 2
