package multi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// The harness of the two-instance test and the soak: the qwoty binary, two
// `qwoty serve` children on one database, a round-robin reverse proxy in
// front of them (the load balancer), Salesforce's emulator as the CRM, and
// clients for the card, the console and the API that go through the proxy
// only.

// masterKey is the children's and the test's QWOTY_SECRET_KEY (the key
// storetest.Keys opens the database with).
var masterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// buildQwoty builds cmd/qwoty into a temporary directory.
func buildQwoty(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "qwoty")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/qwoty")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build qwoty: %v", err)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is an instance's output, written by exec's copying goroutine
// and read by the test.
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

// instance is one `qwoty serve` process, on its own loopback port and its
// own metrics address.
type instance struct {
	name        string
	bin         string
	env         []string
	port        int
	metricsAddr string
	out         *syncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

func newInstance(t testing.TB, name, bin string, env []string) *instance {
	port := freePort(t)
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	return &instance{name: name, bin: bin, port: port, metricsAddr: metrics, out: &syncBuffer{},
		env: append(slices.Clone(env), "PORT="+strconv.Itoa(port), "METRICS_ADDR="+metrics)}
}

func (in *instance) addr() string { return "127.0.0.1:" + strconv.Itoa(in.port) }

// start starts the process and waits until /readyz answers 200 on its port
// and /metrics on its metrics address.
func (in *instance) start(t testing.TB) {
	t.Helper()
	in.mu.Lock()
	cmd := exec.Command(in.bin, "serve")
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = in.out, in.out
	if err := cmd.Start(); err != nil {
		in.mu.Unlock()
		t.Fatalf("start %s: %v", in.name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	in.cmd, in.done = cmd, done
	in.mu.Unlock()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("%s exited while starting: %v\n%s", in.name, err, tail(in.out.String(), 3000))
		default:
		}
		if httpOK("http://"+in.addr()+"/readyz") && httpOK("http://"+in.metricsAddr+"/metrics") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60 s\n%s", in.name, tail(in.out.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpOK(u string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends SIGTERM, as an orchestrator does, and waits for the process
// to exit by itself; it reports the exit status and how long it took.
func (in *instance) stop(t testing.TB, bound time.Duration) (exit error, took time.Duration) {
	t.Helper()
	in.mu.Lock()
	cmd, done := in.cmd, in.done
	in.cmd = nil
	in.mu.Unlock()
	if cmd == nil {
		return nil, 0
	}
	began := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err, time.Since(began)
	case <-time.After(bound):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%s did not exit within %s of SIGTERM\n%s", in.name, bound, tail(in.out.String(), 3000))
		return errors.New("killed"), time.Since(began)
	}
}

// kill ends the process at once (the cleanup).
func (in *instance) kill() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == nil {
		return
	}
	_ = in.cmd.Process.Kill()
	<-in.done
	in.cmd = nil
}

func (in *instance) pid() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// rssKiB is the process's resident set (VmRSS in /proc/<pid>/status), 0
// when it is not running.
func (in *instance) rssKiB() int {
	pid := in.pid()
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lb is the load balancer: a reverse proxy that sends each request to the
// next instance in turn, and sends a request to the next one only when the
// connection to the chosen one failed (refused, or reset while connecting:
// an instance that is down or closing its listener), as a load balancer does
// for a dead backend: the request was never sent; or, for a request safe to
// send twice (resendable) only, when the connection was reset before any
// answer (a closing listener resets the connections still in its accept
// queue), as nginx's default does for idempotent methods. Any other
// failure is the client's 502.
type lb struct {
	backends []string
	next     atomic.Uint64
	tr       *http.Transport
	proxy    *httputil.ReverseProxy
	srv      *http.Server
	ln       net.Listener
	URL      string

	// Requests sent to each backend, connections refused, and failures
	// answered 502.
	sent    []atomic.Int64
	refused atomic.Int64
	failed  atomic.Int64
	mu      sync.Mutex
	errs    []string
}

// newLB starts the balancer. With keepAlive it keeps connections to the
// instances open between requests, as most balancers do; without, it opens
// one per request.
func newLB(t testing.TB, keepAlive bool) *lb {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lb{ln: ln, URL: "http://" + ln.Addr().String(),
		tr: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second, DisableKeepAlives: !keepAlive,
			DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "backend"
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: p,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.failed.Add(1)
			p.mu.Lock()
			p.errs = append(p.errs, r.Method+" "+r.URL.Path+": "+err.Error())
			p.mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p.proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() { p.srv.Close(); p.tr.CloseIdleConnections() })
	return p
}

// setBackends points the balancer at its instances, once they have their
// ports (they need its URL as APP_URL first).
func (p *lb) setBackends(addrs ...string) {
	p.backends = addrs
	p.sent = make([]atomic.Int64, len(addrs))
}

// RoundTrip picks the next backend; on a refused connection it tries the
// one after, a few rounds at most.
func (p *lb) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	first := p.next.Add(1)
	var err error
	for i := range uint64(len(p.backends) * 4) {
		n := int((first + i) % uint64(len(p.backends)))
		out := r.Clone(r.Context())
		out.URL.Host = p.backends[n]
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		var resp *http.Response
		resp, err = p.tr.RoundTrip(out)
		if err == nil {
			p.sent[n].Add(1)
			return resp, nil
		}
		if !notConnected(err) && !(resendable(r) && resetUnanswered(err)) {
			return nil, err
		}
		p.refused.Add(1)
		if (i+1)%uint64(len(p.backends)) == 0 {
			time.Sleep(100 * time.Millisecond) // every instance refused: wait a little
		}
	}
	return nil, err
}

// notConnected reports whether err is a failure to connect (the request
// was never sent, so any method may go to another instance): refused, or
// reset during the connect by a listener that was closing.
func notConnected(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// idempotent reports whether a request of method may be sent again after
// a failure whose outcome is unknown (RFC 9110, 9.2.2), as nginx's default
// proxy_next_upstream does for "error": GET, HEAD, PUT, DELETE, OPTIONS.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// resendable reports whether r is safe to send twice: an idempotent
// method, or an API write with an Idempotency-Key, which the API answers
// once whatever the number of sendings (the same key gets the first answer
// again; docs/api.md). A balancer may be set to resend those (nginx:
// proxy_next_upstream non_idempotent); a POST without a key is never
// resent.
func resendable(r *http.Request) bool {
	return idempotent(r.Method) || r.Header.Get("Idempotency-Key") != ""
}

// resetUnanswered reports whether the connection was closed or reset
// before any answer: what an instance's closing listener does to the
// connections still waiting in its accept queue (the kernel resets them;
// the request written into one was never read).
func resetUnanswered(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func (p *lb) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errs)
}

// fleet is the whole setup: database, emulator, balancer, two instances.
type fleet struct {
	t     testing.TB
	dbURL string
	db    *store.DB
	crm   *crmsynctest.CRM
	lb    *lb
	ins   []*instance
}

// newFleet starts everything: records opportunities in the emulator's org,
// the balancer keeping connections alive or not.
func newFleet(t testing.TB, records int, keepAlive bool, extraEnv ...string) *fleet {
	t.Helper()
	bin := buildQwoty(t)
	f := &fleet{t: t, dbURL: storetest.NewDatabase(t)}
	// The database is migrated before the instances start, as a release
	// step would (`qwoty migrate`); the instances migrate again at start,
	// which then has nothing to do.
	f.db = storetest.Open(t, f.dbURL, store.Options{})
	f.lb = newLB(t, keepAlive)
	f.crm = crmsynctest.Salesforce(t, crmsynctest.Options{AppURL: f.lb.URL, Records: records, Unlimited: true})
	env := append(os.Environ(), "QWOTY_ENV=development", "PLAYGROUND_PORT=0", "DEV_MAIL_PORT=0", "LOG_LEVEL=warn",
		"DATABASE_URL="+f.dbURL, "QWOTY_SECRET_KEY="+masterKey, "APP_URL="+f.lb.URL, "SYNC_LEASE=5s",
		"QWOTY_API_RATE_LIMIT=100000/s")
	env = append(env, f.crm.Env...)
	env = append(env, extraEnv...)
	f.ins = []*instance{newInstance(t, "instance 1", bin, env), newInstance(t, "instance 2", bin, env)}
	f.lb.setBackends(f.ins[0].addr(), f.ins[1].addr())
	t.Cleanup(func() {
		for _, in := range f.ins {
			in.kill()
		}
	})
	for _, in := range f.ins {
		in.start(t)
	}
	return f
}

// logs is the tail of each instance's output, for a failure message.
func (f *fleet) logs() string {
	var b strings.Builder
	for _, in := range f.ins {
		fmt.Fprintf(&b, "--- %s said:\n%s\n", in.name, tail(in.out.String(), 4000))
	}
	return b.String()
}

// Through the balancer: the console.

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	apiKeyToken = regexp.MustCompile(`qwk_[0-9A-Za-z]{46}`)
)

// connectConsole walks the first-run link, logs in again from a second
// browser, connects the emulator's org (OAuth, through the balancer) and
// makes an API key; it returns the connection and the key.
func (f *fleet) connectConsole(t *testing.T) (*qwoty.Connection, string) {
	t.Helper()
	base := f.lb.URL
	webtest.SetupAdmin(t, f.db, base)
	b := webtest.NewBrowser(t)
	b.Get(base+"/login").Want(200, "/login")
	b.Post(base+"/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}).Want(200, "/settings/integrations")
	b.Post(base+"/settings/integrations/salesforce/connect", url.Values{"csrf": {b.CSRF()}, "env": {"production"}}).
		Want(200, "/settings/integrations", "Salesforce is connected")
	conn, err := f.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, f.org())
	if err != nil {
		t.Fatal(err)
	}
	// The package's side: the console wrote the callout secret into the org.
	if got := f.crm.Salesforce.Config(f.org()); !got.Configured || got.AppURL != base {
		t.Fatalf("the org's configuration after connecting: %+v", got)
	}
	page := base + "/settings/integrations/salesforce/api-keys"
	b.Get(page).Want(200, "")
	b.Post(page, url.Values{"csrf": {b.CSRF()}, "name": {"ERP"}, "access": {"full"}}).Want(200, "", "only time Qwoty shows the key")
	key := apiKeyToken.FindString(string(b.Body))
	if key == "" {
		t.Fatalf("no key on the page:\n%s", b.Body)
	}
	return conn, key
}

// org is the emulator's org (crmsynctest's), as connections store it.
func (f *fleet) org() string {
	id, _ := salesforce.NormalizeOrgID(sftest.DefaultOrgID)
	return id
}

// Through the balancer: the card and the API, without testing.T (they run
// in goroutines and count failures instead).

// client is a caller of the balancer that records every answer's status
// and latency by surface.
type client struct {
	base string
	http *http.Client
	mu   sync.Mutex
	byS  map[string]*surface
}

type surface struct {
	n, s5xx, s4xx, transport int
	lat                      []time.Duration
	firstBad                 string
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}
	return &client{base: base, byS: map[string]*surface{},
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends req, reads the answer, and records it under surface name.
func (c *client) do(name string, req *http.Request) (int, http.Header, []byte, error) {
	return c.doFrom(name, req, time.Now())
}

// doFrom is do with the latency counted from began: a fixed-rate load
// passes each request's scheduled time, so that a late send counts.
func (c *client) doFrom(name string, req *http.Request, began time.Time) (int, http.Header, []byte, error) {
	resp, err := c.http.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	took := time.Since(began)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byS[name]
	if s == nil {
		s = &surface{}
		c.byS[name] = s
	}
	s.n++
	s.lat = append(s.lat, took)
	switch {
	case err != nil:
		s.transport++
		if s.firstBad == "" {
			s.firstBad = err.Error()
		}
		return 0, nil, nil, err
	case resp.StatusCode >= 500:
		s.s5xx++
		if s.firstBad == "" {
			s.firstBad = fmt.Sprintf("%d %s", resp.StatusCode, tail(string(body), 500))
		}
	case resp.StatusCode >= 400:
		s.s4xx++
		if s.firstBad == "" {
			s.firstBad = fmt.Sprintf("%d %s", resp.StatusCode, tail(string(body), 500))
		}
	}
	return resp.StatusCode, resp.Header, body, nil
}

// failures sums what went wrong on every surface.
func (c *client) failures() (s5xx, s4xx, transport int, first []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, s := range c.byS {
		s5xx += s.s5xx
		s4xx += s.s4xx
		transport += s.transport
		if s.firstBad != "" {
			first = append(first, name+": "+s.firstBad)
		}
	}
	return
}

// p is the q-quantile of a surface's latencies.
func (c *client) p(name string, q float64) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byS[name]
	if s == nil || len(s.lat) == 0 {
		return 0
	}
	l := slices.Clone(s.lat)
	slices.Sort(l)
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (c *client) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.byS[name]; s != nil {
		return s.n
	}
	return 0
}

func (c *client) surfaces() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for name := range c.byS {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// callout is the Apex's signed card call for record, as the package in
// conn's org makes it.
func (c *client) callout(conn *qwoty.Connection, record string) (int, []byte, error) {
	return c.calloutAt(conn, record, time.Now())
}

// calloutAt is callout as scheduled at a time (its latency counts from
// then).
func (c *client) calloutAt(conn *qwoty.Connection, record string, at time.Time) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{
		"recordId": record, "objectType": "Opportunity",
		"user":   map[string]any{"id": "005000000000001AAA", "email": "rep@acme.example", "name": "Rep"},
		"record": map[string]any{"name": "Deal " + record, "accountId": "001000000000001AAA", "accountName": "Acme", "amount": 1200.5, "currencyIsoCode": "USD"},
	})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/crm/cardView", bytes.NewReader(body))
	req.Header = salesforce.SignedHeaders(conn.ExternalID, conn.Secret, "/api/crm/cardView", body, time.Now(), salesforce.NewNonce())
	status, _, b, err := c.doFrom("callout", req, at)
	return status, b, err
}

var (
	pageToken  = regexp.MustCompile(`name="qwoty-page-token" content="([^"]+)"`)
	quoteIDRe  = regexp.MustCompile(`/embed/api/quotes/([0-9a-f-]{36})/`)
	lineIDRe   = regexp.MustCompile(`/lines/([0-9a-f-]{36})"`)
	versionRe  = regexp.MustCompile(`data-version="(\d+)"`)
	embedURLRe = regexp.MustCompile(`"embedUrl":"([^"]+)"`)
)

// card is a rep's open card: its page token.
type card struct {
	c     *client
	token string
}

// openCard makes the callout for record and opens the embed page it names.
func (c *client) openCard(conn *qwoty.Connection, record string) (*card, error) {
	status, b, err := c.callout(conn, record)
	if err != nil {
		return nil, err
	}
	m := embedURLRe.FindSubmatch(b)
	if status != 200 || m == nil {
		return nil, fmt.Errorf("callout: %d %s", status, tail(string(b), 300))
	}
	embed := strings.ReplaceAll(string(m[1]), `\u0026`, "&")
	req, _ := http.NewRequest(http.MethodGet, embed, nil)
	status, _, page, err := c.do("card page", req)
	if err != nil {
		return nil, err
	}
	tm := pageToken.FindSubmatch(page)
	if status != 200 || tm == nil {
		return nil, fmt.Errorf("card page %s: %d %s", embed, status, tail(string(page), 300))
	}
	return &card{c: c, token: string(tm[1])}, nil
}

func (k *card) action(name, method, path string, form url.Values) (int, []byte, error) {
	req, _ := http.NewRequest(method, k.c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("HX-Request", "true")
	status, _, b, err := k.c.do(name, req)
	return status, b, err
}

// editedQuote is a quote the card made, with its one line.
type editedQuote struct {
	id, line string
	version  string
}

// newQuote creates a quote with one line from the card.
func (k *card) newQuote() (*editedQuote, error) {
	status, b, err := k.action("card create", http.MethodPost, "/embed/api/quotes", nil)
	if err != nil {
		return nil, err
	}
	qm, vm := quoteIDRe.FindSubmatch(b), versionRe.FindSubmatch(b)
	if status != http.StatusCreated || qm == nil || vm == nil {
		return nil, fmt.Errorf("create: %d %s", status, tail(string(b), 300))
	}
	q := &editedQuote{id: string(qm[1])}
	status, b, err = k.action("card edit", http.MethodPost, "/embed/api/quotes/"+q.id+"/lines",
		url.Values{"version": {string(vm[1])}, "sku": {"LIC"}, "description": {"Licence"}, "quantity": {"1"}, "unit_price": {"10"}, "discount_percent": {"0"}})
	if err != nil {
		return nil, err
	}
	lm, vm := lineIDRe.FindSubmatch(b), versionRe.FindSubmatch(b)
	if status != 200 || lm == nil || vm == nil {
		return nil, fmt.Errorf("add a line: %d %s", status, tail(string(b), 300))
	}
	q.line, q.version = string(lm[1]), string(vm[1])
	return q, nil
}

// setQuantity edits the quote's line; it returns nil only when the server
// acknowledged the edit (200 with the editor at its new version).
func (k *card) setQuantity(q *editedQuote, n int) error {
	status, b, err := k.action("card edit", http.MethodPut, "/embed/api/quotes/"+q.id+"/lines/"+q.line,
		url.Values{"version": {q.version}, "sku": {"LIC"}, "description": {"Licence"}, "quantity": {strconv.Itoa(n)}, "unit_price": {"10"}, "discount_percent": {"0"}})
	if err != nil {
		return err
	}
	vm := versionRe.FindSubmatch(b)
	if status != 200 || vm == nil {
		return fmt.Errorf("edit: %d %s", status, tail(string(b), 300))
	}
	q.version = string(vm[1])
	return nil
}

// apiGet reads path of /api/v1 with the key.
func (c *client) apiGet(key, path string) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodGet, c.base+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	status, _, b, err := c.do("api read", req)
	return status, b, err
}

// apiCreate creates a quote with one line on record, with an idempotency
// key; it returns the quote's id.
func (c *client) apiCreate(key, record, idem string) (string, error) {
	body := `{"crmRecordId":"` + record + `","currency":"USD","lines":[{"sku":"API","description":"From the ERP","quantity":"2","unitPrice":"5"}]}`
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/v1/quotes", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idem)
	status, _, b, err := c.do("api create", req)
	if err != nil {
		return "", err
	}
	var got struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(b, &got) != nil || got.ID == "" {
		return "", fmt.Errorf("api create: %d %s", status, tail(string(b), 300))
	}
	return got.ID, nil
}

// waitSynced waits until the connection has nothing pending, in flight or
// failed, then checks the emulator against the records' final state: each
// quote mirrored once, with its lines (crmsynctest's check).
func (f *fleet) waitSynced(t testing.TB, conn *qwoty.Connection, bound time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(bound)
	for {
		h, err := f.db.SyncHealthOf(ctx, conn.WorkspaceID, conn.ID)
		if err == nil && h.Pending == 0 && h.InFlight == 0 && h.Failed == 0 {
			break
		}
		if time.Now().After(deadline) || err == nil && h.Failed > 0 {
			log, _ := f.db.SyncLog(ctx, conn.WorkspaceID, conn.ID, store.SyncLogFilter{Limit: 10})
			for _, e := range log {
				t.Logf("sync log: %s %s %s %s", e.RecordID, e.Outcome, e.Code, e.Message)
			}
			t.Fatalf("sync not done: %+v, %v\n%s", h, err, f.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	snaps, err := f.db.SyncSnapshots(ctx, conn.ID, f.crm.Records)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.crm.Verify(snaps) {
		t.Error(d)
	}
}
