// Package multi runs the product as it scales: several `qwoty serve`
// processes on one PostgreSQL behind a load balancer. Its tests build the
// binary and start it as child processes, so they run only when asked:
// QWOTY_MULTI_TEST=1 (make test-multi, part of make test) for the
// two-instance test, QWOTY_SOAK=1 (make soak) for the soak.
package multi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Two instances behind a round-robin balancer: the console's first run,
// login, OAuth connect and API key, the card (signed callout, embed page,
// a quote, a line edited), an API call, and the sync push to Salesforce's
// emulator all go through it with no error. Then a rolling restart (SIGTERM,
// start, for each instance in turn) while cards are edited and the API is
// called in a loop: every acknowledged edit is in the database, every
// quote reaches the emulator once with its latest lines, no request fails.
//
// The instances run with QWOTY_ENV=development because APP_URL is the
// balancer's http:// loopback address, which production refuses. That also
// skips the readiness delay on SIGTERM: the instance closes its listener at
// once, and the balancer, which does not probe /readyz, meets refused
// connections. For the same reason the balancer opens a connection per
// request here: a connection kept alive that the stopping instance closes
// just as the balancer sends a request on it fails that request (EOF), which
// no balancer retries for a POST. In production the readiness delay is what
// takes an instance out of a balancer probing /readyz before its connections
// close (docs/deploy.md); the soak keeps connections alive.
func TestTwoInstancesBehindABalancer(t *testing.T) {
	if os.Getenv("QWOTY_MULTI_TEST") == "" {
		t.Skip("the two-instance test runs with QWOTY_MULTI_TEST=1 (make test-multi)")
	}
	const records = 12
	f := newFleet(t, records, false)
	ctx := context.Background()

	// The console: first admin, login, connect, API key.
	conn, key := f.connectConsole(t)
	c := newClient(f.lb.URL)

	// The card: callout, page, a quote with a line, the line edited.
	rec := f.crm.Records[0]
	k, err := c.openCard(conn, rec)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs())
	}
	q, err := k.newQuote()
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs())
	}
	if err := k.setQuantity(q, 7); err != nil {
		t.Fatalf("%v\n%s", err, f.logs())
	}
	scope := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: rec}
	if got, err := f.db.GetQuote(ctx, scope, q.id); err != nil || len(got.Lines) != 1 || got.Lines[0].Quantity.String() != "7" {
		t.Fatalf("the edited quote in the database: %+v, %v", got, err)
	}

	// The API: the organisation, the card's quote, a quote of its own.
	if status, b, err := c.apiGet(key, "/organization"); err != nil || status != 200 {
		t.Fatalf("GET /organization: %d %s %v", status, b, err)
	}
	if status, b, err := c.apiGet(key, "/quotes/"+q.id); err != nil || status != 200 {
		t.Fatalf("GET /quotes/%s: %d %s %v", q.id, status, b, err)
	}
	if _, err := c.apiCreate(key, f.crm.Records[1], "first-api-quote"); err != nil {
		t.Fatal(err)
	}

	// The sync push: both quotes reach the emulator, once each, with their
	// lines.
	f.waitSynced(t, conn, 2*time.Minute)
	if n := len(f.crm.Salesforce.Quotes(f.org(), rec)); n != 1 {
		t.Fatalf("%d mirrors of the card's quote in the org, want 1", n)
	}
	checkClean(t, f, c)
	for i := range f.ins {
		if f.lb.sent[i].Load() == 0 {
			t.Fatalf("the balancer sent nothing to %s", f.ins[i].name)
		}
	}
	t.Logf("flows: %d requests to instance 1, %d to instance 2", f.lb.sent[0].Load(), f.lb.sent[1].Load())

	// The rolling restart, under load.
	rolling(t, f, c, conn, key)
}

// checkClean fails the test on any 4xx, 5xx or transport error the client
// saw, and on any request the balancer could not pass on.
func checkClean(t *testing.T, f *fleet, c *client) {
	t.Helper()
	s5, s4, tr, first := c.failures()
	if s5 > 0 || s4 > 0 || tr > 0 || f.lb.failed.Load() > 0 {
		t.Fatalf("%d × 5xx, %d × 4xx, %d transport errors, %d balancer failures: %v %v\n%s", s5, s4, tr, f.lb.failed.Load(), first, f.lb.errors(), f.logs())
	}
}

// cardWorkers and apiWorkers run during the rolling restart.
const (
	cardWorkers = 4
	apiWorkers  = 2
)

// editor is a card worker: one quote of its own record, its line's
// quantity edited again and again; acked is the last quantity the server
// acknowledged.
type editor struct {
	record string
	q      *editedQuote
	acked  atomic.Int64
	err    atomic.Value
}

func rolling(t *testing.T, f *fleet, c *client, conn *qwoty.Connection, key string) {
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	editors := make([]*editor, cardWorkers)
	for i := range editors {
		e := &editor{record: f.crm.Records[2+i]}
		editors[i] = e
		k, err := c.openCard(conn, e.record)
		if err != nil {
			t.Fatal(err)
		}
		if e.q, err = k.newQuote(); err != nil {
			t.Fatal(err)
		}
		e.acked.Store(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 2; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := k.setQuantity(e.q, n); err != nil {
					e.err.Store(err)
					return // the quote's version is unknown from here
				}
				e.acked.Store(int64(n))
				if n%10 == 0 { // the card is opened again now and then
					if _, _, err := c.callout(conn, e.record); err != nil {
						e.err.Store(err)
						return
					}
				}
			}
		}()
	}
	var apiMu sync.Mutex
	var apiQuotes []string
	var apiErr atomic.Value
	for w := range apiWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if n%5 == 0 {
					rec := f.crm.Records[2+cardWorkers+w]
					id, err := c.apiCreate(key, rec, fmt.Sprintf("rolling-%d-%d", w, n))
					if err != nil {
						apiErr.Store(err)
						return
					}
					apiMu.Lock()
					apiQuotes = append(apiQuotes, rec+"/"+id)
					apiMu.Unlock()
					continue
				}
				if status, b, err := c.apiGet(key, "/quotes?limit=20"); err != nil || status != http.StatusOK {
					apiErr.Store(fmt.Errorf("GET /quotes: %d %s %v", status, tail(string(b), 200), err))
					return
				}
			}
		}()
	}

	// Each instance in turn: SIGTERM, wait for it to exit, start it again.
	refusedBefore := f.lb.refused.Load()
	time.Sleep(2 * time.Second)
	for _, in := range f.ins {
		sentBefore := c.count("card edit")
		exit, took := in.stop(t, 40*time.Second)
		if exit != nil {
			t.Errorf("%s exited with %v after SIGTERM", in.name, exit)
		}
		t.Logf("%s stopped in %s (%d card edits during the stop)", in.name, took.Round(time.Millisecond), c.count("card edit")-sentBefore)
		time.Sleep(time.Second) // traffic on the other instance alone
		began := time.Now()
		in.start(t)
		t.Logf("%s ready again in %s", in.name, time.Since(began).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
	}
	close(stop)
	wg.Wait()

	for _, e := range editors {
		if err, _ := e.err.Load().(error); err != nil {
			t.Errorf("card worker on %s: %v", e.record, err)
		}
	}
	if err, _ := apiErr.Load().(error); err != nil {
		t.Errorf("API worker: %v", err)
	}
	checkClean(t, f, c)
	if f.lb.refused.Load() == refusedBefore {
		t.Errorf("no connection was refused: the restarts happened without traffic reaching a stopped instance")
	}

	// Nothing lost: every acknowledged edit is in the database.
	edits := 0
	for _, e := range editors {
		scope := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: e.record}
		got, err := f.db.GetQuote(ctx, scope, e.q.id)
		if err != nil || len(got.Lines) != 1 {
			t.Fatalf("quote %s: %+v, %v", e.q.id, got, err)
		}
		if want := strconv.FormatInt(e.acked.Load(), 10); got.Lines[0].Quantity.String() != want {
			t.Errorf("quote %s: quantity %s in the database, %s acknowledged last", e.q.id, got.Lines[0].Quantity, want)
		}
		edits += int(e.acked.Load()) - 1
	}
	apiMu.Lock()
	for _, rq := range apiQuotes {
		rec, id, _ := strings.Cut(rq, "/")
		if _, err := f.db.GetQuote(ctx, store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: rec}, id); err != nil {
			t.Errorf("the API's quote %s: %v", id, err)
		}
	}
	nAPI := len(apiQuotes)
	apiMu.Unlock()
	// Every push arrived once, with the latest values.
	f.waitSynced(t, conn, 2*time.Minute)
	t.Logf("rolling restart: %d card edits acknowledged, %d API quotes, %d API reads, %d refused connections retried; instance 1 got %d requests, instance 2 %d",
		edits, nAPI, c.count("api read"), f.lb.refused.Load()-refusedBefore, f.lb.sent[0].Load(), f.lb.sent[1].Load())
}
