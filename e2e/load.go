package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// LoadResult is what one load run measured.
type LoadResult struct {
	Uploads int
	Failed  int
	// Accepted is the wall time until the last upload was answered.
	Accepted time.Duration
	// Completed is the wall time until every upload had its variants: the
	// same as Accepted for synchronous uploads, later for async ones.
	Completed  time.Duration
	P50, P99   time.Duration
	FirstError string
}

// AcceptedPerSec is uploads answered per second.
func (r LoadResult) AcceptedPerSec() float64 {
	return float64(r.Uploads-r.Failed) / r.Accepted.Seconds()
}

// CompletedPerSec is uploads with all their variants per second.
func (r LoadResult) CompletedPerSec() float64 {
	return float64(r.Uploads-r.Failed) / r.Completed.Seconds()
}

// Load uploads n bodies (round-robin over bodies) through clients
// (round-robin over servers) with concurrency requests in flight. With async
// it uses ?async=true and then waits until every job has finished.
func Load(clients []*Client, bodies [][]byte, n, concurrency int, async bool) LoadResult {
	var next, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var jobs []string
	var firstErr string
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c := clients[i%len(clients)]
				path, want := "/v1/images", http.StatusCreated
				if async {
					path, want = "/v1/images?async=true", http.StatusAccepted
				}
				t0 := time.Now()
				st, body, err := c.Do("POST", path, "application/octet-stream", bytes.NewReader(bodies[i%len(bodies)]))
				d := time.Since(t0)
				mu.Lock()
				latencies = append(latencies, d)
				if err == nil && st != want {
					err = fmt.Errorf("status %d: %.200s", st, body)
				}
				if err != nil {
					failed.Add(1)
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else if async {
					var a Accepted
					if json.Unmarshal(body, &a) == nil {
						jobs = append(jobs, a.Job.ID)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res := LoadResult{Uploads: n, Failed: int(failed.Load()), Accepted: time.Since(start), FirstError: firstErr}
	res.Completed = res.Accepted
	if async {
		for _, id := range jobs {
			j, err := clients[0].WaitJob(id, 10*time.Minute)
			if err == nil && j.State != "succeeded" {
				err = fmt.Errorf("job %s %s: %s", id, j.State, j.Error)
			}
			if err != nil {
				res.Failed++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
			}
		}
		res.Completed = time.Since(start)
	}
	slices.Sort(latencies)
	if len(latencies) > 0 {
		res.P50 = latencies[len(latencies)/2]
		res.P99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
	}
	return res
}
