#!/usr/bin/env bash
# Scale-out benchmark: uploads/s of one `hotpath serve` with everything
# embedded, one serve on the network backends (S3 on versitygw, PostgreSQL,
# Redis, NATS), and two serve + one worker on those backends behind a
# round-robin Go load generator (sync and async), side by side in one run on
# the same photo-like 12 MP JPEGs, with ratios to the embedded shape.
#
# Needs: PostgreSQL on 127.0.0.1:5432 (db test, user postgres), Redis on
# 127.0.0.1:6379, NATS JetStream on 127.0.0.1:4222, ~/go/bin/versitygw.
# Usage: bench/scaleout/run.sh        (from the repository root)
# Env:   UPLOADS=32 CONCURRENCY=8 ROUNDS=2 PHOTOS=8
set -euo pipefail
cd "$(dirname "$0")/../.."
PHOTOS=${PHOTOS:-8}
export PHOTO_DIR=${PHOTO_DIR:-/tmp/hotpath-bench-photos-$PHOTOS}
go run ./cmd/hotpath gen photos --count "$PHOTOS" "$PHOTO_DIR"   # photo-like 12 MP JPEGs; kept when made before
export HOTPATH_BENCH_SCALEOUT=1 UPLOADS=${UPLOADS:-32} CONCURRENCY=${CONCURRENCY:-8} ROUNDS=${ROUNDS:-2}
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)" >&2
go test -run '^$' -bench BenchmarkScaleOut -benchtime 1x -timeout 30m ./bench/scaleout/
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)" >&2
