// Command qwoty-load measures POST /api/crm/cardView under load, side by side
// with a bare gin handler that returns a fixed JSON answer of the same size,
// in one run on this machine (`make bench`). With -crm hubspot it measures
// HubSpot's card call, GET /api/crm/hubspot/card, the same way (`make
// bench-hubspot`, hubspot.go). With -login it measures a login flood instead
// (`make bench-login`, login.go).
//
// Both servers get the same freshly signed requests from the same client, so
// the ratio isolates what our path costs: verify, nonce claim, customer
// upsert, quote list, token, JSON. It then offers a fixed 1,000 requests per
// second to the real path and reports its latency percentiles, measured from
// each request's scheduled send time (no coordinated omission).
//
// It uses only loopback addresses and its own temporary database, and stops
// by itself.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/gctune"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
)

func main() {
	duration := flag.Duration("duration", 8*time.Second, "length of each closed-loop phase")
	concurrency := flag.Int("concurrency", 64, "requests in flight in the closed-loop phases")
	rate := flag.Int("rate", 1000, "requests per second in the fixed-rate phase")
	rateDuration := flag.Duration("rate-duration", 10*time.Second, "length of the fixed-rate phase")
	records := flag.Int("records", 200, "opportunities (or deals) seeded, each with quotes")
	crmName := flag.String("crm", "salesforce", "the card call measured: salesforce (POST /api/crm/cardView) or hubspot (GET /api/crm/hubspot/card)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the closed-loop phases of the real path to this file")
	pgURL := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (a temporary database is made there)")
	login := flag.Bool("login", false, "measure a login flood instead (make bench-login): memory and the callouts' latency while it runs")
	logins := flag.Int("logins", 500, "-login: logins in flight")
	loginDuration := flag.Duration("login-duration", 10*time.Second, "-login: length of the flood")
	calloutRate := flag.Int("callout-rate", 200, "-login: signed callouts per second during the flood")
	knownPct := flag.Int("known", 5, "-login: percentage of logins for the known email (the others are random unknown emails)")
	hammer := flag.Bool("hammer", false, "-login: each worker sends its next login as soon as it has an answer, instead of waves")
	withSync := flag.Bool("sync", false, "also compare the fixed-rate phase's p99 without and with sync working beside it (make bench-sync)")
	syncEdits := flag.Int("sync-edits", 20, "-sync: quote edits a second in the sync workspace, each pushed to HubSpot's emulator")
	loginServer := flag.Bool("login-server", false, "internal: the server process of -login")
	loginFlood := flag.String("login-flood", "", "internal: a login phase of -login against this server URL")
	flag.Parse()
	profilePath = *cpuProfile
	if *loginServer {
		if err := serveLogin(); err != nil {
			fmt.Fprintln(os.Stderr, "qwoty-load -login-server:", err)
			os.Exit(1)
		}
		return
	}
	if *loginFlood != "" {
		if err := flood(*loginFlood, *logins, *knownPct, *hammer, *loginDuration); err != nil {
			fmt.Fprintln(os.Stderr, "qwoty-load -login-flood:", err)
			os.Exit(1)
		}
		return
	}
	if *login {
		if err := runLogin(*pgURL, *logins, *calloutRate, *loginDuration, *hammer, *knownPct); err != nil {
			fmt.Fprintln(os.Stderr, "qwoty-load:", err)
			os.Exit(1)
		}
		return
	}
	if *crmName != "salesforce" && *crmName != "hubspot" {
		fmt.Fprintf(os.Stderr, "qwoty-load: -crm %q: want salesforce or hubspot\n", *crmName)
		os.Exit(2)
	}
	syncRate = 0
	if *withSync {
		syncRate = *syncEdits
	}
	if err := run(*pgURL, *crmName, *duration, *concurrency, *rate, *rateDuration, *records); err != nil {
		fmt.Fprintln(os.Stderr, "qwoty-load:", err)
		os.Exit(1)
	}
}

func run(pgURL, crmName string, duration time.Duration, concurrency, rate int, rateDuration time.Duration, records int) error {
	ctx := context.Background()
	// The collector as `qwoty serve` sets it (GOGC in the environment wins);
	// one process, so the bare handler runs under the same setting.
	gogc := gctune.GC()
	gctune.MemoryLimit()
	ld, err := openLoad(ctx, pgURL)
	if err != nil {
		return err
	}
	defer ld.close()
	db, keys := ld.db, ld.keys

	realLn, _ := net.Listen("tcp", "127.0.0.1:0")
	bareLn, _ := net.Listen("tcp", "127.0.0.1:0")
	appURL := "http://" + realLn.Addr().String()
	var t *target
	if crmName == "hubspot" {
		t, err = hubspotCard(ctx, db, records)
	} else {
		t, err = salesforceCard(ctx, ld, records)
	}
	if err != nil {
		return err
	}

	kid, tk := keys.TokenKey()
	// Salesforce's adapter needs no app for its callout; HubSpot's verifies
	// with the app's client secret, the one hubspotCard signs with.
	crms := crm.MustRegistry(salesforce.NewAdapter(salesforce.Options{}),
		hubspot.NewAdapter(hubspot.Options{ClientID: "qwoty-load", ClientSecret: hubspotLoadSecret}))
	cards := cardview.NewService(db, crms, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: tk}), appURL, time.Now)
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := server.New(server.Deps{Config: &config.Config{Env: config.Production, AppURL: appURL}, DB: db, Cards: cards, CRMs: crms, Logger: quiet})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(sctx, realLn, time.Second)

	c := newClient(concurrency)
	// One real answer fixes the size of the bare handler's answer.
	sample, err := c.call(appURL, t, 0)
	if err != nil {
		return fmt.Errorf("sample call: %w", err)
	}
	bareURL := "http://" + bareLn.Addr().String()
	go serveBare(sctx, bareLn, t, sample)

	fmt.Printf("qwoty-load: %s %s, GOMAXPROCS=%d, %d CPUs, GOGC=%d, answer %d bytes, %d records, concurrency %d\n",
		t.method, t.path, runtime.GOMAXPROCS(0), runtime.NumCPU(), gogc, len(sample), records, concurrency)

	// Warm both, then alternate phases so drift on a shared machine hits both.
	closedLoop(c, bareURL, t, concurrency, time.Second)
	closedLoop(c, appURL, t, concurrency, time.Second)
	var bare, real []result
	for range 2 {
		bare = append(bare, closedLoop(c, bareURL, t, concurrency, duration/2))
		stopProfile := startProfile()
		b0, r0 := db.CardBatchStats()
		real = append(real, closedLoop(c, appURL, t, concurrency, duration/2))
		b1, r1 := db.CardBatchStats()
		stopProfile()
		batchSizes = append(batchSizes, float64(r1-r0)/float64(max(1, b1-b0)))
	}
	b, r := merge(bare), merge(real)
	fmt.Printf("\nclosed loop, %d in flight, %s per server:\n", concurrency, duration)
	printHeader()
	b.print("bare gin, fixed JSON")
	r.print("qwoty " + t.path)
	fmt.Printf("  (requests per database batch on the real path: %.1f)\n", slices.Max(batchSizes))
	ratio := r.rps / b.rps
	fmt.Printf("  throughput ratio: %.1f%% of the bare handler (target ≥ 40%%)\n", 100*ratio)

	// The same schedule against the bare handler first: its p99 is the
	// floor this machine, this client and Go's runtime give any handler.
	fb := fixedRate(c, bareURL, t, rate, rateDuration/2)
	fr := fixedRate(c, appURL, t, rate, rateDuration)
	fmt.Printf("\nfixed rate, %d req/s offered (bare for %s, then qwoty for %s):\n", rate, rateDuration/2, rateDuration)
	printHeader()
	fb.print("bare gin, fixed JSON")
	fr.print("qwoty " + t.path)
	fmt.Printf("  p99 %s (target < 5ms)\n", fr.p99.Round(10*time.Microsecond))

	verdict := "met"
	if ratio < 0.40 || fr.p99 >= 5*time.Millisecond || r.errors > 0 || fr.errors > 0 {
		verdict = "NOT met"
	}
	if syncRate > 0 {
		if !compareWithSync(ctx, db, c, appURL, t, rate, rateDuration, quiet) {
			verdict = "NOT met"
		}
	}
	fmt.Printf("\ntargets %s\n", verdict)
	return nil
}

var (
	profilePath string
	batchSizes  []float64
	// syncRate is -sync's edits a second (0: no sync comparison).
	syncRate int
)

// compareWithSync alternates fixed-rate phases without and with sync
// working beside the card path (startSync), twice each so that drift on a
// shared machine hits both, and compares their p99.
func compareWithSync(ctx context.Context, db *store.DB, c *client, appURL string, t *target, rate int, d time.Duration, log *slog.Logger) bool {
	var without, with []result
	var said string
	sw, err := newSyncWorld(ctx, db, log)
	if err != nil {
		fmt.Println("  sync could not start:", err)
		return false
	}
	defer sw.emu.Close()
	for range 2 {
		without = append(without, fixedRate(c, appURL, t, rate, d/2))
		stop, err := sw.start(ctx, syncRate)
		if err != nil {
			fmt.Println("  sync could not start:", err)
			return false
		}
		time.Sleep(time.Second) // the engine up, the first pushes out
		with = append(with, fixedRate(c, appURL, t, rate, d/2))
		said = stop()
	}
	w0, w1 := merge(without), merge(with)
	fmt.Printf("\nfixed rate, %d req/s offered, without and with sync (%d edits/s pushed to HubSpot's emulator):\n", rate, syncRate)
	printHeader()
	w0.print("without sync")
	w1.print("with sync")
	ratio := float64(w1.p99) / float64(w0.p99)
	fmt.Printf("  p99 with sync: %.0f%% of without (target ≤ 110%%); last sync phase: %s\n", ratio*100, said)
	return ratio <= 1.10 && w1.errors == 0
}

// startProfile profiles the real path's phases when -cpuprofile is set.
func startProfile() func() {
	if profilePath == "" {
		return func() {}
	}
	f, err := os.Create(profilePath)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	profilePath = "" // one phase is enough
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// load is the temporary database both measurements run on, migrated, with
// one Salesforce connection.
type load struct {
	dbURL string
	key   []byte
	keys  *keyring.Keyring
	db    *store.DB
	org   string
	conn  *qwoty.Connection
	drop  func()
}

// openLoad creates and migrates a temporary database on the server at
// pgURL and adds the load's connection to it.
func openLoad(ctx context.Context, pgURL string) (*load, error) {
	dbURL, drop, err := tempDatabase(ctx, pgURL)
	if err != nil {
		return nil, err
	}
	l := &load{dbURL: dbURL, key: make([]byte, keyring.MasterKeySize), drop: drop}
	_, _ = rand.Read(l.key)
	l.keys, _ = keyring.New(l.key)
	if l.db, err = store.Open(ctx, dbURL, l.keys, store.Options{}); err != nil {
		drop()
		return nil, err
	}
	if err := l.db.Migrate(ctx); err != nil {
		l.close()
		return nil, err
	}
	l.org, _ = salesforce.NormalizeOrgID("00D00000000LOAD")
	l.conn, err = l.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Load", Provider: qwoty.ProviderSalesforce, ExternalID: l.org, MyDomain: "load"})
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// close closes the database and drops it.
func (l *load) close() {
	l.db.Close()
	l.drop()
}

// target is the signed card call measured: its route, and the i-th request
// to a server at base, signed afresh as the CRM signs each call. Both servers
// get the same requests from the same client.
type target struct {
	method, path string
	request      func(base string, i int) *http.Request
}

// salesforceCard seeds n opportunities of the load's Salesforce connection
// and returns the Apex callout for them: a fresh nonce and timestamp each.
func salesforceCard(ctx context.Context, ld *load, n int) (*target, error) {
	bodies := make([][]byte, 0, n)
	for i := range n {
		rec, _ := salesforce.NormalizeID(fmt.Sprintf("006%012d", i))
		acc, _ := salesforce.NormalizeID(fmt.Sprintf("001%012d", i%50))
		if err := seedQuotes(ctx, ld.db, ld.conn, rec); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(map[string]any{
			"recordId": rec, "objectType": "Opportunity",
			"user":   map[string]any{"id": "005000000000001AAA", "email": "rep@acme.com", "name": "Rep", "locale": "en_US", "timeZone": "Europe/Paris"},
			"record": map[string]any{"name": fmt.Sprintf("Deal %d", i), "accountId": acc, "accountName": fmt.Sprintf("Account %d", i%50), "amount": 12000.5, "currencyIsoCode": "USD", "stageName": "Prospecting", "closeDate": "2026-12-31"},
		})
		bodies = append(bodies, b)
	}
	org, secret := ld.org, ld.conn.Secret
	return &target{method: http.MethodPost, path: "/api/crm/cardView", request: func(base string, i int) *http.Request {
		body := bodies[i%len(bodies)]
		req, _ := http.NewRequest(http.MethodPost, base+"/api/crm/cardView", bytes.NewReader(body))
		req.Header = salesforce.SignedHeaders(org, secret, "/api/crm/cardView", body, time.Now(), salesforce.NewNonce())
		return req
	}}, nil
}

// seedQuotes gives a record of conn three quotes of one line each, so the
// card's list query reads real rows.
func seedQuotes(ctx context.Context, db *store.DB, conn *qwoty.Connection, record string) error {
	s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: record}
	for j := range 3 {
		q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD", Title: fmt.Sprintf("Quote %d", j)})
		if err != nil {
			return err
		}
		l, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "LIC", Quantity: "10", UnitPrice: "99.5"})
		if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "", func(q *qwoty.Quote) error { return q.AddLine(l) }); err != nil {
			return err
		}
	}
	return nil
}

// serveBare answers t's route with a fixed answer.
func serveBare(ctx context.Context, ln net.Listener, t *target, answer []byte) {
	r := gin.New()
	r.Handle(t.method, t.path, func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, c.Request.Body)
		c.Data(http.StatusOK, "application/json; charset=utf-8", answer)
	})
	s := &http.Server{Handler: r}
	go func() { <-ctx.Done(); s.Close() }()
	_ = s.Serve(ln)
}

type client struct{ http *http.Client }

func newClient(conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// call sends t's i-th request to base.
func (c *client) call(base string, t *target, i int) ([]byte, error) {
	resp, err := c.http.Do(t.request(base, i))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return b, err
}

type result struct {
	n, errors int
	elapsed   time.Duration
	latencies []time.Duration
	rps       float64
	p50, p99  time.Duration
	max       time.Duration
	firstErr  error
	// CPU used in the phase by this process and by PostgreSQL (totals).
	cpuSelf, cpuPG, cpuDB time.Duration
	cpuPGOK               bool
}

func merge(rs []result) result {
	var m result
	for _, r := range rs {
		m.n += r.n
		m.errors += r.errors
		m.elapsed += r.elapsed
		m.latencies = append(m.latencies, r.latencies...)
		m.cpuSelf += r.cpuSelf
		m.cpuPG += r.cpuPG
		m.cpuDB += r.cpuDB
		m.cpuPGOK = r.cpuPGOK
		if m.firstErr == nil {
			m.firstErr = r.firstErr
		}
	}
	return m.finish()
}

func (r *result) addCPU(a, b cpuSample) {
	r.cpuSelf, r.cpuPG, r.cpuDB, r.cpuPGOK = b.self-a.self, b.postgres-a.postgres, b.ownDB-a.ownDB, a.postgresOK && b.postgresOK
}

func (r result) finish() result {
	slices.Sort(r.latencies)
	if len(r.latencies) > 0 {
		r.p50 = r.latencies[len(r.latencies)/2]
		r.p99 = r.latencies[len(r.latencies)*99/100]
		r.max = r.latencies[len(r.latencies)-1]
	}
	if r.elapsed > 0 {
		r.rps = float64(r.n) / r.elapsed.Seconds()
	}
	return r
}

// printHeader names the columns of print: CPU/req is this process's (client
// and server), PG CPU/req the machine's PostgreSQL's, PG own/req that of the
// backends serving the load's database alone (cpuSample).
func printHeader() {
	fmt.Printf("  %-28s %9s %9s %9s %9s %7s %10s %10s %10s\n", "", "req/s", "p50", "p99", "max", "errors", "CPU/req", "PG CPU/req", "PG own/req")
}

func (r result) print(name string) {
	pg, own := "?", "?"
	if r.cpuPGOK && r.n > 0 {
		pg = (r.cpuPG / time.Duration(r.n)).Round(time.Microsecond).String()
		own = (r.cpuDB / time.Duration(r.n)).Round(time.Microsecond).String()
	}
	self := "?"
	if r.n > 0 {
		self = (r.cpuSelf / time.Duration(r.n)).Round(time.Microsecond).String()
	}
	fmt.Printf("  %-28s %9.0f %9s %9s %9s %7d %10s %10s %10s\n", name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.errors, self, pg, own)
	if r.firstErr != nil {
		fmt.Printf("    first error: %v\n", r.firstErr)
	}
}

// closedLoop keeps n requests in flight for d.
func closedLoop(c *client, base string, t *target, n int, d time.Duration) result {
	var mu sync.Mutex
	res := result{}
	var next atomic.Int64
	deadline := time.Now().Add(d)
	cpu0 := sampleCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			var errs int
			var first error
			for time.Now().Before(deadline) {
				i := int(next.Add(1))
				t0 := time.Now()
				_, err := c.call(base, t, i)
				local = append(local, time.Since(t0))
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			res.n += len(local)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.addCPU(cpu0, sampleCPU())
	return res.finish()
}

// fixedRate sends rate requests per second for d on a fixed schedule, each
// timed from when it was due, so a slow server cannot hide its queueing.
func fixedRate(c *client, base string, t *target, rate int, d time.Duration) result {
	total := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	cpu0 := sampleCPU()
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.call(base, t, i)
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	res := result{n: total, elapsed: time.Since(start), latencies: lat}
	res.addCPU(cpu0, sampleCPU())
	for _, e := range errs {
		if e != nil {
			res.errors++
			if res.firstErr == nil {
				res.firstErr = e
			}
		}
	}
	return res.finish()
}

// tempDatabase creates a database for this run on the server and returns
// its URL and a function that drops it.
func tempDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "qwoty_load_" + hex.EncodeToString(b[:])
	loadDatabase = name
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, err
	}
	admin.Close(ctx)
	u, _ := url.Parse(serverURL)
	u.Path = "/" + name
	if v := os.Getenv("LOAD_PG_PARAMS"); v != "" {
		u.RawQuery += "&" + v
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), serverURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}
