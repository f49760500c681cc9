package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
)

func scopeFor(c *qwoty.Connection, record string) store.Scope {
	return store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: record}
}

func TestPanicBecomesJSONError(t *testing.T) {
	a := newApp(t, "", nil)
	a.srv.engine.GET("/test-panic", func(*gin.Context) { panic("boom") })
	do(t, mustGet(t, a.url()+"/test-panic")).wantError(t, 500, qwoty.CodeInternal)
	do(t, mustGet(t, a.url()+"/no/such/page")).wantError(t, 404, qwoty.CodeNotFound)
}

func TestRequestIDIsKeptOrMade(t *testing.T) {
	a := newApp(t, "", nil)
	req := mustGet(t, a.url()+"/healthz")
	req.Header.Set(web.HeaderRequestID, "lb-0123456789")
	if got := do(t, req).header.Get(web.HeaderRequestID); got != "lb-0123456789" {
		t.Fatalf("incoming request id replaced: %q", got)
	}
	req.Header.Set(web.HeaderRequestID, "bad id <script>")
	if got := do(t, req).header.Get(web.HeaderRequestID); got == "" || got == "bad id <script>" {
		t.Fatalf("malformed request id kept: %q", got)
	}
}

// Metrics are the operator address's (METRICS_ADDR): the public port has
// no /metrics.
func TestPublicPortServesNoMetrics(t *testing.T) {
	a := newApp(t, "", nil)
	if r := do(t, mustGet(t, a.url()+"/metrics")); r.status != http.StatusNotFound {
		t.Fatalf("/metrics on the public port = %d, want 404", r.status)
	}
}

func TestReadyzFollowsDatabaseAndDraining(t *testing.T) {
	a := newApp(t, "", nil)
	if r := do(t, mustGet(t, a.url()+"/readyz")); r.status != 200 {
		t.Fatalf("readyz = %d", r.status)
	}
	a.srv.draining.Store(true)
	do(t, mustGet(t, a.url()+"/readyz")).wantError(t, 503, qwoty.CodeUnavailable)
	a.srv.draining.Store(false)
	a.db.Close()
	do(t, mustGet(t, a.url()+"/readyz")).wantError(t, 503, qwoty.CodeUnavailable)
	if r := do(t, mustGet(t, a.url()+"/healthz")); r.status != 200 {
		t.Fatalf("healthz must not depend on the database: %d", r.status)
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	a := newApp(t, "", nil)
	started := make(chan struct{})
	a.srv.engine.GET("/test-slow", func(c *gin.Context) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		c.String(200, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.srv.Serve(ctx, ln, 5*time.Second) }()

	result := make(chan response, 1)
	go func() { result <- do(t, mustGet(t, "http://"+ln.Addr().String()+"/test-slow")) }()
	<-started
	cancel() // SIGTERM
	r := <-result
	if r.status != 200 || string(r.body) != "finished" {
		t.Fatalf("in-flight request: %d %q", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}

func TestShutdownDrainsBeforeClosing(t *testing.T) {
	a := newApp(t, "", nil)
	a.srv.drain = 400 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.srv.Serve(ctx, ln, 5*time.Second) }()
	base := "http://" + ln.Addr().String()
	if r := do(t, mustGet(t, base+"/readyz")); r.status != 200 {
		t.Fatalf("readyz before shutdown: %d", r.status)
	}
	cancel()
	time.Sleep(100 * time.Millisecond)
	// Draining: still serving, but telling the load balancer to go away.
	do(t, mustGet(t, base+"/readyz")).wantError(t, 503, qwoty.CodeUnavailable)
	if r := do(t, mustGet(t, base+"/healthz")); r.status != 200 {
		t.Fatalf("requests during the drain: %d", r.status)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
