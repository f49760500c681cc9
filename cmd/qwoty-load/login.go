package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/gctune"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
)

// Targets of issue 9's first finding.
const (
	targetRSSAboveIdle = 200 << 20
	targetCalloutP99   = 50 * time.Millisecond
)

const (
	knownEmail    = "admin@load.example"
	knownPassword = "load test passphrase"
)

// runLogin sends waves of logins concurrent logins to POST /login (or,
// with hammer, keeps that many workers sending back to back), each from a
// random client address, mostly for random unknown emails and knownPct %
// for the known one, while signed callouts arrive at rate per second. Login
// phases alternate with quiet ones, d in all for each. It reports the
// server's resident memory above idle and the callouts' latency against
// the targets.
//
// The server runs in a child process (this program with -login-server), so
// that its memory and CPU are its own and the 500 clients do not share its
// Go scheduler; each login phase runs in a process of its own as well
// (-login-flood), so that the callouts are timed by a process that does
// nothing else. The server trusts the loopback address as a proxy, as it
// would a load balancer, and each login claims a random client address: the
// per-address cap does not hide the flood.
func runLogin(pgURL string, logins, rate int, d time.Duration, hammer bool, knownPct int) error {
	ctx := context.Background()
	ld, err := openLoad(ctx, pgURL)
	if err != nil {
		return err
	}
	defer ld.close()
	db, dbURL, key, org, conn := ld.db, ld.dbURL, ld.key, ld.org, ld.conn
	bodies, err := seed(ctx, db, conn, 50)
	if err != nil {
		return err
	}
	if err := addKnownUser(ctx, db, password.NewHasher(password.Options{})); err != nil {
		return err
	}

	child, err := startLoginServer(dbURL, key)
	if err != nil {
		return err
	}
	defer child.stop()
	appURL := child.url
	c := newClient(64)
	if _, err := c.call(appURL, org, conn.Secret, bodies[0]); err != nil {
		return fmt.Errorf("sample call: %w", err)
	}
	fmt.Printf("qwoty-load -login: server in a child process (%s), %d CPUs; %d logins at once (%d%% for a known email), %s of logins in all; callouts at %d/s\n",
		child.settings, runtime.NumCPU(), logins, knownPct, d, rate)

	// Warm the card path at the same rate; idle is the server's memory
	// after it, before any login.
	fixedRate(c, appURL, org, conn.Secret, bodies, rate, 2*time.Second)
	idle := child.rss()

	var (
		peak     atomic.Int64
		stopRSS  = make(chan struct{})
		rssDone  = make(chan struct{})
		outcomes floodReport
	)
	peak.Store(idle)
	go func() {
		defer close(rssDone)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				if v := child.rss(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	// The server's CPU in a phase replaces the client's in the result.
	measured := func(run func() result) result {
		c0 := child.cpu()
		r := run()
		r.cpuSelf = child.cpu() - c0
		return r
	}
	// Quiet and login phases alternate, twice, so that drift on a shared
	// machine weighs on both.
	var quiet, flooded []result
	for range 2 {
		quiet = append(quiet, measured(func() result { return fixedRate(c, appURL, org, conn.Secret, bodies, rate, d/2) }))
		var fr floodReport
		var ferr error
		flooded = append(flooded, measured(func() result {
			return during(func() { fr, ferr = runFloodProcess(appURL, logins, knownPct, hammer, d/2) },
				func() result { return fixedRate(c, appURL, org, conn.Secret, bodies, rate, d/2) })
		}))
		if ferr != nil {
			return ferr
		}
		outcomes.merge(fr)
	}
	close(stopRSS)
	<-rssDone
	after := child.rss()
	st, err := child.stats()
	if err != nil {
		return err
	}
	quietPhase, flood := merge(quiet), merge(flooded)

	fmt.Printf("\nsigned callouts, %d/s, timed from their scheduled send:\n", rate)
	fmt.Printf("  %-28s %9s %9s %9s %9s %7s %14s\n", "", "req/s", "p50", "p99", "max", "errors", "server CPU")
	printLatency("without logins", quietPhase)
	printLatency("during the logins", flood)
	if hammer {
		fmt.Printf("\nlogins, %d workers each sending again at once, for %s in all:\n", logins, d)
	} else {
		fmt.Printf("\nlogins, %d waves of %d at once (the next when all are answered), for %s in all:\n", outcomes.Waves, logins, d)
	}
	outcomes.print(d)
	fmt.Printf("  hasher: %d argon2 computations, %d unknown-email checks that only waited, at most %d at once, %d refused busy, %d refused per address; a check costs %s\n",
		st.Computed, st.Simulated, st.Peak, st.RefusedBusy, st.RefusedClient, st.Cost.Round(time.Millisecond))
	fmt.Printf("\nserver resident memory (VmRSS): idle %d MB, peak %d MB, after %d MB; peak above idle %d MB (target < %d MB)\n",
		idle>>20, peak.Load()>>20, after>>20, (peak.Load()-idle)>>20, targetRSSAboveIdle>>20)
	fmt.Printf("callout p99 during the logins %s (target < %s; %s without them)\n",
		flood.p99.Round(100*time.Microsecond), targetCalloutP99, quietPhase.p99.Round(100*time.Microsecond))
	verdict := "met"
	if peak.Load()-idle >= targetRSSAboveIdle || flood.p99 >= targetCalloutP99 || flood.errors > 0 || outcomes.Errors > 0 {
		verdict = "NOT met"
	}
	fmt.Printf("\ntargets %s\n", verdict)
	return nil
}

// Environment of the -login-server child.
const (
	envLoginDB  = "QWOTY_LOAD_DATABASE_URL"
	envLoginKey = "QWOTY_LOAD_MASTER_KEY"
	// envLoginProfile names the server's CPU profile file, if any.
	envLoginProfile = "QWOTY_LOAD_CPUPROFILE"
)

// loginServer is the child process that serves.
type loginServer struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	out      *bufio.Reader
	url      string
	settings string
}

// startLoginServer runs this program with -login-server and waits for the
// address it listens on.
func startLoginServer(dbURL string, key []byte) (*loginServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-login-server")
	cmd.Env = append(os.Environ(), envLoginDB+"="+dbURL, envLoginKey+"="+base64.StdEncoding.EncodeToString(key), envLoginProfile+"="+profilePath)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server process: %w", err)
	}
	ls := &loginServer{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := ls.out.ReadString('\n')
	addr, settings, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "listening ")), " ")
	if err != nil || !ok {
		ls.stop()
		return nil, fmt.Errorf("the server process did not start: %q %v", line, err)
	}
	ls.url, ls.settings = "http://"+addr, settings
	return ls, nil
}

// stats ends the child (its stdin closes) and returns its hasher's counters.
func (ls *loginServer) stats() (password.Stats, error) {
	var st password.Stats
	ls.stdin.Close()
	line, err := ls.out.ReadString('\n')
	if err != nil {
		return st, fmt.Errorf("the server process's stats: %w", err)
	}
	err = json.Unmarshal([]byte(strings.TrimPrefix(line, "stats ")), &st)
	_ = ls.cmd.Wait()
	return st, err
}

func (ls *loginServer) stop() {
	if ls.cmd.ProcessState == nil {
		_ = ls.cmd.Process.Kill()
		_ = ls.cmd.Wait()
	}
}

func (ls *loginServer) rss() int64 { return vmRSS(ls.cmd.Process.Pid) }

// cpu is the child's user and system time so far.
func (ls *loginServer) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ls.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(string(f[11]), 10, 64)
	s, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(u+s) * clockTick
}

// serveLogin is the -login-server child: the real server, built and tuned
// as `qwoty serve` builds it, on the parent's database, until its stdin
// closes; then it prints its hasher's counters.
func serveLogin() error {
	ctx := context.Background()
	gogc := gctune.GC()
	limit := gctune.MemoryLimit()
	key, err := base64.StdEncoding.DecodeString(os.Getenv(envLoginKey))
	if err != nil {
		return err
	}
	keys, err := keyring.New(key)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, os.Getenv(envLoginDB), keys, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	appURL := "http://" + ln.Addr().String()
	kid, tk := keys.TokenKey()
	cards := cardview.NewService(db, nil, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: tk}), appURL, time.Now)
	hasher := password.NewHasher(password.Options{})
	cfg := &config.Config{Env: config.Production, AppURL: appURL, TrustedProxies: []string{"127.0.0.1/32"}}
	srv := server.New(server.Deps{Config: cfg, DB: db, Cards: cards, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Hasher: hasher})
	sctx, stop := context.WithCancel(ctx)
	go srv.Serve(sctx, ln, time.Second)
	fmt.Printf("listening %s GOMAXPROCS=%d,GOGC=%d,memory-limit=%s,hash-concurrency=%d\n",
		ln.Addr(), runtime.GOMAXPROCS(0), gogc, limitText(limit), password.DefaultConcurrency())
	if path := os.Getenv(envLoginProfile); path != "" {
		// The whole run, quiet phases included (-cpuprofile of -login).
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	b, _ := json.Marshal(hasher.Stats())
	fmt.Printf("stats %s\n", b)
	return nil
}

func addKnownUser(ctx context.Context, db *store.DB, h *password.Hasher) error {
	token, err := db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		return err
	}
	hash, err := h.Hash(ctx, knownPassword)
	if err != nil {
		return err
	}
	_, err = db.CreateFirstAdmin(ctx, token, "Load", store.NewUser{Email: knownEmail, Name: "Load", PasswordHash: hash})
	return err
}

// during runs background while measure runs, and returns measure's result
// once both have ended.
func during(background func(), measure func() result) result {
	done := make(chan struct{})
	go func() { defer close(done); background() }()
	r := measure()
	<-done
	return r
}

// runFloodProcess runs one login phase in a process of its own (this
// program with -login-flood), so that its hundreds of goroutines do not
// share a scheduler with the callouts being timed, and returns its report.
func runFloodProcess(appURL string, logins, knownPct int, hammer bool, d time.Duration) (floodReport, error) {
	var fr floodReport
	exe, err := os.Executable()
	if err != nil {
		return fr, err
	}
	cmd := exec.Command(exe, "-login-flood", appURL, "-logins", strconv.Itoa(logins), "-known", strconv.Itoa(knownPct),
		"-login-duration", d.String(), "-hammer="+strconv.FormatBool(hammer))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fr, fmt.Errorf("the login flood process: %w", err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &fr); err != nil {
		return fr, fmt.Errorf("the login flood's report %q: %w", out, err)
	}
	return fr, nil
}

// flood is the -login-flood process: it sends logins to appURL for d, in
// waves of logins at once (the next when all are answered) or, with hammer,
// from logins workers sending back to back, and prints its report as JSON.
func flood(appURL string, logins, knownPct int, hammer bool, d time.Duration) error {
	lc := newLoginClient(logins, knownPct)
	var fr floodReport
	var mu sync.Mutex
	add := func(r loginResult) { mu.Lock(); fr.add(r); mu.Unlock() }
	deadline := time.Now().Add(d)
	if hammer {
		// Past the bounds, a flood of requests at whatever rate the machine
		// allows.
		var wg sync.WaitGroup
		for i := range logins {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					add(lc.login(appURL, i))
				}
			})
		}
		wg.Wait()
	} else {
		for time.Now().Before(deadline) {
			fr.Waves++
			var wg sync.WaitGroup
			for i := range logins {
				wg.Go(func() { add(lc.login(appURL, i)) })
			}
			wg.Wait()
		}
	}
	return json.NewEncoder(os.Stdout).Encode(fr)
}

// printLatency prints r, whose cpuSelf is the server's CPU.
func printLatency(name string, r result) {
	cores := "?"
	if r.elapsed > 0 {
		cores = fmt.Sprintf("%.2f cores", r.cpuSelf.Seconds()/r.elapsed.Seconds())
	}
	fmt.Printf("  %-28s %9.0f %9s %9s %9s %7d %14s\n", name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.errors, cores)
	if r.firstErr != nil {
		fmt.Printf("    first error: %v\n", r.firstErr)
	}
}

type loginClient struct {
	http     *http.Client
	knownPct int
}

func newLoginClient(conns, knownPct int) *loginClient {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute}
	return &loginClient{http: &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, knownPct: knownPct}
}

// loginResult is one login's outcome.
type loginResult struct {
	status  int
	known   bool
	latency time.Duration
	err     error
}

// login posts one login from a random address: the known email knownPct
// times in a hundred (a fifth of those with its right password), otherwise
// a random unknown one.
func (lc *loginClient) login(base string, i int) loginResult {
	email, pw := fmt.Sprintf("nobody-%d-%d@load.example", i, mrand.Int64()), "not the password at all"
	known := mrand.IntN(100) < lc.knownPct
	if known {
		email = knownEmail
		if mrand.IntN(5) == 0 {
			pw = knownPassword
		}
	}
	addr := fmt.Sprintf("%d.%d.%d.%d", 11+mrand.IntN(200), mrand.IntN(256), mrand.IntN(256), 1+mrand.IntN(254))
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	start := time.Now()
	resp, err := lc.http.Do(req)
	if err != nil {
		return loginResult{err: err, known: known, latency: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return loginResult{status: resp.StatusCode, known: known, latency: time.Since(start)}
}

// floodReport counts a flood's answers by status, and times the checked
// ones (401) separately for the known and the unknown emails.
type floodReport struct {
	Waves          int64
	ByStatus       map[int]int
	Known, Unknown []time.Duration
	Errors         int64
	FirstErr       string
}

func (o *floodReport) add(r loginResult) {
	if r.err != nil {
		o.Errors++
		if o.FirstErr == "" {
			o.FirstErr = r.err.Error()
		}
		return
	}
	if o.ByStatus == nil {
		o.ByStatus = map[int]int{}
	}
	o.ByStatus[r.status]++
	if r.status == http.StatusUnauthorized {
		if r.known {
			o.Known = append(o.Known, r.latency)
		} else {
			o.Unknown = append(o.Unknown, r.latency)
		}
	}
}

func (o *floodReport) merge(other floodReport) {
	o.Waves += other.Waves
	if o.ByStatus == nil {
		o.ByStatus = map[int]int{}
	}
	for s, n := range other.ByStatus {
		o.ByStatus[s] += n
	}
	o.Known = append(o.Known, other.Known...)
	o.Unknown = append(o.Unknown, other.Unknown...)
	o.Errors += other.Errors
	if o.FirstErr == "" {
		o.FirstErr = other.FirstErr
	}
}

func (o *floodReport) print(d time.Duration) {
	var total int
	var parts []string
	statuses := make([]int, 0, len(o.ByStatus))
	for s := range o.ByStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	for _, s := range statuses {
		total += o.ByStatus[s]
		parts = append(parts, fmt.Sprintf("%d × %d", o.ByStatus[s], s))
	}
	fmt.Printf("  %d answers (%.0f/s): %s; %d transport errors\n", total, float64(total)/d.Seconds(), strings.Join(parts, ", "), o.Errors)
	if o.FirstErr != "" {
		fmt.Printf("    first error: %s\n", o.FirstErr)
	}
	fmt.Printf("  checked (401) known email: %s; unknown email: %s\n", quantiles(o.Known), quantiles(o.Unknown))
}

func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	q := func(p int) time.Duration { return ds[min(len(ds)-1, len(ds)*p/100)].Round(time.Millisecond) }
	return fmt.Sprintf("n=%d p50 %s p90 %s", len(ds), q(50), q(90))
}

// vmRSS is process pid's resident set size in bytes (0 off Linux).
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, _ := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func limitText(l int64) string {
	if l == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%dMiB", l>>20)
}
