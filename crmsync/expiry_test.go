package crmsync_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Two instances (two River clients on one database) expire the quotes past
// their validity while more expiry jobs than one are run at once: each
// quote is expired exactly once (one audit entry, one quote.expired event,
// its CRM push captured), and no quote that is not due is touched: one
// valid until today, a draft and an accepted quote with a past date.
func TestExpiryOnceWithTwoInstances(t *testing.T) {
	_, a := testCRM(t, tctest.Options{}, 0)
	opt := crmsynctest.FastOptions()
	opt.Workers = -1
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, opt)
	if _, err := w.DB.CreateWebhookSubscription(ctx, w.Conn.WorkspaceID, w.Conn.ID, "admin",
		store.WebhookSubscriptionInput{WebhookFilter: qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteExpired}},
			URL: "https://hooks.example/x", Enabled: true}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Fatal(err)
	}
	pool := storetest.Pool(t, w.DB)
	const due = 40
	var dueIDs []string
	setValid := func(q *qwoty.Quote, days int) {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE quotes SET valid_until = (now() AT TIME ZONE 'UTC')::date + $2::int WHERE id = $1`, q.ID, days); err != nil {
			t.Fatal(err)
		}
	}
	line := crmsynctest.Line{SKU: "A", Quantity: 1, Price: "10"}
	for i := range due {
		q := w.Quote(fmt.Sprintf("deal-e%02d", i), line)
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
		if i%2 == 1 {
			q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusViewed) })
		}
		setValid(q, -1-i%3)
		dueIDs = append(dueIDs, q.ID)
	}
	today := w.Edit(w.Quote("deal-today", line), func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	setValid(today, 0)
	draft := w.Quote("deal-draft", line)
	setValid(draft, -5)
	accepted := w.Edit(w.Edit(w.Quote("deal-acc", line), func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) }),
		func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	setValid(accepted, -5)

	opt = crmsynctest.FastOptions()
	opt.ExpireEvery = 50 * time.Millisecond
	// More expiry jobs than one, queued before the instances start, so
	// that both work them at the same time.
	inserter, err := w.DB.NewJobClient(&river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	params := make([]river.InsertManyParams, 12)
	for i := range params {
		params[i] = river.InsertManyParams{Args: jobs.QuoteExpire{}}
	}
	if _, err := inserter.InsertMany(ctx, params); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); w.Start(opt) }()
	}
	wg.Wait()
	// One client may fetch all of them before the other starts (a loaded
	// machine, -race): more, in small batches, until both have worked some.
	w.WaitFor("both instances to work expiry jobs", 20*time.Second, func() bool {
		var clients int
		if err := pool.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[1]) FROM river_job
			WHERE kind = 'quote_expire' AND state = 'completed'`).Scan(&clients); err != nil {
			t.Fatal(err)
		}
		if clients == 2 {
			return true
		}
		if _, err := inserter.InsertMany(ctx, params[:3]); err != nil {
			t.Fatal(err)
		}
		return false
	})
	w.WaitFor("every due quote to expire", 30*time.Second, func() bool {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM quotes WHERE id = ANY($1::uuid[]) AND status = 'expired'`, dueIDs).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == due
	})
	time.Sleep(500 * time.Millisecond) // more periodic runs: nothing more to do
	// Both instances worked expiry jobs.
	var jobsRun, clients int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT attempted_by[1]) FROM river_job
		WHERE kind = 'quote_expire' AND state = 'completed'`).Scan(&jobsRun, &clients); err != nil {
		t.Fatal(err)
	}
	if jobsRun < len(params) || clients != 2 {
		t.Errorf("%d expiry jobs completed by %d clients, want the %d queued at least, by both", jobsRun, clients, len(params))
	}

	entries, err := w.DB.AuditLog(ctx, w.Conn.WorkspaceID, 10000)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]int{}
	for _, e := range entries {
		if e.Action == "quote.status_changed" && e.Detail["to"] == "expired" {
			if e.Actor != store.ExpiryActor {
				t.Errorf("expiry audited as %q", e.Actor)
			}
			audited[fmt.Sprint(e.Detail["quote"])]++
		}
	}
	rows, err := pool.Query(ctx, `SELECT q.id::text, q.number, q.sync_seq > 0,
			(SELECT count(*) FROM webhook_events e WHERE e.subject = q.id::text AND e.type = 'quote.expired')
		FROM quotes q WHERE q.workspace_id = $1`, w.Conn.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	isDue := map[string]bool{}
	for _, id := range dueIDs {
		isDue[id] = true
	}
	seen := 0
	for rows.Next() {
		var id, number string
		var captured bool
		var events int
		if err := rows.Scan(&id, &number, &captured, &events); err != nil {
			t.Fatal(err)
		}
		seen++
		want := 0
		if isDue[id] {
			want = 1
		}
		if audited[number] != want || events != want || !captured {
			t.Errorf("quote %s (due %v): %d audit entries, %d quote.expired events, push captured %v; want %d, %d, true",
				number, isDue[id], audited[number], events, captured, want, want)
		}
	}
	if seen != due+3 {
		t.Fatalf("%d quotes, want %d", seen, due+3)
	}
	for q, want := range map[*qwoty.Quote]qwoty.Status{today: qwoty.StatusSent, draft: qwoty.StatusDraft, accepted: qwoty.StatusAccepted} {
		if got := w.Get(q); got.Status != want {
			t.Errorf("quote %s: %s, want %s (not due)", q.Number, got.Status, want)
		}
	}
}
