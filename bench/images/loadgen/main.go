// Command loadgen uploads images to an image service at a fixed concurrency
// and reports uploads/s, latency percentiles, failures and the peak resident
// memory of the server's process tree. bench/images/run.sh drives it against
// hotpath and the FastAPI baseline with the same files and request shape.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one run's figures, printed as one JSON line.
type Result struct {
	Name          string  `json:"name"`
	Concurrency   int     `json:"concurrency"`
	Uploads       int     `json:"uploads"`
	Failed        int     `json:"failed"`
	Seconds       float64 `json:"seconds"`
	UploadsPerSec float64 `json:"uploads_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	// CPUPerUpload is the server tree's user+system CPU seconds per upload:
	// its cost, independent of what else runs on the machine.
	CPUPerUpload float64 `json:"cpu_sec_per_upload"`
	FirstError   string  `json:"first_error,omitempty"`
}

func main() {
	url := flag.String("url", "", "upload URL, e.g. http://127.0.0.1:8080/v1/images")
	header := flag.String("header", "", `auth header, "Name: value"`)
	dir := flag.String("dir", "", "directory of .jpg files to upload, round-robin")
	field := flag.String("field", "file", "multipart field name")
	concurrency := flag.Int("c", 1, "concurrent uploads")
	total := flag.Int("n", 10, "uploads in the measured run")
	warmup := flag.Int("warmup", 1, "uploads before measuring")
	pid := flag.Int("pid", 0, "server process whose tree's RSS is sampled (0: none)")
	name := flag.String("name", "", "label of this run")
	flag.Parse()
	if *url == "" || *dir == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url and -dir are required")
		os.Exit(2)
	}
	paths, _ := filepath.Glob(filepath.Join(*dir, "*.jpg"))
	if len(paths) == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: no .jpg in %s\n", *dir)
		os.Exit(2)
	}
	bodies := make([][]byte, len(paths))
	contentTypes := make([]string, len(paths)) // each body has its own boundary
	for i, p := range paths {
		var err error
		if bodies[i], contentTypes[i], err = multipartFile(*field, p); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
			os.Exit(1)
		}
	}
	hname, hvalue, _ := strings.Cut(*header, ":")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}, Timeout: 10 * time.Minute}
	upload := func(i int) (time.Duration, error) {
		req, _ := http.NewRequest("POST", *url, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", contentTypes[i%len(bodies)])
		if hname != "" {
			req.Header.Set(strings.TrimSpace(hname), strings.TrimSpace(hvalue))
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
		}
		return time.Since(start), nil
	}
	for i := range *warmup {
		if _, err := upload(i); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: warmup upload: %v\n", err)
			os.Exit(1)
		}
	}

	var peak atomic.Int64
	cpuBefore := treeCPU(*pid)
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if *pid > 0 {
				if rss := treeRSS(*pid); rss > peak.Load() {
					peak.Store(rss)
				}
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		failed    int
		firstErr  string
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *total {
					return
				}
				d, err := upload(i)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	cpu := treeCPU(*pid) - cpuBefore

	slices.Sort(latencies)
	r := Result{
		Name: *name, Concurrency: *concurrency, Uploads: len(latencies), Failed: failed,
		Seconds: elapsed.Seconds(), UploadsPerSec: float64(len(latencies)) / elapsed.Seconds(),
		P50ms: ms(percentile(latencies, 0.50)), P99ms: ms(percentile(latencies, 0.99)),
		PeakRSSMB: float64(peak.Load()) / (1 << 20), FirstError: firstErr,
	}
	if len(latencies) > 0 {
		r.CPUPerUpload = cpu / float64(len(latencies))
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// multipartFile returns a multipart body holding the file at path under
// field, built once so that the load generator spends little CPU per upload.
func multipartFile(field, path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile(field, filepath.Base(path))
	if err != nil {
		return nil, "", err
	}
	w.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType(), nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// treeRSS returns the summed resident memory in bytes of pid and all its
// descendants, read from /proc.
func treeRSS(pid int) int64 {
	var total int64
	for _, p := range processTree(pid) {
		total += rssOf(p)
	}
	return total
}

// treeCPU returns the user+system CPU seconds pid and its live descendants
// have used, including their reaped children.
func treeCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	var ticks int64
	for _, p := range processTree(pid) {
		fields := statFields(p)
		// After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
		for _, i := range []int{11, 12, 13, 14} {
			if len(fields) > i {
				v, _ := strconv.ParseInt(fields[i], 10, 64)
				ticks += v
			}
		}
	}
	return float64(ticks) / 100 // USER_HZ is 100 on Linux
}

// processTree returns pid and all its descendants.
func processTree(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fields := statFields(p); len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// statFields returns the fields of /proc/PID/stat after the command name.
func statFields(pid int) []string {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	return strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
}

// rssOf returns the resident memory of one process in bytes (VmRSS).
func rssOf(pid int) int64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
