"""Reference for TestCSVSpectrum, with CPython's csv module.

Usage: python3 csvcols.py FILE...; prints one JSON list per file:
[distinct records, distinct values of column 1, of column 2, ...] (the
first record is the header; blank lines are not records).
"""
import csv
import json
import sys

out = []
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, strict=True) if r]
    body = rows[1:]
    out.append([len({tuple(r) for r in body})] + [len({r[i] for r in body}) for i in range(len(rows[0]))])
json.dump(out, sys.stdout)
