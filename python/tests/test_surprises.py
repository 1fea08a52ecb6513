"""Small surprises a new user met, each fixed: sizes, error classes, help(), where the library comes from."""

from __future__ import annotations

import pydoc

import pytest

import hotpath


@pytest.mark.parametrize("width", [0, -1])
def test_thumbnail_needs_a_positive_width(jpeg, width):
    with pytest.raises(hotpath.InvalidError) as info:
        hotpath.thumbnail(jpeg, width)
    assert isinstance(info.value, ValueError)


def test_negative_sizes_are_invalid(jpeg):
    with pytest.raises(ValueError):
        hotpath.transform(jpeg, 100, -5)
    with pytest.raises(ValueError):
        hotpath.transform(jpeg, 0, 0)
    assert hotpath.transform(jpeg, 0, 100).height == 100


def test_missing_column_is_not_a_missing_file(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(hotpath.ColumnNotFoundError) as info:
        hotpath.count_unique_file(p, "nope")
    assert not isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, LookupError) and "nope" in info.value.message
    with pytest.raises(hotpath.NotFoundError) as missing:
        hotpath.count_unique_file(tmp_path / "absent.csv", "a")
    assert isinstance(missing.value, FileNotFoundError)


def test_help_lists_only_importable_modules():
    text = pydoc.render_doc(hotpath, renderer=pydoc.plaintext)
    contents = text.split("PACKAGE CONTENTS")[1].split("\n\n")[0].split()
    assert "libhotpath" not in contents and "native" not in contents
    for name in contents:
        __import__(f"hotpath.{name}")
