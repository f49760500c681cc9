package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
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

// Metrics and the jobs view are the operator address's (METRICS_ADDR,
// package operator): the public port has neither.
func TestPublicPortServesNoMetricsNorJobsView(t *testing.T) {
	a := newApp(t, "", nil)
	for _, p := range []string{"/metrics", "/jobs", "/jobs/", "/jobs/api/jobs?state=available", "/jobs/api/states", "/jobs/assets/main.js"} {
		r := do(t, mustGet(t, a.url()+p))
		if r.status != http.StatusNotFound {
			t.Fatalf("%s on the public port = %d, want 404", p, r.status)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, a.url()+"/jobs/api/jobs/cancel", strings.NewReader(`{"ids":["1"]}`))
	if r := do(t, req); r.status != http.StatusNotFound {
		t.Fatalf("POST /jobs/api/jobs/cancel on the public port = %d, want 404", r.status)
	}
}

// fakeWorkers stands for the job engine's state (crmsync.Engine.Ready,
// tested in crmsync).
type fakeWorkers struct{ err error }

func (w *fakeWorkers) Ready() error { return w.err }

// readyz is 200 only while every check passes; each failing check answers
// 503 naming it. healthz (liveness) checks nothing.
func TestReadyzNamesTheFailingCheck(t *testing.T) {
	workers := &fakeWorkers{}
	a := newAppWith(t, "", func(_ string, d *Deps) { d.Workers = workers })
	if r := do(t, mustGet(t, a.url()+"/readyz")); r.status != 200 || !strings.Contains(string(r.body), `"workers":"ok"`) {
		t.Fatalf("readyz = %d %s", r.status, r.body)
	}
	notReady := func(check string) {
		t.Helper()
		e := do(t, mustGet(t, a.url()+"/readyz")).wantError(t, 503, qwoty.CodeUnavailable)
		if !strings.HasPrefix(e.Message, "not ready: "+check) {
			t.Fatalf("readyz says %q, want the %s check", e.Message, check)
		}
	}

	a.srv.Drain()
	notReady("shutdown")
	a.srv.draining.Store(false)

	workers.err = errors.New("the job workers are stopping")
	notReady("workers")
	workers.err = nil

	pool := storetest.Pool(t, a.db)
	if _, err := pool.Exec(context.Background(), `UPDATE schema_version SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	notReady("migrations")
	// A database ahead of this version (mid rolling deploy) is fine.
	if _, err := pool.Exec(context.Background(), `UPDATE schema_version SET version = version + 2`); err != nil {
		t.Fatal(err)
	}
	if r := do(t, mustGet(t, a.url()+"/readyz")); r.status != 200 {
		t.Fatalf("readyz with the database ahead = %d %s", r.status, r.body)
	}

	a.db.Close()
	notReady("database")
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
