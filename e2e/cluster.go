// Package e2e runs hotpath as real processes, the way it is deployed: it
// builds the binary, starts `serve` and `worker` processes against shared
// backends and talks to them over HTTP. The end-to-end tests and the
// scale-out benchmark use it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotpath/hotpath/nats"
)

// Build compiles cmd/hotpath into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	bin := filepath.Join(dir, "hotpath")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hotpath")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hotpath: %v\n%s", err, out)
	}
	return bin, nil
}

// Proc is a running hotpath process.
type Proc struct {
	Name string
	// URL is the base URL a serve process listens on.
	URL string
	cmd *exec.Cmd
	log *lineLog
	// done is closed when the process has exited.
	done chan struct{}
	err  error
}

// Start runs `hotpath args…` with env added to this process's environment
// and waits until a JSON log line on stderr has msg == ready (for serve,
// "listening"), or the process exits, or timeout passes.
func Start(bin, name string, env []string, ready string, timeout time.Duration, args ...string) (*Proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	p := &Proc{Name: name, cmd: cmd, log: &lineLog{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	readyURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.log.add(line)
			var entry struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == ready {
				select {
				case readyURL <- entry.URL:
				default:
				}
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.URL = <-readyURL:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, p.err, p.log.tail(30))
	case <-time.After(timeout):
		p.Kill()
		return nil, fmt.Errorf("%s not ready within %v:\n%s", name, timeout, p.log.tail(30))
	}
}

// Kill ends the process at once (SIGKILL), as a crash would, and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to shut down (SIGTERM) and waits up to timeout
// before killing it. It returns the process's exit error, if any.
func (p *Proc) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s did not stop within %v", p.Name, timeout)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Logs returns the last n lines the process wrote on stderr.
func (p *Proc) Logs(n int) string { return p.log.tail(n) }

// lineLog keeps a process's stderr lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > 20000 {
		l.lines = append([]string(nil), l.lines[10000:]...)
	}
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

// CreateKey runs `hotpath keys create` with the settings of args (the
// "--flag value" pairs every process of a cluster shares) that keys takes,
// and returns the printed secret.
func CreateKey(ctx context.Context, bin string, env []string, tenant, scope string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"keys", "create", "--tenant", tenant, "--scope", scope, "--name", "e2e"}, keysArgs(args)...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hotpath keys create: %v: %s", err, stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 1 && len(f[0]) >= 32 {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("hotpath keys create printed no key: %q", stdout.String())
}

// keysFlags are the settings `hotpath keys` takes: where the keys are, and
// the cache that may hold them.
var keysFlags = map[string]bool{"--config": true, "--data": true, "--db": true, "--cache": true, "--cache-key-ttl": true}

// keysArgs returns the pairs of args whose flag keysFlags names.
func keysArgs(args []string) []string {
	var out []string
	for i := 0; i+1 < len(args); i += 2 {
		if keysFlags[args[i]] {
			out = append(out, args[i], args[i+1])
		}
	}
	return out
}

// DeleteStream removes a job stream that a test or benchmark made on a shared
// NATS server.
func DeleteStream(url, stream, subject string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := nats.New(ctx, nats.Config{URL: url, Stream: stream, Subject: subject, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("delete stream %s: %w", stream, err)
	}
	defer q.Close()
	return q.DeleteStream(ctx)
}
