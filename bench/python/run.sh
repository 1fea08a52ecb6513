#!/usr/bin/env bash
# Python bridge benchmark: the Python baselines against hotpath from Python.
# Needs build/libhotpath.so (make python) and Debian's python3-pil.
# ROWS (default 5000000) sets the CSV size; PHOTOS (default 4) the 12 MP JPEGs.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-build/bench-python}
ROWS=${ROWS:-5000000}
PHOTOS=${PHOTOS:-4}
mkdir -p "$WORK"
[ -f build/libhotpath.so ] || make python
go build -o build/hotpath ./cmd/hotpath
[ -f "$WORK/data-$ROWS.csv" ] || build/hotpath gen csv --rows "$ROWS" \
    --distinct-records $((ROWS * 4 / 5)) --distinct-users $((ROWS / 20)) "$WORK/data-$ROWS.csv" 2>/dev/null
build/hotpath gen photos --count "$PHOTOS" "$WORK/photos"
cat "$WORK/data-$ROWS.csv" > /dev/null   # warm cache
# One `hotpath serve` for the client rows (uploads from Client vs AsyncClient).
rm -rf "$WORK/serve" && mkdir -p "$WORK/serve"
build/hotpath serve --addr 127.0.0.1:0 --data "$WORK/serve/data" 2>"$WORK/serve/log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q '"listening"' "$WORK/serve/log" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -m1 '"listening"' "$WORK/serve/log" | sed 's/.*"url":"\([^"]*\)".*/\1/')
KEY=$(build/hotpath keys create --tenant default --scope write --data "$WORK/serve/data" | awk 'END {print $NF}')
/usr/bin/python3 bench/python/bench.py --csv "$WORK/data-$ROWS.csv" --photos "$WORK/photos" --rounds "${ROUNDS:-4}" --server "$URL" "$KEY"
