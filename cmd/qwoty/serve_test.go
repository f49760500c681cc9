package main

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer written by the server's logger while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func status(t *testing.T, url, user, password string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/html")
	if password != "" {
		req.SetBasicAuth(user, password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// `qwoty serve`: the operator address has /metrics and the jobs view (behind
// the operator credential), the public port has neither; on SIGTERM /readyz
// turns 503 at once while the operator address still answers, then
// everything stops, in order, within QWOTY_SHUTDOWN_TIMEOUT.
func TestServeOperatorAddressAndShutdown(t *testing.T) {
	setEnv(t)
	port, ops := freePort(t), freePort(t)
	t.Setenv("PORT", strconv.Itoa(port))
	t.Setenv("METRICS_ADDR", "127.0.0.1:"+strconv.Itoa(ops))
	t.Setenv("QWOTY_OPERATOR_USER", "ops")
	t.Setenv("QWOTY_OPERATOR_PASSWORD", "correct horse battery")
	t.Setenv("QWOTY_SHUTDOWN_TIMEOUT", "5s")
	public, operator := "http://127.0.0.1:"+strconv.Itoa(port), "http://127.0.0.1:"+strconv.Itoa(ops)

	var logs syncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run([]string{"serve"}, &logs, &logs) }()
	deadline := time.Now().Add(60 * time.Second)
	for status(t, public+"/readyz", "", "") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		url, user, password string
		want                int
	}{
		{public + "/metrics", "", "", 404},
		{public + "/jobs/", "ops", "correct horse battery", 404},
		{operator + "/metrics", "", "", 200},
		{operator + "/jobs/", "", "", 401},
		{operator + "/jobs/", "ops", "wrong horse battery", 401},
		{operator + "/jobs/", "ops", "correct horse battery", 200},
	} {
		if got := status(t, c.url, c.user, c.password); got != c.want {
			t.Fatalf("%s as %q: %d, want %d", c.url, c.user, got, c.want)
		}
	}

	began := time.Now()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := status(t, public+"/readyz", "", ""); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz right after SIGTERM: %d, want 503", got)
	}
	if got := status(t, operator+"/metrics", "", ""); got != http.StatusOK {
		t.Fatalf("the operator address during the drain: %d", got)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop:\n%s", logs.String())
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("the shutdown took %s, over its 5 s bound", took)
	}
	out := logs.String()
	last := -1
	for _, step := range []string{`"shutting down: /readyz answers 503`, `"the job workers stopped"`, `"HTTP drained and closed"`, `"stopped"`} {
		i := strings.Index(out, step)
		if i < 0 || i < last {
			t.Fatalf("the log lacks %s, or out of order:\n%s", step, out)
		}
		last = i
	}
	if strings.Contains(out, "correct horse battery") {
		t.Fatal("the operator password is in the log")
	}
}

// The shutdown's parts fit in its bound, whatever the bound.
func TestShutdownPlanFitsItsBound(t *testing.T) {
	for _, timeout := range []time.Duration{2 * time.Second, 5 * time.Second, 25 * time.Second, 10 * time.Minute} {
		for _, dev := range []bool{false, true} {
			p := planShutdown(timeout, dev)
			if p.drain+p.httpGrace >= timeout || p.jobs >= timeout || p.jobs <= 0 || p.httpGrace <= 0 || (dev && p.drain != 0) ||
				(!dev && p.drain != min(drainDelay, timeout/5)) {
				t.Errorf("%s (dev %v): %+v", timeout, dev, p)
			}
		}
	}
}
