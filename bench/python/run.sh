#!/usr/bin/env bash
# Python bridge benchmark: the seed's Python against hotpath from Python.
# Needs build/libhotpath.so (make python) and Debian's python3-pil.
# ROWS (default 5000000) sets the CSV size; PHOTOS (default 4) the 12 MP JPEGs.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
WORK=${WORK:-build/bench-python}
ROWS=${ROWS:-5000000}
PHOTOS=${PHOTOS:-4}
mkdir -p "$WORK"
[ -f build/libhotpath.so ] || make python
[ -f "$WORK/data-$ROWS.csv" ] || python3 "$SHARED/gen_csv.py" "$WORK/data-$ROWS.csv" --rows "$ROWS" \
    --distinct-records $((ROWS * 4 / 5)) --distinct-users $((ROWS / 20)) 2>/dev/null
[ "$(ls "$WORK"/photos/*.jpg 2>/dev/null | wc -l)" -ge "$PHOTOS" ] || /usr/bin/python3 "$SHARED/make_photos.py" "$WORK/photos" "$PHOTOS"
cat "$WORK/data-$ROWS.csv" > /dev/null   # warm cache
/usr/bin/python3 bench/python/bench.py --csv "$WORK/data-$ROWS.csv" --photos "$WORK/photos" --rounds "${ROUNDS:-4}"
