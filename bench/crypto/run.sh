#!/usr/bin/env bash
# Encryption benchmark, side by side in one run on one 1 GiB file (page cache
# warm, output to the same tmpfs-or-disk directory):
#   hotpath encrypt / decrypt  (AES-256-GCM in 64 KiB DARE packages, all cores)
#   Python `cryptography` (Debian's python3-cryptography), the same chunked
#     AES-256-GCM in a plain loop (bench/crypto/aesgcm_loop.py)
#   openssl speed -evp aes-256-gcm, 16 KiB blocks, single and -multi 2: the
#     machine's ceiling for AES-GCM, no I/O at all.
# Rounds are interleaved (hotpath, Python, hotpath, ...) and the median is
# reported, with wall time, CPU time (user+sys) and MB/s of plaintext.
#
# Usage: bench/crypto/run.sh   Env: SIZE_MB=1024 ROUNDS=3 PY=/usr/bin/python3 WORK=/dev/shm
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
ROUNDS=${ROUNDS:-3}
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import cryptography' 2>/dev/null || { echo "bench/crypto: $PY lacks the cryptography package (scripts/deps.sh --test installs python3-cryptography)" >&2; exit 1; }
WORK=${WORK:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )}
DIR=$(mktemp -d "$WORK/hotpath-bench-crypto.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

go build -o "$DIR/hotpath" ./cmd/hotpath
"$DIR/hotpath" keys encryption-key > "$DIR/key"
head -c $((SIZE_MB << 20)) /dev/urandom > "$DIR/in"
cat "$DIR/in" > /dev/null

# measure NAME CMD...: appends "NAME wall cpu" (seconds) to results.
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$DIR/t" "$@" 
  read -r wall user sys < "$DIR/t"
  echo "$name $wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" >> "$DIR/results"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  measure "hotpath-encrypt" "$DIR/hotpath" encrypt "$DIR/in" "$DIR/hp.enc" --key-file "$DIR/key" --progress never
  measure "python-encrypt" "$PY" bench/crypto/aesgcm_loop.py encrypt "$DIR/in" "$DIR/py.enc"
  measure "hotpath-decrypt" "$DIR/hotpath" decrypt "$DIR/hp.enc" "$DIR/hp.out" --key-file "$DIR/key" --progress never
  measure "python-decrypt" "$PY" bench/crypto/aesgcm_loop.py decrypt "$DIR/py.enc" "$DIR/py.out"
  cmp -s "$DIR/in" "$DIR/hp.out" || { echo "hotpath decrypt did not give the input back" >&2; exit 1; }
  cmp -s "$DIR/in" "$DIR/py.out" || { echo "python decrypt did not give the input back" >&2; exit 1; }
  rm -f "$DIR/hp.enc" "$DIR/py.enc" "$DIR/hp.out" "$DIR/py.out"
done
# openssl's figure for 16384-byte blocks, in kB/s (1000 bytes), as MB/s.
openssl_mbs() { openssl speed -seconds 3 -bytes 16384 "$@" -evp aes-256-gcm 2>/dev/null | awk 'tolower($1) ~ /^aes-256-gcm/ {v=$NF; sub(/k$/, "", v)} END {print v/1000}'; }
echo "openssl-single $(openssl_mbs)" >> "$DIR/results"
echo "openssl-multi2 $(openssl_mbs -multi 2)" >> "$DIR/results"

python3 - "$DIR/results" "$SIZE_MB" <<'PY'
import statistics, sys
rows, size_mb = [l.split() for l in open(sys.argv[1])], int(sys.argv[2])
runs = {}
for r in rows:
    runs.setdefault(r[0], []).append([float(x) for x in r[1:]])
mb = size_mb * 1.048576  # MB of plaintext
med = {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs) if len(vs[0]) > 1 else None) for k, vs in runs.items()}
print(f"| {size_mb} MiB | wall s (median of {len(runs['hotpath-encrypt'])}) | CPU s | MB/s |")
print("|---|---:|---:|---:|")
for k in ("hotpath-encrypt", "python-encrypt", "hotpath-decrypt", "python-decrypt"):
    w, c = med[k]
    print(f"| {k} | {w:.2f} | {c:.2f} | {mb / w:.0f} |")
for k in ("openssl-single", "openssl-multi2"):
    print(f"| {k} (speed, 16 KiB blocks, no I/O) | | | {med[k][0]:.0f} |")
multi = med["openssl-multi2"][0]
print()
print("| | ratio |")
print("|---|---:|")
for op in ("encrypt", "decrypt"):
    h, p = med["hotpath-" + op][0], med["python-" + op][0]
    print(f"| {op}: Python wall ÷ hotpath wall (goal ≥ 2) | {p / h:.2f}× |")
    print(f"| {op}: hotpath MB/s ÷ openssl -multi 2 (goal ≥ 0.70) | {mb / h / multi:.2f} |")
PY
