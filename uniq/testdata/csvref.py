"""Reference for the keyed counts of the uniq package, with CPython's csv module.

Usage: python3 csvref.py FILE OPTIONS_JSON; prints a JSON object:
  distinct  distinct keys (-k), or distinct (group, value) pairs (--by)
  groups    {group: [distinct values, rows]} with --by
  firsts    the first record of each distinct key, in input order (dedup)
  values    the distinct keys in order of first occurrence, each a list of fields
OPTIONS_JSON: {"keys": [...], "by": [...], "trim": bool, "delimiter": ","}; with
no keys the key is the whole record. Blank lines are not records.
"""
import csv
import json
import sys

path, opts = sys.argv[1], json.loads(sys.argv[2])
delim = opts.get("delimiter", ",")
trim = opts.get("trim", False)
with open(path, newline="", encoding="utf-8") as f:
    rows = [r for r in csv.reader(f, delimiter=delim, strict=True) if r]
header, body = rows[0], rows[1:]


def index(name):
    return header.index(name) if name in header else int(name) - 1


def val(v):
    return v.strip() if trim else v


keys = [index(c) for c in opts.get("keys") or []]
by = [index(c) for c in opts.get("by") or []]
seen, firsts, values, groups = set(), [], [], {}
for r in body:
    key = tuple(val(r[i]) for i in keys) if keys else tuple(val(v) for v in r)
    g = tuple(val(r[i]) for i in by)
    pair = (g, key)
    if by:
        gs = groups.setdefault(",".join(g), [set(), 0])
        gs[0].add(key)
        gs[1] += 1
    if pair not in seen:
        seen.add(pair)
        firsts.append(r)
        values.append(list(key))
json.dump({"distinct": len(seen), "groups": {g: [len(s), n] for g, (s, n) in groups.items()},
           "firsts": firsts, "values": values}, sys.stdout)
