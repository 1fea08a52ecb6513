# Sourced by bench/*/run.sh. The Python baselines the benchmarks compare
# against are the one thing they take from outside the repository; they are
# found through HOTPATH_BASELINES (default: ../shared/baselines beside the
# repository). Everything else (data, photos) the scripts make with
# `hotpath gen`.
HOTPATH_BASELINES=${HOTPATH_BASELINES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/baselines}

# need_baseline NAME HOW_TO_SKIP: exits with a clear message when the
# baseline NAME (a file or directory under HOTPATH_BASELINES) is missing.
need_baseline() {
  if [ ! -e "$HOTPATH_BASELINES/$1" ]; then
    echo "bench: the Python baseline $1 is not in $HOTPATH_BASELINES." >&2
    echo "bench: set HOTPATH_BASELINES to the directory that holds it, or run without the baseline ($2)." >&2
    exit 1
  fi
}
