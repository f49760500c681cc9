package crmsync_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Two instances pushing a backlog to HubSpot's emulator at its real limit
// (110 calls per 10 s per account). Batched, a backlog costs HubSpot few
// calls (2,000 quotes of 5 lines take about 50); pushed one record at a
// time, 300 quotes take 600 calls, which ten seconds cannot let out, and
// the shared budget keeps every call under the limit while running near
// it.
func TestBudgetTwoInstancesAtHubSpotsLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about a minute")
	}
	const quotes = 300
	c := crmsynctest.HubSpot(t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: quotes})
	opt := crmsynctest.FastOptions()
	opt.Workers = -1
	w := crmsynctest.New(t, c.Adapter, c.Redirect, opt)
	w.Currency = c.Currency
	qs := seed(t, w, c, 5)
	calls := c.Calls()
	began := time.Now()
	opt.Workers, opt.MaxBatch = 4, 1
	w.Start(opt)
	w.Start(opt) // the second instance
	for _, q := range qs {
		w.WaitState(q, qwoty.SyncSynced, 3*time.Minute)
	}
	took, made := time.Since(began), c.Calls()-calls
	rate := float64(made) / took.Seconds()
	t.Logf("%d quotes of 5 lines: %d calls in %s, %.2f calls/s = %.0f%% of HubSpot's 11/s", quotes, made, took.Round(time.Millisecond), rate, rate/11*100)
	if n := c.HubSpot.RateLimited(); n != 0 {
		t.Fatalf("HubSpot answered 429 %d times under the shared budget", n)
	}
	snaps, _ := w.DB.SyncSnapshots(ctx, w.Conn.ID, c.Records)
	for _, d := range c.Verify(snaps) {
		t.Error(d)
	}
	if made <= 220 {
		t.Fatalf("the backlog took %d calls: not enough to meet the limit twice over, the test tests nothing", made)
	}
}

// seed makes one quote of n lines on each of c's records, concurrently,
// before any engine runs.
func seed(t *testing.T, w *crmsynctest.World, c *crmsynctest.CRM, n int) []*qwoty.Quote {
	t.Helper()
	qs := make([]*qwoty.Quote, len(c.Records))
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				lines := make([]crmsynctest.Line, n)
				for j := range lines {
					lines[j] = crmsynctest.Line{SKU: "SKU-" + strconv.Itoa(j), Quantity: int64(j + 1), Price: "19.90"}
				}
				qs[i] = w.Quote(c.Records[i], lines...)
			}
		})
	}
	for i := range c.Records {
		work <- i
	}
	close(work)
	wg.Wait()
	return qs
}

// A Salesforce org whose daily allocation other integrations have nearly
// used: sync stops at the configured share (half the allocation here) and
// its records wait, marked rate limited, without failing.
func TestBudgetSalesforceStopsAtTheShare(t *testing.T) {
	c := crmsynctest.Salesforce(t, crmsynctest.Options{AppURL: "http://127.0.0.1:8080", Records: 40})
	const limit, share = 1000, 0.5
	c.Salesforce.SetAPIUsage(sftest.DefaultOrgID, 470, limit)
	w := crmsynctest.New(t, c.Adapter, c.Redirect, crmsynctest.FastOptions())
	w.Currency = c.Currency
	set, _ := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
	set.BudgetShare = share
	if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	// One record at a time, so that each push costs calls of its own.
	var qs []*qwoty.Quote
	for _, rec := range c.Records {
		q := w.Quote(rec, crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"})
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		qs = append(qs, q)
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := w.DB.SyncHealthOf(ctx, w.Admin.WorkspaceID, w.Conn.ID)
		if err == nil && h.InFlight == 0 && h.Pending > 0 && h.LastErrorCode == qwoty.CodeRateLimited {
			break
		}
		if time.Now().After(deadline) {
			used, _ := c.Salesforce.APIUsage(sftest.DefaultOrgID)
			t.Fatalf("sync did not stop at the share: health %+v, %v; usage %d", h, err, used)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	used, _ := c.Salesforce.APIUsage(sftest.DefaultOrgID)
	if used > limit*share+2 {
		t.Fatalf("the org's usage reached %d of %d: sync went past its share of %.0f%%", used, limit, share*100)
	}
	if used < limit*share-10 {
		t.Fatalf("the org's usage is %d: sync stopped well before its share (%d)", used, int(limit*share))
	}
	h, _ := w.DB.SyncHealthOf(ctx, w.Admin.WorkspaceID, w.Conn.ID)
	if h.Failed != 0 {
		t.Fatalf("%d records failed: a spent budget must make them wait", h.Failed)
	}
	log, _ := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{Outcome: store.WaitingOutcome, Limit: 1})
	if len(log) != 1 {
		t.Fatal("no waiting push in the sync log")
	}
	t.Logf("usage %d of %d, %d records waiting: %s", used, limit, h.Pending, log[0].Message)
}
