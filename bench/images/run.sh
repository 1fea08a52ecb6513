#!/usr/bin/env bash
# Upload benchmark: hotpath serve vs the FastAPI baseline
# ($HOTPATH_BASELINES/fastapi_images, 2 uvicorn workers), side by side in
# one run, on the same photo-like 12 MP JPEGs, the same presets (thumb 200
# JPEG q80, medium 800 JPEG q80, large 1600 WebP q80), both storing to local
# disk, at 1, 8 and 64 concurrent uploads. Each server is started fresh for
# each level so that every peak RSS (all its processes summed) is that level's.
#
# Usage: bench/images/run.sh            (from the repository root)
# hotpath-enc is hotpath with encryption at rest on (--encryption-key-file):
# its uploads/s against hotpath's shows what encryption costs (goal: within 5%).
# Env:   LEVELS="1 8 64"  SERVERS="baseline hotpath hotpath-enc"  PHOTOS=8
#        UPLOADS_PER_CLIENT=2 MIN_UPLOADS=8 (uploads per level: the larger)
#        HOTPATH_BASELINES=../shared/baselines (bench/baselines.sh)  PY=/usr/bin/python3
# The photos are made by `hotpath gen photos`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LEVELS=${LEVELS:-"1 8 64"}
SERVERS=${SERVERS:-"baseline hotpath hotpath-enc"}
PHOTOS=${PHOTOS:-8}
UPLOADS_PER_CLIENT=${UPLOADS_PER_CLIENT:-2}
MIN_UPLOADS=${MIN_UPLOADS:-8}
. "$ROOT/bench/baselines.sh"
APP_DIR=$HOTPATH_BASELINES/fastapi_images
[[ " $SERVERS " != *" baseline "* ]] || need_baseline fastapi_images 'SERVERS=hotpath'
PY=${PY:-/usr/bin/python3}
HP_PORT=${HP_PORT:-18080}
BL_PORT=${BL_PORT:-18090}

WORK=$(mktemp -d /tmp/hotpath-bench-images.XXXXXX)
PHOTO_DIR=${PHOTO_DIR:-/tmp/hotpath-bench-photos-$PHOTOS}
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/hotpath" ./cmd/hotpath
"$WORK/hotpath" gen photos --count "$PHOTOS" "$PHOTO_DIR"   # photo-like 12 MP JPEGs; kept when made before
go build -o "$WORK/loadgen" ./bench/images/loadgen

wait_http() { # URL LOG
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server at $1 did not come up; its log:" >&2; tail -20 "$2" >&2; return 1
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

"$WORK/hotpath" keys encryption-key > "$WORK/master.key"
start_hotpath() { # [serve flags...]
  rm -rf "$WORK/hp-data"
  "$WORK/hotpath" serve --addr 127.0.0.1:$HP_PORT --data "$WORK/hp-data" --log-level warn "$@" 2>"$WORK/hotpath.log" &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$HP_PORT/readyz" "$WORK/hotpath.log"
  HP_KEY=$(sed -n 's/^    \(hp_[A-Za-z0-9_-]*\)$/\1/p' "$WORK/hotpath.log")
}
start_baseline() {
  rm -rf "$WORK/bl-data"
  BASELINE_API_KEY=benchkey BASELINE_DIR="$WORK/bl-data" "$PY" -m uvicorn app:app --app-dir "$APP_DIR" \
    --host 127.0.0.1 --port $BL_PORT --workers 2 --log-level warning 2>"$WORK/baseline.log" &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$BL_PORT/health" "$WORK/baseline.log"
}

RESULTS="$WORK/results.jsonl"
for c in $LEVELS; do
  n=$(( c * UPLOADS_PER_CLIENT )); [ "$n" -lt "$MIN_UPLOADS" ] && n=$MIN_UPLOADS
  echo "level $c: $n uploads each" >&2
  for server in $SERVERS; do
    if [ "$server" = baseline ]; then
      start_baseline
      url="http://127.0.0.1:$BL_PORT/images"; header="x-api-key: benchkey"
    else
      if [ "$server" = hotpath-enc ]; then start_hotpath --encryption-key-file "$WORK/master.key"; else start_hotpath; fi
      url="http://127.0.0.1:$HP_PORT/v1/images"; header="Authorization: Bearer $HP_KEY"
    fi
    "$WORK/loadgen" -name "$server" -url "$url" -header "$header" -dir "$PHOTO_DIR" -c "$c" -n "$n" -pid "$SERVER_PID" \
      | tee -a "$RESULTS" >&2
    stop_server
  done
done

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["name"], r["concurrency"]): r for r in rows}
print("| concurrent | server | uploads/s | p50 ms | p99 ms | peak RSS MB | CPU s/upload | failed |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for c in sorted({r["concurrency"] for r in rows}):
    for name in ("baseline", "hotpath", "hotpath-enc"):
        r = by.get((name, c))
        if r:
            print(f"| {c} | {name} | {r['uploads_per_sec']:.2f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['peak_rss_mb']:.0f} | {r['cpu_sec_per_upload']:.2f} | {r['failed']} |")
print()
print("| concurrent | uploads/s hotpath ÷ baseline | p99 baseline ÷ hotpath | peak RSS hotpath ÷ baseline |")
print("|---:|---:|---:|---:|")
for c in sorted({r["concurrency"] for r in rows}):
    b, h = by.get(("baseline", c)), by.get(("hotpath", c))
    if b and h and b["uploads_per_sec"] and h["p99_ms"] and b["peak_rss_mb"]:
        print(f"| {c} | {h['uploads_per_sec']/b['uploads_per_sec']:.2f}× | {b['p99_ms']/h['p99_ms']:.2f}× | {h['peak_rss_mb']/b['peak_rss_mb']:.3f} (1/{b['peak_rss_mb']/h['peak_rss_mb']:.0f}) |")
if any(r["name"] == "hotpath-enc" for r in rows):
    print()
    print("| concurrent | uploads/s encryption on ÷ off (goal ≥ 0.95) | CPU s/upload on ÷ off |")
    print("|---:|---:|---:|")
    for c in sorted({r["concurrency"] for r in rows}):
        off, on = by.get(("hotpath", c)), by.get(("hotpath-enc", c))
        if off and on and off["uploads_per_sec"] and off["cpu_sec_per_upload"]:
            print(f"| {c} | {on['uploads_per_sec']/off['uploads_per_sec']:.3f} | {on['cpu_sec_per_upload']/off['cpu_sec_per_upload']:.3f} |")
failed = sum(r["failed"] for r in rows if r["name"] in ("hotpath", "hotpath-enc"))
for r in rows:
    if r.get("first_error"):
        print(f"\n{r['name']} c={r['concurrency']} first error: {r['first_error']}")
sys.exit(1 if failed else 0)
PY
