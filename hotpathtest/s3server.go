package hotpathtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// VersitygwInstall is the command that installs the S3 server the tests use.
const VersitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// StartS3 returns an s3:// store URL for a fresh, empty bucket, with the
// credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (set with t.Setenv,
// so child processes inherit them and the test cannot be parallel).
//
// By default it starts a real versitygw on a free 127.0.0.1 port over a
// temporary directory and stops it when the test ends. When HOTPATH_TEST_S3
// holds an s3:// URL of an existing server (credentials already in the
// environment), StartS3 uses it instead, under a random key prefix. A missing
// versitygw binary fails the test with the command that installs it.
func StartS3(t testing.TB) string {
	t.Helper()
	if existing := os.Getenv("HOTPATH_TEST_S3"); existing != "" {
		return withTestPrefix(t, existing)
	}
	bin := versitygwPath()
	if bin == "" {
		t.Fatalf("versitygw not found in ~/go/bin or on PATH; install it with: %s", VersitygwInstall)
	}
	addr, access, secret := startVersitygw(t, bin)
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	return "s3://hotpath-" + s3RandomName(6) + "?endpoint=" + addr + "&secure=false&region=us-east-1&create=true"
}

// versitygwPath finds the versitygw binary where go install puts it ($GOBIN,
// $GOPATH/bin, ~/go/bin), then on PATH.
func versitygwPath() string {
	var candidates []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "versitygw"))
	}
	for gopath := range strings.SplitSeq(os.Getenv("GOPATH"), string(os.PathListSeparator)) {
		if gopath != "" {
			candidates = append(candidates, filepath.Join(gopath, "bin", "versitygw"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", "versitygw"))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	return ""
}

// startVersitygw runs versitygw over a temporary directory with credentials
// of its own, waits until it answers a request signed with them and returns
// its host:port and the credentials. The port is picked free just before
// the start; if another process takes it first, it tries again. The signed
// probe is what tells this server from one that another test started on
// the same port a moment earlier: test packages run in parallel, and a
// server that failed to bind must not pass for ready because the other one
// answers.
func startVersitygw(t testing.TB, bin string) (addr, access, secret string) {
	t.Helper()
	root := t.TempDir()
	access, secret = "hp"+s3RandomName(8), s3RandomName(20)
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		addr = vgwFreeAddr(t)
		log := &vgwOutput{}
		// No --keep-alive: versitygw streams request bodies (fasthttp's
		// StreamRequestBody), where a body left partly unread is parsed as
		// the start of the next request on the connection; one request a
		// connection keeps every test on its own bytes.
		cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", root)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+access, "ROOT_SECRET_KEY="+secret, "VGW_KEEP_ALIVE=false")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start versitygw: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			cmd.Process.Kill()
			<-exited
		}
		if vgwWaitReady(addr, access, secret, exited, 10*time.Second) {
			t.Cleanup(stop)
			return addr, access, secret
		}
		stop()
		lastLog = log.String()
	}
	t.Fatalf("versitygw did not start; its output:\n%s", lastLog)
	return "", "", ""
}

// vgwWaitReady polls addr until a ListBuckets signed with the server's
// credentials succeeds; it gives up when the process exits, when something
// else answers (an S3 error: another server holds the port) or when the
// timeout passes.
func vgwWaitReady(addr, access, secret string, exited <-chan struct{}, timeout time.Duration) bool {
	client, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), Region: "us-east-1"})
	if err != nil {
		return false
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := client.ListBuckets(ctx)
		cancel()
		if err == nil {
			return true
		}
		if minio.ToErrorResponse(err).Code != "" {
			return false // an S3 answer refusing our credentials: not our server
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// vgwFreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func vgwFreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// withTestPrefix adds a random key prefix to an existing store URL so that
// tests sharing one bucket do not see each other's blobs.
func withTestPrefix(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		t.Fatalf("HOTPATH_TEST_S3=%q is not an s3://bucket?endpoint=… URL", raw)
	}
	u.Path = "/" + strings.Trim(strings.Trim(u.Path, "/")+"/hotpathtest-"+s3RandomName(6), "/")
	return u.String()
}

// s3RandomName returns n random bytes in hex, for names no other test uses.
func s3RandomName(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// vgwOutput collects a child process's output for the failure message.
type vgwOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *vgwOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *vgwOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
