// Package emulator is the base every CRM emulator (sftest, hstest, pdtest)
// extends: the HTTP listener, an OAuth token store, the controls tests need
// on it (forced expiry, uninstall, revocation), fault hooks that every route
// gets without writing a line (an error status N times, latency, the
// response dropped after the write is applied), a ledger of the writes
// received, the small wire helpers (JSON, redirects, OAuth errors) that all
// three shared, and what tests hold an emulator with (ForTest, Clock,
// Counter).
//
// What is left to each emulator is its CRM: its data, its wire formats, its
// rules and its error shapes, written from the vendor's documentation.
//
// The base imports neither testing nor net/http/httptest, so that an
// emulator can run in the development server (make run) for hours: every map
// it holds is capped, and what is dead is forgotten.
package emulator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// closeWait bounds how long Close waits for the requests being answered, so
// that a hung callout cannot hold a shutdown.
const closeWait = 5 * time.Second

// Config configures the Base of an emulator.
type Config struct {
	// Name prefixes the errors the base returns ("sftest").
	Name string
	// Addr is the address to listen on; empty means a free port of the
	// loopback interface ("127.0.0.1:0").
	Addr string
	// Now is the emulator's clock (tokens, ledger); nil means time.Now.
	Now func() time.Time
	// Tokens is the emulator's token store, on which ExpireAccessToken,
	// ExpireAccessTokens and RevokeAll act; nil when it has none.
	Tokens TokenControl
	// FaultAnswer writes the body of an injected error status in the CRM's
	// own error shape; the status and any Retry-After are already set in
	// the header when it is called, and it must call WriteHeader(status).
	// Nil means {"error": "<status text>"}.
	FaultAnswer func(w http.ResponseWriter, status int)
	// LedgerSize caps the writes the ledger keeps, the oldest dropped first;
	// 0 means DefaultLedgerSize.
	LedgerSize int
}

// Base is the part of an emulator that does not depend on the CRM. An
// emulator's Server embeds it, so that its exported methods (Close, Inject,
// Writes, ExpireAccessToken...) are the emulator's.
type Base struct {
	// URL is "http://" and the address the emulator listens on. It is set
	// before the first request is served.
	URL string

	name        string
	now         func() time.Time
	tokens      TokenControl
	faultAnswer func(http.ResponseWriter, int)
	faults      faults
	ledger      ledger

	srv       *http.Server
	ln        net.Listener
	closeOnce sync.Once

	// mu guards the connections and the count of requests being answered,
	// which Close needs.
	mu       sync.Mutex
	conns    map[net.Conn]http.ConnState
	inflight int
	// requests counts the requests received (Requests).
	requests atomic.Int64
	closing  bool
}

// Start listens on cfg.Addr and serves h through b: every request passes the
// fault hooks, and every write is entered in the ledger. b is the Base
// embedded in the emulator's Server; Start sets its URL before it serves.
func Start(b *Base, cfg Config, h http.Handler) error {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", cfg.Name, addr, err)
	}
	b.name, b.now, b.tokens, b.faultAnswer = cfg.Name, cfg.Now, cfg.Tokens, cfg.FaultAnswer
	if b.now == nil {
		b.now = time.Now
	}
	b.ledger.init(cfg.LedgerSize)
	b.conns = map[net.Conn]http.ConnState{}
	b.ln = ln
	b.URL = "http://" + ln.Addr().String()
	b.srv = &http.Server{
		Handler:           b.serve(h),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         b.track,
	}
	go b.srv.Serve(ln)
	return nil
}

// Now is the emulator's clock.
func (b *Base) Now() time.Time { return b.now() }

// ExpireAccessToken makes one access token expire now, as its lifetime
// passing would; it reports whether the token was live.
func (b *Base) ExpireAccessToken(token string) bool {
	return b.tokens != nil && b.tokens.ExpireAccess(token)
}

// ExpireAccessTokens makes every access token issued so far expire now, as
// their lifetime passing would; refresh tokens stay valid.
func (b *Base) ExpireAccessTokens() {
	if b.tokens != nil {
		b.tokens.ExpireAllAccess()
	}
}

// RevokeAll revokes every code, refresh and access token of every account.
func (b *Base) RevokeAll() {
	if b.tokens != nil {
		b.tokens.RevokeAll()
	}
}

// Close stops the emulator as httptest's Server did: no new connection,
// idle ones closed, and the requests being answered given up to 5 seconds
// to finish before their connections are closed too. It may be called more
// than once, and on a Base that never started.
func (b *Base) Close() {
	if b.srv == nil {
		return
	}
	b.closeOnce.Do(func() {
		b.srv.SetKeepAlivesEnabled(false)
		b.ln.Close()
		b.mu.Lock()
		b.closing = true
		for c, st := range b.conns {
			if st == http.StateIdle || st == http.StateNew {
				c.Close()
			}
		}
		b.mu.Unlock()
		deadline := time.Now().Add(closeWait)
		for ; time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			b.mu.Lock()
			n := b.inflight
			b.mu.Unlock()
			if n == 0 {
				break
			}
		}
		// A handler that returned may not have written its answer to the
		// connection yet: Shutdown waits for the connections to go idle
		// (the ones still new were closed above, so it does not wait for
		// those), then Close ends whatever is left at the deadline.
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		_ = b.srv.Shutdown(ctx)
		cancel()
		b.srv.Close()
	})
}

// track follows the connections' states, so that Close can end the idle
// ones at once (http.Server.Shutdown would wait 5 seconds for a connection
// that a browser opened ahead and never used).
func (b *Base) track(c net.Conn, st http.ConnState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch st {
	case http.StateNew, http.StateActive, http.StateIdle:
		b.conns[c] = st
		if b.closing && st == http.StateIdle {
			c.Close()
		}
	default:
		delete(b.conns, c)
	}
}

// serve wraps the emulator's routes with the fault hooks and the ledger.
func (b *Base) serve(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.inflight++
		b.mu.Unlock()
		b.requests.Add(1)
		defer func() {
			b.mu.Lock()
			b.inflight--
			b.mu.Unlock()
		}()

		n := &note{}
		r = r.WithContext(context.WithValue(r.Context(), noteKey{}, n))
		var rec *Write
		var body []byte
		if isWrite(r.Method) {
			rec = b.ledger.receive(r, b.now())
			body = rec.Body
		}
		f := b.faults.take(r, body)
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				b.ledger.enter(rec, n, 0)
				return
			}
		}
		switch {
		case f.Status != 0:
			b.answerFault(w, f)
			if rec != nil {
				rec.Injected = true
			}
			b.ledger.enter(rec, n, f.Status)
		case f.Drop:
			held := &heldAnswer{header: http.Header{}}
			h.ServeHTTP(held, r)
			if rec != nil {
				rec.Dropped = true
			}
			b.ledger.enter(rec, n, held.status())
			hangUp(w)
		default:
			sw := &statusWriter{ResponseWriter: w}
			h.ServeHTTP(sw, r)
			b.ledger.enter(rec, n, sw.status())
		}
	})
}

// Requests counts every request the emulator received, of any method and
// route, faults included: what a client's calls cost, seen from the CRM.
func (b *Base) Requests() int64 { return b.requests.Load() }

// hangUp closes the connection without a byte of answer: the client sees
// the connection end (io.EOF) after its request was applied.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not HTTP/1: abort the stream, which sends nothing either.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// answered is the status of an answer: the first final status written, 200
// when the handler wrote a body without one or wrote nothing at all, as
// net/http does.
type answered int

func (a *answered) set(code int) {
	if *a == 0 && code >= 200 {
		*a = answered(code)
	}
}

func (a answered) status() int {
	if a == 0 {
		return http.StatusOK
	}
	return int(a)
}

// statusWriter passes an answer through and remembers its status.
type statusWriter struct {
	http.ResponseWriter
	answered
}

func (s *statusWriter) WriteHeader(code int) {
	s.set(code)
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.set(http.StatusOK)
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// heldAnswer takes an answer that will never be sent, for a dropped
// response: the handler runs to the end, its status is kept for the ledger.
type heldAnswer struct {
	header http.Header
	answered
}

func (h *heldAnswer) Header() http.Header { return h.header }

func (h *heldAnswer) WriteHeader(code int) { h.set(code) }

func (h *heldAnswer) Write(p []byte) (int, error) {
	h.set(http.StatusOK)
	return len(p), nil
}
