#!/usr/bin/env bash
# Side-by-side benchmark of `hotpath uniq` on the generated CSV (warm cache):
# hotpath, the Python baselines, `LC_ALL=C sort -u | wc -l` and DuckDB
# (npm @duckdb/node-api). Prints wall time, peak RSS, the counts (which must
# agree: the script fails otherwise) and each tool's wall and CPU
# (user+sys) time as a ratio of hotpath's.
#
# Environment:
#   HOTPATH_BENCH_DIR  where the data and the binary go (default /tmp/hotpath-bench; not in git)
#   ROWS               rows to generate (default 20000000, ~1 GB); the file is reused when it exists
#   DISTINCT_RECORDS, DISTINCT_USERS   `hotpath gen csv`'s --distinct-records/--distinct-users
#                      (defaults 16000000 and 1000000, scaled down with ROWS)
#   HOTPATH_BASELINES  the Python baselines (default ../shared/baselines; bench/baselines.sh)
#   MODES              which comparisons (default "lines user_id records")
#   SKIP               tools to leave out, e.g. "python sort"
#   REPEAT             runs per tool; the fastest is reported (default 3: the
#                      machine is shared, so the best run is the least disturbed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/bench/baselines.sh"
dir=${HOTPATH_BENCH_DIR:-/tmp/hotpath-bench}
rows=${ROWS:-20000000}
records=${DISTINCT_RECORDS:-$(( rows * 4 / 5 ))}
users=${DISTINCT_USERS:-$(( records / 16 ))}
modes=${MODES:-lines user_id records}
skip=" ${SKIP:-} "
repeat=${REPEAT:-3}
mkdir -p "$dir"
data="$dir/data-$rows-$records-$users.csv"
if [ "$rows" = 20000000 ] && [ -z "${DISTINCT_RECORDS:-}" ] && [ -z "${DISTINCT_USERS:-}" ]; then
  records=16000000 users=1000000 data="$dir/data.csv"
fi

if [ ! -x /usr/bin/time ]; then
  echo "installing Debian's time package for peak RSS" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
if [[ "$skip" != *" duckdb "* ]] && [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
  (cd "$here" && npm install --no-audit --no-fund >/dev/null)
fi
if [[ "$skip" != *" python "* ]]; then
  need_baseline seed_uniq_lines.py "SKIP=python"
  need_baseline seed_uniq_column.py "SKIP=python"
fi
(cd "$root" && go build -o "$dir/hotpath" ./cmd/hotpath)
if [ ! -s "$data" ] || [ ! -s "$data.expected" ]; then
  echo "generating $data ($rows rows, reused next time)" >&2
  "$dir/hotpath" gen csv --rows "$rows" --distinct-records "$records" --distinct-users "$users" "$data"
fi
# Warm the page cache the way reading the file leaves it: drop the file's
# pages, then read it once. The pages a writer left behind (the generator's)
# are small folios; read back, the kernel caches the file in 2 MB folios,
# which a mapping maps with huge pages and a read() copies from with less
# work per byte. Every tool then runs on the same, reproducible state.
dd if="$data" iflag=nocache count=0 status=none 2>/dev/null || true
cat "$data" > /dev/null
echo "file: $data ($(du -h "$data" | cut -f1)); expected: $(cat "$data.expected")"
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); best of $repeat runs"

fail=0
# measure TOOL MODE CMD... : runs CMD, records "wall rss count cpu" for TOOL
# (cpu: user+sys seconds of the same run, the fairer figure on a shared machine).
measure() {
  local tool=$1 mode=$2; shift 2
  if [[ "$skip" == *" $tool "* ]]; then return; fi
  local out tf best="" bestrss=0 bestcpu=0 wall rss user sys; tf=$(mktemp)
  for ((i = 0; i < repeat; i++)); do
    out=$(/usr/bin/time -f "%e %M %U %S" -o "$tf" "$@" | tail -1 | tr -d '~ ')
    read -r wall rss user sys < <(tail -1 "$tf")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall bestrss=$rss bestcpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    fi
  done
  rm -f "$tf"
  results+=("$tool $best $bestrss $out $bestcpu")
}

for mode in $modes; do
  results=()
  case $mode in
    lines)
      measure hotpath lines "$dir/hotpath" uniq "$data"
      measure python lines python3 "$HOTPATH_BASELINES/seed_uniq_lines.py" "$data"
      measure sort lines sh -c 'LC_ALL=C sort -u "$1" | wc -l' sh "$data"
      measure duckdb lines node "$here/duckdb.mjs" lines "$data" ;;
    user_id)
      measure hotpath user_id "$dir/hotpath" uniq -c user_id "$data"
      measure python user_id python3 "$HOTPATH_BASELINES/seed_uniq_column.py" "$data" user_id
      measure duckdb user_id node "$here/duckdb.mjs" column "$data" user_id ;;
    records)
      measure hotpath records "$dir/hotpath" uniq --records "$data"
      measure duckdb records node "$here/duckdb.mjs" records "$data" ;;
  esac
  echo
  echo "== $mode"
  printf '%-8s %9s %9s %9s %12s %12s %12s\n' tool wall_s cpu_s rss_MB count time/hotpath cpu/hotpath
  base=$(echo "${results[0]}" | cut -d' ' -f2)
  basecpu=$(echo "${results[0]}" | cut -d' ' -f5)
  want=$(echo "${results[0]}" | cut -d' ' -f4)
  for r in "${results[@]}"; do
    read -r tool wall rss count cpu <<<"$r"
    ratio=$(awk -v a="$wall" -v b="$base" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
    cpuratio=$(awk -v a="$cpu" -v b="$basecpu" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
    printf '%-8s %9s %9s %9d %12s %12s %12s\n' "$tool" "$wall" "$cpu" $((rss / 1024)) "$count" "$ratio" "$cpuratio"
    if [ "$count" != "$want" ]; then echo "  MISMATCH: $tool counted $count, hotpath $want" >&2; fail=1; fi
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $fail
