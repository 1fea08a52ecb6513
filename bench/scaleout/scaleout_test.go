// Package scaleout benchmarks the shapes hotpath runs in, side by side on the
// same images: one `serve` with everything embedded, one `serve` on the
// network backends (S3 on versitygw, PostgreSQL, Redis, NATS), and two
// `serve` + one `worker` on those backends behind a round-robin Go load
// generator, synchronous and asynchronous. Run it with bench/scaleout/run.sh.
package scaleout

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/e2e"
	"github.com/hotpath/hotpath/hotpathtest"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// envInt reads an integer setting with a default.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// photos loads the JPEGs of PHOTO_DIR, or makes photo-sized synthetic ones.
func photos(b *testing.B) [][]byte {
	if dir := os.Getenv("PHOTO_DIR"); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		var out [][]byte
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, data)
		}
		if len(out) > 0 {
			return out
		}
	}
	out := make([][]byte, 4)
	for i := range out {
		out[i] = imagetest.Image(b, hotpath.FormatJPEG, 4000+i*16, 3000)
	}
	return out
}

// shape is one way of running hotpath: its serve processes, workers, and
// whether uploads are asynchronous.
type shape struct {
	name    string
	network bool
	serves  int
	workers int
	async   bool
}

// BenchmarkScaleOut measures uploads/s of each shape once (b.N is ignored:
// run with -benchtime 1x) and prints the table with ratios to the embedded
// shape. UPLOADS (default 32), CONCURRENCY (default 8) and ROUNDS (default 2)
// size the runs.
func BenchmarkScaleOut(b *testing.B) {
	if os.Getenv("HOTPATH_BENCH_SCALEOUT") == "" {
		b.Skip("starts versitygw and up to four hotpath processes: run bench/scaleout/run.sh (sets HOTPATH_BENCH_SCALEOUT=1)")
	}
	ctx := context.Background()
	dir := b.TempDir()
	bin, err := e2e.Build(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	bodies := photos(b)
	n, conc := envInt("UPLOADS", 32), envInt("CONCURRENCY", 8)
	shapes := []shape{
		{name: "1 serve, embedded", serves: 1},
		{name: "1 serve, embedded, async", serves: 1, async: true},
		{name: "1 serve, network backends", network: true, serves: 1},
		{name: "2 serve + 1 worker, network, sync", network: true, serves: 2, workers: 1},
		{name: "2 serve + 1 worker, network, async", network: true, serves: 2, workers: 1, async: true},
	}
	s3URL, dsn := hotpathtest.StartS3(b), hotpathtest.PostgresDSN(b)
	// The machine is shared: each shape runs ROUNDS times, in forward then
	// reverse order, and its best run counts, so that a burst of load from
	// elsewhere does not decide a ratio.
	best := make([]e2e.LoadResult, len(shapes))
	for round := range envInt("ROUNDS", 2) {
		for k := range shapes {
			i := k
			if round%2 == 1 {
				i = len(shapes) - 1 - k
			}
			res := runShape(b, bin, shapes[i], round*len(shapes)+i, s3URL, dsn, bodies, n, conc)
			if res.Failed > 0 {
				b.Errorf("%s: %d of %d uploads failed, first: %s", shapes[i].name, res.Failed, res.Uploads, res.FirstError)
			}
			if best[i].Uploads == 0 || res.CompletedPerSec() > best[i].CompletedPerSec() {
				best[i] = res
			}
		}
	}
	base := best[0].CompletedPerSec()
	var lines []string
	for i, sh := range shapes {
		res := best[i]
		rate := res.CompletedPerSec()
		lines = append(lines, fmt.Sprintf("%-38s %5d %6d %9.2f %9.2f %8.0f %8.0f %7.2fx",
			sh.name, res.Uploads, res.Failed, res.AcceptedPerSec(), rate, ms(res.P50), ms(res.P99), rate/base))
		b.ReportMetric(rate, strings.NewReplacer(" ", "_", ",", "", "+", "plus").Replace(sh.name)+"_uploads/s")
	}
	fmt.Printf("\nscale-out: %d uploads of %d images (%.1f MB avg), %d concurrent, %d CPUs, best of %d rounds\n", n, len(bodies), avgMB(bodies), conc, runtime.NumCPU(), envInt("ROUNDS", 2))
	fmt.Printf("%-38s %5s %6s %9s %9s %8s %8s %8s\n", "shape", "n", "failed", "accept/s", "done/s", "p50 ms", "p99 ms", "vs emb.")
	for _, l := range lines {
		fmt.Println(l)
	}
}

// runShape starts a shape's processes, loads them and stops them.
func runShape(b *testing.B, bin string, sh shape, i int, s3URL, dsn string, bodies [][]byte, n, conc int) e2e.LoadResult {
	dir := b.TempDir()
	id := fmt.Sprintf("%s%d", hotpath.NewID()[24:], i)
	args := []string{"--data", dir, "--log-level", "info", "--temp-dir", dir}
	if sh.network {
		args = append(args,
			"--store", withPrefix(b, s3URL, "run"+id), "--db", dsn,
			"--cache", "redis://127.0.0.1:6379/0?prefix=bench-"+id+":",
			"--queue", "nats://127.0.0.1:4222?stream=BENCH_"+id+"&subject=bench."+id)
	}
	key, err := e2e.CreateKey(context.Background(), bin, nil, "bench", "admin", args...)
	if err != nil {
		b.Fatal(err)
	}
	var procs []*e2e.Proc
	defer func() {
		for _, p := range procs {
			p.Stop(30 * time.Second)
		}
		if sh.network {
			e2e.DeleteStream("nats://127.0.0.1:4222", "BENCH_"+id, "bench."+id)
		}
	}()
	var clients []*e2e.Client
	for s := range sh.serves {
		p, err := e2e.Start(bin, fmt.Sprintf("serve-%d", s), nil, "listening", time.Minute,
			append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
		if err != nil {
			b.Fatal(err)
		}
		procs = append(procs, p)
		clients = append(clients, e2e.NewClient(p.URL, key))
	}
	for w := range sh.workers {
		p, err := e2e.Start(bin, fmt.Sprintf("worker-%d", w), nil, "worker consuming jobs", time.Minute,
			append([]string{"worker"}, args...)...)
		if err != nil {
			b.Fatal(err)
		}
		procs = append(procs, p)
	}
	e2e.Load(clients, bodies[:1], min(2, n), 1, sh.async) // warm up every process's caches and pools
	return e2e.Load(clients, bodies, n, conc, sh.async)
}

// withPrefix puts a run's blobs under a key prefix of their own in the bucket.
func withPrefix(b *testing.B, raw, prefix string) string {
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + prefix
	return u.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func avgMB(bodies [][]byte) float64 {
	total := 0
	for _, b := range bodies {
		total += len(b)
	}
	return float64(total) / float64(len(bodies)) / 1e6
}
