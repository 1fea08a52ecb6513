// Command transforms benchmarks hotpath's on-the-fly transforms (/t/...):
// requests per second at 2 and 16 concurrent clients, cold (every URL new,
// so every request runs the engine) and warm (results already stored and
// cached), on generated 12 MP JPEGs and PNGs, beside libvips' own
// vipsthumbnail doing the same work on the same files in the same run.
//
// Usage (from the repository root):
//
//	go run ./bench/transforms [-dir DIR] [-images 4] [-duration 5s] [-clients 2,16]
//
// The server runs in-process over the embedded backends (disk, SQLite,
// in-memory cache) and the libvips engine, with its default worker pool (one
// worker per CPU). Photos are made by internal/gen (as `hotpath gen photos`);
// vipsthumbnail is Debian's libvips-tools.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	hphttp "github.com/hotpath/hotpath/http"
	"github.com/hotpath/hotpath/inmem"
	"github.com/hotpath/hotpath/internal/gen"
	"github.com/hotpath/hotpath/pipeline"
	"github.com/hotpath/hotpath/sqlite"
	"github.com/hotpath/hotpath/vips"
)

// workload is one kind of transform, as hotpath options and as the
// equivalent vipsthumbnail arguments. uniqueOptions makes the k-th distinct
// URL of the same work (k < 6000, within the output limits): a taller fit
// box leaves a landscape photo's output unchanged; a fill varies its quality
// and its width by a few pixels.
type workload struct {
	name          string
	uniqueOptions func(k int) string
	thumbArgs     []string // size and crop flags
	thumbExt      string   // output format as vipsthumbnail writes it
	imgproxyRPS2  float64  // imgproxy v4, same machine, JPEG, 2 clients (issue 5); 0 when not quoted
	imgproxyRPS16 float64
}

var workloads = []workload{
	{"fit-400 JPEG", func(k int) string { return fmt.Sprintf("w:400,h:%d,q:80,f:jpeg", 400+k%6000) },
		[]string{"--size", "400x400"}, ".jpg[Q=80]", 37.6, 43.2},
	{"fit-800 JPEG", func(k int) string { return fmt.Sprintf("w:800,h:%d,q:80,f:jpeg", 800+k%6000) },
		[]string{"--size", "800x800"}, ".jpg[Q=80]", 30.3, 0},
	{"fill-200 smart JPEG", func(k int) string {
		return fmt.Sprintf("w:%d,h:200,fit:fill,g:smart,q:%d,f:jpeg", 200+k/60%100, 100-k%60)
	}, []string{"--size", "200x200", "--smartcrop", "attention"}, ".jpg[Q=80]", 36.7, 0},
	{"fit-1600 WebP", func(k int) string { return fmt.Sprintf("w:1600,h:%d,q:80,f:webp", 1600+k%6000) },
		[]string{"--size", "1600x1600"}, ".webp[Q=80]", 8.3, 0},
}

func main() {
	dir := flag.String("dir", "", "work directory (default: a new temp dir, removed at the end)")
	images := flag.Int("images", 4, "photos of each format")
	duration := flag.Duration("duration", 5*time.Second, "length of each measurement")
	clientsFlag := flag.String("clients", "2,16", "concurrent clients, comma-separated")
	only := flag.String("only", "", "run only workloads whose name contains this")
	formats := flag.String("formats", "jpeg,png", "source formats")
	flag.Parse()
	log.SetFlags(0)
	var clients []int
	for _, c := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			log.Fatalf("bad -clients %q", *clientsFlag)
		}
		clients = append(clients, n)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "hotpath-bench-transforms-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if err := run(*dir, *images, *duration, clients, *only, strings.Split(*formats, ",")); err != nil {
		log.Fatal(err)
	}
}

// coldSeq numbers cold requests across measurements, so that no cold URL
// is ever asked twice; warm URLs use uniqueOptions(0).
var coldSeq atomic.Int64

// result is one measurement.
type result struct {
	workload, source string
	clients          int
	coldRPS, warmRPS float64
	thumbRPS         float64
	failed           int64
	imgproxy         float64
}

func run(dir string, nImages int, duration time.Duration, clients []int, only string, formats []string) error {
	ctx := context.Background()
	photos, err := makePhotos(dir, nImages, formats)
	if err != nil {
		return err
	}
	srv, ids, err := startServer(ctx, dir, photos)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("hotpath transforms benchmark: %d CPUs, %s per measurement, libvips %s\n", runtime.NumCPU(), duration, vips.Version())
	var results []result
	for _, format := range formats {
		for _, w := range workloads {
			if only != "" && !strings.Contains(w.name, only) {
				continue
			}
			for _, c := range clients {
				r := result{workload: w.name, source: format, clients: c}
				n := len(ids[format])
				r.coldRPS, r.failed = measure(srv.URL, duration, c, func(int) string {
					// Each request a new URL: new options, images in turn.
					k := int(coldSeq.Add(1))
					return "/t/unsafe/" + w.uniqueOptions(k/n) + "/" + ids[format][k%n]
				})
				warm := make([]string, 0, len(ids[format]))
				for _, id := range ids[format] {
					warm = append(warm, "/t/unsafe/"+w.uniqueOptions(0)+"/"+id)
				}
				for _, u := range warm { // store and cache them
					if _, err := fetch(http.DefaultClient, srv.URL+u); err != nil {
						return err
					}
				}
				var warmFailed int64
				r.warmRPS, warmFailed = measure(srv.URL, duration, c, func(k int) string { return warm[k%len(warm)] })
				r.failed += warmFailed
				r.thumbRPS = vipsthumbnailRPS(dir, photos[format], w, min(c, runtime.NumCPU()), duration)
				if format == "jpeg" {
					r.imgproxy = map[int]float64{2: w.imgproxyRPS2, 16: w.imgproxyRPS16}[c]
				}
				fmt.Printf("  %-20s %-4s %2d clients: cold %7.1f/s  warm %8.1f/s  vipsthumbnail %6.1f/s  failed %d\n",
					w.name, format, c, r.coldRPS, r.warmRPS, r.thumbRPS, r.failed)
				results = append(results, r)
			}
		}
	}
	printTable(results)
	return nil
}

// makePhotos generates nImages photo-like 12 MP JPEGs (internal/gen, kept
// when made before) and, for "png", the same pictures as PNG.
func makePhotos(dir string, nImages int, formats []string) (map[string][]string, error) {
	jpegs, err := gen.WritePhotos(context.Background(), filepath.Join(dir, "photos"), nImages, gen.DefaultPhotoOptions())
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, j := range jpegs {
		out["jpeg"] = append(out["jpeg"], j)
		p := strings.TrimSuffix(j, ".jpg") + ".png"
		if _, err := os.Stat(p); err != nil && contains(formats, "png") {
			if b, err := exec.Command("vips", "copy", j, p).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("vips copy to PNG: %v: %s", err, b)
			}
		}
		out["png"] = append(out["png"], p)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// startServer runs the API over the embedded backends in dir and uploads the
// photos, returning their image IDs by source format.
func startServer(ctx context.Context, dir string, photos map[string][]string) (*httptest.Server, map[string][]string, error) {
	state := filepath.Join(dir, "state-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	blobs, err := disk.Open(ctx, filepath.Join(state, "blobs"))
	if err != nil {
		return nil, nil, err
	}
	meta, err := sqlite.Open(ctx, filepath.Join(state, "hotpath.db"))
	if err != nil {
		return nil, nil, err
	}
	engine, err := vips.New(vips.Config{})
	if err != nil {
		return nil, nil, err
	}
	cache := inmem.NewCache(256 << 20)
	svc, err := pipeline.New(pipeline.Config{QueueSize: pipeline.DefaultQueueSize, TempDir: state}, blobs, meta, engine, cache, nil)
	if err != nil {
		return nil, nil, err
	}
	tenant := &hotpath.Tenant{Name: "bench"}
	if err := meta.CreateTenant(ctx, tenant); err != nil {
		return nil, nil, err
	}
	cfg := hphttp.DefaultConfig()
	cfg.Transforms.AllowUnsigned = true
	api, err := hphttp.New(cfg, svc, hphttp.Options{Cache: cache})
	if err != nil {
		return nil, nil, err
	}
	ids := map[string][]string{}
	for format, paths := range photos {
		for _, p := range paths {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			img, err := svc.Ingest(ctx, tenant.ID, filepath.Base(p), p)
			if err != nil {
				return nil, nil, fmt.Errorf("ingest %s: %w", p, err)
			}
			ids[format] = append(ids[format], img.ID)
		}
	}
	return httptest.NewServer(api), ids, nil
}

// measure runs clients goroutines requesting url(k) for k = 0, 1, 2, … for
// duration and returns successful requests per second and the failures.
func measure(base string, duration time.Duration, clients int, url func(k int) string) (float64, int64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var next, ok, failed atomic.Int64
	var firstErr sync.Once
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				k := int(next.Add(1) - 1)
				if _, err := fetch(client, base+url(k)); err != nil {
					failed.Add(1)
					firstErr.Do(func() { log.Printf("first failure: %v", err) })
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), failed.Load()
}

// fetch GETs url and reads the body; a status other than 200 is an error.
func fetch(client *http.Client, url string) (int64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return n, nil
}

// vipsthumbnailRPS runs vipsthumbnail on the photos, parallel processes at a
// time (one libvips thread each, like hotpath's engine), for about duration
// and returns images per second, process start included.
func vipsthumbnailRPS(dir string, photos []string, w workload, parallel int, duration time.Duration) float64 {
	outDir := filepath.Join(dir, "thumbs")
	os.MkdirAll(outDir, 0o755)
	var done atomic.Int64
	var next atomic.Int64
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for p := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				src := photos[int(next.Add(1)-1)%len(photos)]
				args := append(append([]string{}, w.thumbArgs...), "--vips-concurrency=1",
					"-o", filepath.Join(outDir, fmt.Sprintf("t%d_%%s%s", p, w.thumbExt)), src)
				if b, err := exec.Command("vipsthumbnail", args...).CombinedOutput(); err != nil {
					log.Printf("vipsthumbnail %v: %v: %s", args, err, b)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

// printTable prints the results with their ratios as a Markdown table.
func printTable(results []result) {
	sort.SliceStable(results, func(i, j int) bool { return results[i].source < results[j].source })
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| workload\t source\t clients\t cold req/s\t warm req/s\t vipsthumbnail img/s\t cold ÷ vipsthumbnail\t warm ÷ cold\t imgproxy v4 (issue)\t cold ÷ imgproxy\t failed |")
	fmt.Fprintln(tw, "| ---\t ---\t ---:\t ---:\t ---:\t ---:\t ---:\t ---:\t ---:\t ---:\t ---: |")
	for _, r := range results {
		imgproxy, vsImgproxy := "", ""
		if r.imgproxy > 0 {
			imgproxy = fmt.Sprintf("%.1f", r.imgproxy)
			vsImgproxy = fmt.Sprintf("%.2f×", r.coldRPS/r.imgproxy)
		}
		fmt.Fprintf(tw, "| %s\t %s\t %d\t %.1f\t %.0f\t %.1f\t %.2f×\t %.0f×\t %s\t %s\t %d |\n",
			r.workload, r.source, r.clients, r.coldRPS, r.warmRPS, r.thumbRPS,
			r.coldRPS/r.thumbRPS, r.warmRPS/r.coldRPS, imgproxy, vsImgproxy, r.failed)
	}
	tw.Flush()
}
