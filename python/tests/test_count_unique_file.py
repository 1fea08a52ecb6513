"""count_unique_file: hotpath uniq's engine from Python, against Python's own answers."""

from __future__ import annotations

import csv
import gzip
import subprocess
from pathlib import Path

import pytest

import hotpath

from support import hotpath_binary


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    """A CSV from `hotpath gen csv`: quoted commas, doubled quotes, newlines inside quotes."""
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    subprocess.run([str(hotpath_binary()), "gen", "csv", "--rows", "60000", "--distinct-records", "40000",
                    "--distinct-users", "5000", str(path)], check=True, capture_output=True, timeout=120)
    return path


def python_lines(path: Path) -> int:
    """The Python loop hotpath replaces: a set of stripped lines."""
    with open(path) as f:
        return len({line.strip() for line in f})


def python_column(path: Path, column: str) -> int:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        i = next(reader).index(column)
        return len({row[i] for row in reader})


def test_lines_match_the_seed_loop(data_csv):
    got = hotpath.count_unique_file(data_csv)
    assert got.count == python_lines(data_csv)
    assert got.bytes == data_csv.stat().st_size


def test_columns_by_name_and_index(data_csv):
    res = hotpath.count_unique_file(data_csv, ["user_id", "country", 1])
    assert [c.name for c in res.columns][:2] == ["user_id", "country"]
    assert res["user_id"].distinct == python_column(data_csv, "user_id") == 5000
    assert res["country"].distinct == python_column(data_csv, "country")
    assert res.columns[2].distinct == python_column(data_csv, "id")
    assert res.rows == 60000


def test_records_and_str_path(data_csv):
    assert hotpath.count_unique_file(str(data_csv), records=True).count == 40000


def test_top_values(data_csv):
    res = hotpath.count_unique_file(data_csv, "country", top=3)
    top = res["country"].top
    assert len(top) == 3 and top[0].count >= top[1].count >= top[2].count
    with open(data_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert top[0].count == max(sum(1 for r in rows if r["country"] == v) for v in {r["country"] for r in rows})


def test_approx_is_close(data_csv):
    res = hotpath.count_unique_file(data_csv, "id", approx=True)
    assert res.columns[0].approx
    # A HyperLogLog estimate: the default precision (14) has a standard error
    # of 0.81%; 2.5% is three standard errors.
    assert abs(res.count - 40000) <= 1000


@pytest.mark.parametrize("memory", [64 << 10, "64KiB", "0.0625MB"])
def test_tiny_memory_spills_and_stays_exact(data_csv, tmp_path, memory):
    res = hotpath.count_unique_file(data_csv, "id", memory=memory, temp_dir=str(tmp_path))
    assert res.count == 40000


def test_options(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("1; a \n2;a\n3;b\n1;c\n", encoding="utf-8")
    assert hotpath.count_unique_file(p, "1", no_header=True, delimiter=";").count == 3
    assert hotpath.count_unique_file(p, "2", no_header=True, delimiter=";").count == 4
    assert hotpath.count_unique_file(p, "2", no_header=True, delimiter=";", trim=True).count == 3
    assert hotpath.count_unique_file(p, "2", no_header=True, delimiter=";", workers=1).count == 4


def test_gzip_and_non_ascii(tmp_path):
    p = tmp_path / "données é.csv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        f.write("name\nJosé\nJose\nJosé\n日本\n")
    assert hotpath.count_unique_file(p, "name").count == 3


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        hotpath.count_unique_file(tmp_path / "nope.csv")
    assert isinstance(info.value, hotpath.NotFoundError) and info.value.code == "not_found"


def test_unknown_column(data_csv):
    with pytest.raises(hotpath.HotpathError) as info:
        hotpath.count_unique_file(data_csv, "no_such_column")
    assert "no_such_column" in info.value.message


def test_malformed_csv_names_the_line_and_lenient_skips(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text('a,b\n1,2\n3\n4,5\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        hotpath.count_unique_file(p, "b")
    assert "3" in info.value.message  # the line
    res = hotpath.count_unique_file(p, "b", lenient=True)
    assert res.count == 2 and res.skipped == 1


@pytest.mark.parametrize("bad", [{"memory": "lots"}, {"memory": -1}, {"delimiter": ";;"}, {"top": -1}])
def test_bad_options_are_invalid(data_csv, bad):
    with pytest.raises(hotpath.InvalidError):
        hotpath.count_unique_file(data_csv, "id", **bad)


def test_value_options_against_python(tmp_path):
    """ignore_case, trim, skip_empty and nulls against Python's csv module and str.casefold's simple cousin."""
    p = tmp_path / "v.csv"
    p.write_text("name,city\nAnn,Paris\n ann ,PARIS\n,Köln\nNA,KÖLN\nn/a,x\nÉmile,y\némile,y\n", encoding="utf-8")
    with open(p, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    names = [r[0].strip().lower() for r in rows]  # lower() is simple folding on these values
    kept = [n for n in names if n and n not in ("na", "n/a")]
    res = hotpath.count_unique_file(p, ["name", "city"], trim=True, ignore_case=True, skip_empty=True, nulls=["NA", "n/a"])
    assert res["name"].distinct == len(set(kept)) == 2
    assert res["name"].nulls == len(names) - len(kept) == 3
    assert res["city"].distinct == len({r[1].strip().lower() for r in rows}) == 4
    assert res["city"].nulls == 0


def test_quote_none_and_lone_cr(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_bytes(b'a\tb\r1\t"x\r2\tx"\r3\t"x\r')
    with open(p, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    res = hotpath.count_unique_file(p, "b", delimiter="\t")  # quote none by default for tabs
    assert res.count == len({r[1] for r in rows}) == 2
    with pytest.raises(hotpath.InvalidError):
        hotpath.count_unique_file(p, "b", quote="ab")


def test_composite_key(data_csv):
    with open(data_csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        u, c = header.index("user_id"), header.index("country")
        want = len({(row[u], row[c]) for row in reader})
    assert hotpath.count_unique_file(data_csv, keys=["user_id", "country"]).count == want
    assert hotpath.count_unique_file(data_csv, keys="country,user_id", memory="1").count == want


def test_per_group(data_csv, tmp_path):
    with open(data_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = {}
    for r in rows:
        groups.setdefault(r["country"], set()).add(r["user_id"])
    res = hotpath.count_unique_file(data_csv, "user_id", by="country", memory=1, temp_dir=tmp_path)
    got = {g.group: g.distinct for g in res.columns[0].groups}
    assert got == {k: len(v) for k, v in groups.items()}
    assert res.columns[0].by == "country"
    first = res.columns[0].groups[0]
    assert first.distinct == max(len(v) for v in groups.values())
    assert first.rows == sum(1 for r in rows if r["country"] == first.group)
    assert abs(first.percent - 100 * first.rows / len(rows)) < 1e-9
    top = hotpath.count_unique_file(data_csv, "user_id", by="country", top=2)
    assert top.columns[0].groups == res.columns[0].groups[:2]
