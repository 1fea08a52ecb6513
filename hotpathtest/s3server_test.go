package hotpathtest

import (
	"testing"
	"time"
)

// TestVersitygwProbeKnowsItsServer checks the readiness probe tells the
// server it started from another one on the same port: with the server's
// credentials it is ready, with another server's it is not (StartS3 then
// tries another port instead of testing against a stranger).
func TestVersitygwProbeKnowsItsServer(t *testing.T) {
	bin := versitygwPath()
	if bin == "" {
		t.Fatalf("versitygw not found; install it with: %s", VersitygwInstall)
	}
	addr, access, secret := startVersitygw(t, bin)
	running := make(chan struct{})
	if !vgwWaitReady(addr, access, secret, running, 5*time.Second) {
		t.Fatal("the probe with the server's own credentials failed")
	}
	start := time.Now()
	if vgwWaitReady(addr, access+"x", secret, running, 5*time.Second) {
		t.Fatal("the probe accepted a server started with other credentials")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the probe took %v to see another server's refusal; it should not wait for its timeout", d)
	}
}
