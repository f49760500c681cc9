package emulator_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// toy is the smallest emulator: a CRM of items, each account writing its
// own, behind bearer tokens of the base's store. Its handler counts what it
// applies, so that the tests can tell a write applied from one refused.
type toy struct {
	emulator.Base
	tokens *emulator.Tokens[string] // the grant is the account's name

	mu      sync.Mutex
	applied []string // bodies, in the order applied

	slowEntered chan struct{} // GET /slow says here that its handler runs
}

func startToy(t *testing.T, cfg emulator.Config) *toy {
	t.Helper()
	c := &toy{slowEntered: make(chan struct{}, 1)}
	c.tokens = emulator.NewTokens(emulator.TokenConfig[string]{
		Now: c.Now, CodeTTL: time.Minute, AccessTTL: time.Hour,
		Account: func(account string) string { return account },
	})
	cfg.Name, cfg.Tokens = "toy", c.tokens
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items", c.create)
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "[]") })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		c.slowEntered <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "[]")
	})
	mux.HandleFunc("POST /oauth/token", emulator.Credentials(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		emulator.JSON(w, "application/json", http.StatusOK, map[string]string{"access_token": "x"})
	}))
	if err := emulator.Start(&c.Base, cfg, mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (c *toy) create(w http.ResponseWriter, r *http.Request) {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if _, state := c.tokens.Authenticate(r, tok); state != emulator.Live {
		emulator.JSON(w, "application/json", http.StatusUnauthorized, map[string]string{"error": state.String()})
		return
	}
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.applied = append(c.applied, string(body))
	c.mu.Unlock()
	emulator.JSON(w, "application/json", http.StatusCreated, map[string]int{"length": len(body)})
}

func (c *toy) appliedBodies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.applied...)
}

// post sends a write with a fresh connection, so that the transport never
// retries it on its own, and returns the status and body, or the error.
func post(t *testing.T, c *toy, token, path, body string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestStartServesOnTheLoopbackAndClosePrevailsOverKeepAlive(t *testing.T) {
	c := startToy(t, emulator.Config{})
	if !strings.HasPrefix(c.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want a loopback address", c.URL)
	}
	var busy toy
	if err := emulator.Start(&busy.Base, emulator.Config{Name: "toy", Addr: strings.TrimPrefix(c.URL, "http://")}, http.NotFoundHandler()); err == nil {
		busy.Close()
		t.Fatalf("a second emulator started on the busy %s", c.URL)
	}
	// A kept-alive idle connection must not keep the emulator alive.
	client := &http.Client{}
	resp, err := client.Get(c.URL + "/items")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited on an idle connection")
	}
	c.Close() // twice is fine
	if _, err := client.Get(c.URL + "/items"); err == nil {
		t.Errorf("%s still answers after Close", c.URL)
	}
}

func TestCloseWaitsForTheRequestsBeingAnswered(t *testing.T) {
	c := startToy(t, emulator.Config{})
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(c.URL + "/slow")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		got <- err
	}()
	// Close once the handler runs, not after a guess at how long that takes:
	// on a busy machine the request may not have been read yet, and a
	// connection with no request under way is closed at once, by design.
	select {
	case <-c.slowEntered:
	case err := <-got:
		t.Fatalf("the request ended before its handler ran: %v", err)
	}
	c.Close()
	if err := <-got; err != nil {
		t.Errorf("the request under way when Close was called: %v, want its answer", err)
	}
}

// An injected status answers N times instead of the CRM, with Retry-After
// and the CRM's error shape, and applies nothing; then the CRM answers.
func TestFaultStatusAnswersNTimesWithoutApplying(t *testing.T) {
	c := startToy(t, emulator.Config{FaultAnswer: func(w http.ResponseWriter, status int) {
		emulator.JSON(w, "application/json", status, map[string]any{"toyError": status})
	}})
	tok := c.tokens.Issue("acme", "").Token
	if err := c.Inject(emulator.Fault{Route: "POST /items", Times: 2, Status: 503, RetryAfter: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, c.URL+"/items", strings.NewReader("a"))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || string(b) != `{"toyError":503}`+"\n" {
			t.Errorf("request %d: %d Retry-After %q %s, want 503, Retry-After 2 and the CRM's shape", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	if status, body, err := post(t, c, tok, "/items", "b"); err != nil || status != http.StatusCreated {
		t.Errorf("third request: %d %s %v, want the CRM's 201 once the fault is spent", status, body, err)
	}
	if got := c.appliedBodies(); len(got) != 1 || got[0] != "b" {
		t.Errorf("applied %q, want only the write the fault let through", got)
	}
	w := c.Writes()
	if len(w) != 3 || !w[0].Injected || w[0].Status != 503 || !w[1].Injected || w[2].Injected || w[2].Status != 201 {
		t.Errorf("ledger %s, want two injected 503s then a 201", summary(w))
	}
}

func TestFaultRouteMatchesAsTheServeMuxRoutes(t *testing.T) {
	c := startToy(t, emulator.Config{})
	if err := c.Inject(emulator.Fault{Route: "GET /items", Status: 500}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := post(t, c, "", "/items", ""); status != http.StatusUnauthorized {
		t.Errorf("POST /items under a GET fault: %d, want the CRM's own 401", status)
	}
	for range 3 { // Times 0: until cleared
		resp, err := http.Get(c.URL + "/items")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 500 {
			t.Errorf("GET /items: %d, want the injected 500", resp.StatusCode)
		}
	}
	c.ClearFaults()
	resp, err := http.Get(c.URL + "/items")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /items after ClearFaults: %d, want 200", resp.StatusCode)
	}
}

// A fault with a Body takes only the writes of its route whose body holds
// it: the others, and the reads, pass to the CRM.
func TestFaultBodyNarrowsTheRoute(t *testing.T) {
	c := startToy(t, emulator.Config{})
	tok := c.tokens.Issue("acme", "").Token
	if err := c.Inject(emulator.Fault{Route: "/items", Body: "order", Times: 1, Status: 500}); err != nil {
		t.Fatal(err)
	}
	if status, _, err := post(t, c, tok, "/items", "a quote"); err != nil || status != http.StatusCreated {
		t.Errorf("a write without the body: %d %v, want the CRM's 201", status, err)
	}
	resp, err := http.Get(c.URL + "/items")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a read under a body fault: %d, want the CRM's 200", resp.StatusCode)
	}
	if status, _, err := post(t, c, tok, "/items", "an order"); err != nil || status != http.StatusInternalServerError {
		t.Errorf("the write with the body: %d %v, want the injected 500", status, err)
	}
	if status, _, err := post(t, c, tok, "/items", "another order"); err != nil || status != http.StatusCreated {
		t.Errorf("the next one, the fault spent: %d %v, want 201", status, err)
	}
	if got := c.appliedBodies(); len(got) != 2 || got[0] != "a quote" || got[1] != "another order" {
		t.Errorf("applied %q, want all but the write the fault took", got)
	}
}

func TestInjectRefusesFaultsThatMeanNothing(t *testing.T) {
	c := startToy(t, emulator.Config{})
	for name, f := range map[string]emulator.Fault{
		"nothing":         {Route: "GET /items"},
		"status and drop": {Status: 500, Drop: true},
		"not an error":    {Status: 302},
		"retry alone":     {RetryAfter: time.Second, Delay: time.Second},
		"negative times":  {Status: 500, Times: -1},
		"bad route":       {Route: "GET items", Status: 500},
	} {
		if err := c.Inject(f); err == nil {
			t.Errorf("%s: Inject(%+v) accepted it", name, f)
		}
	}
}

func TestFaultDelayHoldsTheRequest(t *testing.T) {
	c := startToy(t, emulator.Config{})
	tok := c.tokens.Issue("acme", "").Token
	if err := c.Inject(emulator.Fault{Route: "POST /items", Times: 2, Delay: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if status, _, err := post(t, c, tok, "/items", "slow"); err != nil || status != http.StatusCreated {
		t.Fatalf("delayed write: %d %v", status, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("the delayed write took %v, want at least 300ms", took)
	}
	// A client that gives up during the delay applies nothing.
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/items", strings.NewReader("abandoned"))
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := (&http.Client{Timeout: 50 * time.Millisecond}).Do(req); err == nil {
		t.Fatal("a client with a 50ms timeout got an answer through a 300ms delay")
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(c.Writes()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := c.appliedBodies(); len(got) != 1 {
		t.Errorf("applied %q, want only the write that waited", got)
	}
	if w := c.Writes(); len(w) != 2 || w[1].Status != 0 {
		t.Errorf("ledger %s, want the abandoned write with status 0", summary(w))
	}
}

// Drop applies the write, enters it in the ledger with the status it would
// have had, and closes the connection without a byte of answer; the write
// is applied once, and the next one is answered.
func TestDropAppliesTheWriteAndAnswersNothing(t *testing.T) {
	c := startToy(t, emulator.Config{})
	tok := c.tokens.Issue("acme", "").Token
	if err := c.Inject(emulator.Fault{Route: "POST /items", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	status, body, err := post(t, c, tok, "/items", "first")
	if err == nil {
		t.Fatalf("dropped write answered %d %s, want no answer at all", status, body)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("dropped write: %v, want the connection closed (EOF)", err)
	}
	if got := c.appliedBodies(); len(got) != 1 || got[0] != "first" {
		t.Fatalf("applied %q after the drop, want the write applied once", got)
	}
	if status, _, err := post(t, c, tok, "/items", "second"); err != nil || status != http.StatusCreated {
		t.Errorf("the write after the drop: %d %v, want 201", status, err)
	}
	if got := c.appliedBodies(); len(got) != 2 {
		t.Errorf("applied %q, want both writes once each", got)
	}
	w := c.Writes()
	if len(w) != 2 || !w[0].Dropped || w[0].Status != http.StatusCreated || w[0].Account != "acme" || w[1].Dropped {
		t.Errorf("ledger %s, want the dropped 201 of acme, then an answered one", summary(w))
	}
}

// The ledger keeps every write (not the reads) with its method, path,
// query, body, account and time, keeps no body of credential routes, and
// truncates long bodies without the CRM missing a byte.
func TestLedgerKeepsEveryWrite(t *testing.T) {
	clock := emulator.NewClock(t0)
	c := startToy(t, emulator.Config{Now: clock.Now})
	acme, beta := c.tokens.Issue("acme", "").Token, c.tokens.Issue("beta", "").Token

	post(t, c, acme, "/items?dry=1", `{"n":1}`)
	clock.Advance(time.Second)
	http.Get(c.URL + "/items")
	post(t, c, beta, "/items", `{"n":2}`)
	post(t, c, "", "/items", `{"n":3}`) // refused: no token
	post(t, c, "", "/oauth/token", "client_secret=s3cret")
	long := strings.Repeat("x", emulator.MaxWriteBody+10)
	post(t, c, acme, "/items", long)

	w := c.Writes()
	if len(w) != 5 {
		t.Fatalf("ledger holds %d writes, want 5 (the GET is not a write): %s", len(w), summary(w))
	}
	want := []emulator.Write{
		{Seq: 1, Time: t0, Method: "POST", Path: "/items", Query: "dry=1", Body: []byte(`{"n":1}`), Account: "acme", Status: 201},
		{Seq: 2, Time: t0.Add(time.Second), Method: "POST", Path: "/items", Body: []byte(`{"n":2}`), Account: "beta", Status: 201},
		{Seq: 3, Time: t0.Add(time.Second), Method: "POST", Path: "/items", Body: []byte(`{"n":3}`), Status: 401},
		{Seq: 4, Time: t0.Add(time.Second), Method: "POST", Path: "/oauth/token", Status: 200},
	}
	for i, wantW := range want {
		got := w[i]
		if got.Seq != wantW.Seq || !got.Time.Equal(wantW.Time) || got.Method != wantW.Method || got.Path != wantW.Path ||
			got.Query != wantW.Query || !bytes.Equal(got.Body, wantW.Body) || got.Account != wantW.Account || got.Status != wantW.Status {
			t.Errorf("write %d = %s\nwant %s", i+1, summary([]emulator.Write{got}), summary([]emulator.Write{wantW}))
		}
	}
	if w[3].Body != nil {
		t.Errorf("the token request's body was kept: %q", w[3].Body)
	}
	if last := w[4]; !last.Truncated || len(last.Body) != emulator.MaxWriteBody || last.Status != 201 {
		t.Errorf("long write: truncated %v, %d bytes kept, status %d; want truncated to %d", last.Truncated, len(last.Body), last.Status, emulator.MaxWriteBody)
	}
	if got := c.appliedBodies(); len(got) != 3 || got[2] != long {
		t.Errorf("the CRM did not read the long body whole (%d bodies)", len(got))
	}
}

func TestLedgerKeepsTheLatestWrites(t *testing.T) {
	c := startToy(t, emulator.Config{LedgerSize: 3})
	tok := c.tokens.Issue("acme", "").Token
	for _, b := range []string{"1", "2", "3", "4", "5"} {
		post(t, c, tok, "/items", b)
	}
	w := c.Writes()
	if len(w) != 3 || w[0].Seq != 3 || string(w[0].Body) != "3" || w[2].Seq != 5 {
		t.Errorf("ledger %s, want writes 3 to 5", summary(w))
	}
}

// Many clients and controls at once: run with -race.
func TestConcurrentUse(t *testing.T) {
	c := startToy(t, emulator.Config{LedgerSize: 50})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			tok := c.tokens.Issue("acme", "").Token
			post(t, c, tok, "/items", "x")
			if i%4 == 0 {
				c.ExpireAccessToken(tok)
			}
		})
		wg.Go(func() {
			_ = c.Inject(emulator.Fault{Route: "POST /items", Times: 1, Status: 500})
			_ = c.Writes()
			c.ExpireAccessTokens()
		})
	}
	wg.Wait()
	if n := len(c.Writes()); n != 16 {
		t.Errorf("ledger holds %d writes, want 16", n)
	}
}

// summary says what a test needs of writes, bodies cut short.
func summary(ws []emulator.Write) string {
	var b strings.Builder
	for _, w := range ws {
		body := string(w.Body)
		if len(body) > 20 {
			body = body[:20] + "..."
		}
		fmt.Fprintf(&b, "\n  #%d %s %s %s?%s body=%q truncated=%v account=%q status=%d injected=%v dropped=%v",
			w.Seq, w.Time.Format(time.TimeOnly), w.Method, w.Path, w.Query, body, w.Truncated, w.Account, w.Status, w.Injected, w.Dropped)
	}
	return b.String()
}

// t0 is when the tests' clocks start.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
