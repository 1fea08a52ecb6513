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
#   MODES              also: key (-k user_id,country), by (--by country -c user_id), dedup (-k user_id)
#   STATE              what the file is in when each tool runs: "read" (default; its pages dropped,
#                      then read once: the page cache holds it in 2 MB folios) or "written" (a fresh
#                      copy made just before the run, as a user who just generated, copied or
#                      downloaded it meets it)
#   REPEAT             runs per tool; the fastest is reported (default 1: a single first run, what a
#                      user meets; each run gets its state anew)
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
repeat=${REPEAT:-1}
state=${STATE:-read}
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
# With STATE=written each run gets a fresh copy instead ("$target").
target=$data
[ "$state" = written ] && target="$dir/copy.csv"
prepare() {
  if [ "$state" = written ]; then
    rm -f "$target"; cp "$data" "$target"
  else
    dd if="$data" iflag=nocache count=0 status=none 2>/dev/null || true
    cat "$data" > /dev/null
  fi
}
echo "file: $data ($(du -h "$data" | cut -f1)); expected: $(cat "$data.expected")"
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); state $state; best of $repeat runs"

fail=0
# measure TOOL MODE CMD... : runs CMD, records "wall rss count cpu" for TOOL
# (cpu: user+sys seconds of the same run, the fairer figure on a shared machine).
measure() {
  local tool=$1 mode=$2; shift 2
  if [[ "$skip" == *" $tool "* ]]; then return; fi
  local out tf best="" bestrss=0 bestcpu=0 wall rss user sys; tf=$(mktemp)
  for ((i = 0; i < repeat; i++)); do
    prepare
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
      measure hotpath lines "$dir/hotpath" uniq "$target"
      measure python lines python3 "$HOTPATH_BASELINES/seed_uniq_lines.py" "$target"
      measure sort lines sh -c 'LC_ALL=C sort -u "$1" | wc -l' sh "$target"
      measure duckdb lines node "$here/duckdb.mjs" lines "$target" ;;
    user_id)
      measure hotpath user_id "$dir/hotpath" uniq -c user_id "$target"
      measure python user_id python3 "$HOTPATH_BASELINES/seed_uniq_column.py" "$target" user_id
      measure duckdb user_id node "$here/duckdb.mjs" column "$target" user_id ;;
    records)
      measure hotpath records "$dir/hotpath" uniq --records "$target"
      measure duckdb records node "$here/duckdb.mjs" records "$target" ;;
    key)
      measure hotpath key "$dir/hotpath" uniq -k user_id,country "$target"
      measure duckdb key node "$here/duckdb.mjs" key "$target" user_id ;;
    by) # the count compared: distinct (country, user_id) pairs, added up over the groups
      measure hotpath by sh -c '"$1" uniq --by country -c user_id --format json "$2" | grep -m1 "\"distinct\"" | tr -dc 0-9' sh "$dir/hotpath" "$target"
      measure duckdb by node "$here/duckdb.mjs" by "$target" user_id ;;
    dedup) # both write the file without duplicate user_id; the count is the records written
      measure hotpath dedup sh -c '"$1" dedup -k user_id -o "$2.hotpath-dedup.csv" "$2" 2>&1 | awk '\''/kept/ { print $4 }'\''' sh "$dir/hotpath" "$target"
      measure duckdb dedup node "$here/duckdb.mjs" dedup "$target" user_id ;;
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
