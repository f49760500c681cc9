package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Many card requests at once, from two tenants, are batched, and each still
// gets exactly its own answer: its record's quotes, newest first, its
// tenant's, and a nonce repeated among them is claimed once. A request the
// statement could not take fails alone.
func TestConcurrentCardRequestsShareBatchesAndKeepTheirOwnAnswers(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BAAA")
	// Record i of tenant A has i%4 quotes, tenant B one on every record id:
	// the exact ids, newest first, tell every list apart.
	want := map[string][]string{} // tenant + record → quote ids, newest first
	for i := range 8 {
		rec := fmt.Sprintf("006%015d", i)
		for range i % 4 {
			q, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: rec}, store.NewQuote{Currency: "USD"})
			if err != nil {
				t.Fatal(err)
			}
			want["A"+rec] = append([]string{q.ID}, want["A"+rec]...)
		}
		q, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID, RecordID: rec}, store.NewQuote{Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		want["B"+rec] = []string{q.ID}
	}
	b0, r0 := db.CardBatchStats()

	const n = 400
	type outcome struct {
		tenant, rec, nonce string
		res                store.CardResult
		err                error
	}
	out := make([]outcome, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, tenant := a, "A"
			if i%5 == 0 {
				conn, tenant = b, "B"
			}
			rec := fmt.Sprintf("006%015d", i%8)
			nonce := fmt.Sprintf("nonce-%s-%06d", tenant, i)
			if i%50 == 1 {
				nonce = "nonce-shared-by-ten-requests" // ten requests of tenant A, one nonce
			}
			account := "Customer " + tenant
			if i%100 == 7 {
				account = "Bad\x00Name" // PostgreSQL's text cannot hold it
			}
			<-start
			res, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID,
				Nonce: nonce, NonceExpires: time.Now().Add(time.Minute), RecordID: rec,
				AccountID: "001" + tenant, AccountName: account})
			out[i] = outcome{tenant, rec, nonce, res, err}
		}()
	}
	close(start)
	wg.Wait()

	sharedClaims := 0
	for i, o := range out {
		if i%100 == 7 {
			if qwoty.ErrorCode(o.err) != qwoty.CodeBadRequest {
				t.Fatalf("request %d with a NUL in its text: err = %v, want bad_request", i, o.err)
			}
			continue
		}
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
		if o.nonce == "nonce-shared-by-ten-requests" {
			if o.res.Claimed {
				sharedClaims++
			}
			continue
		}
		if !o.res.Claimed || o.res.Status != qwoty.ConnectionActive {
			t.Fatalf("request %d: claimed %v status %q; want a fresh nonce claimed on an active connection", i, o.res.Claimed, o.res.Status)
		}
		var got []string
		for _, q := range o.res.Quotes {
			got = append(got, q.ID)
		}
		if w := want[o.tenant+o.rec]; !slices.Equal(got, w) {
			t.Fatalf("request %d (tenant %s, %s): quotes %v, want %v", i, o.tenant, o.rec, got, w)
		}
	}
	if sharedClaims != 1 {
		t.Fatalf("a nonce sent by ten concurrent requests was claimed %d times, want once", sharedClaims)
	}
	b1, r1 := db.CardBatchStats()
	if r1-r0 == 0 || b1-b0 >= r1-r0 {
		t.Fatalf("%d requests ran in %d batches: concurrent requests were not batched", r1-r0, b1-b0)
	}
	var customers int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&customers); err != nil || customers != 2 {
		t.Fatalf("customers = %d, %v; want one per tenant", customers, err)
	}
}

// A request whose caller gives up while it waits behind a running batch
// returns at once with its context's error, and is never claimed.
func TestCancelledCardRequestReturnsItsContextError(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	req := func(nonce string) store.CardRequest {
		return store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID, Nonce: nonce,
			NonceExpires: time.Now().Add(time.Minute), RecordID: "006X"}
	}

	// Hold the nonce table so that the first request's batch blocks in the
	// database: the next request then waits in the batcher's queue.
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE seen_nonces IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := db.ClaimAndList(ctx, req("nonce-of-the-blocked-batch"))
		first <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b, _ := db.CardBatchStats(); b == 0; b, _ = db.CardBatchStats() {
		if time.Now().After(deadline) {
			t.Fatal("the first batch never started")
		}
		time.Sleep(time.Millisecond)
	}

	cctx, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	go func() {
		_, err := db.ClaimAndList(cctx, req("nonce-of-a-gone-caller"))
		gone <- err
	}()
	time.Sleep(50 * time.Millisecond) // queued behind the blocked batch
	cancel()
	select {
	case err := <-gone:
		if err == nil {
			t.Fatal("a cancelled request succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a cancelled request waited for the batch ahead of it")
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("the blocked batch: %v", err)
	}
	res, err := db.ClaimAndList(ctx, req("nonce-of-a-gone-caller"))
	if err != nil || !res.Claimed {
		t.Fatalf("the nonce of the cancelled request: %+v, %v; want it never claimed", res, err)
	}
}

// A request that is not single-use (an empty nonce: HubSpot's, Pipedrive's)
// writes nothing to seen_nonces, yet is answered as a claimed one: its
// customer upserted, its quotes listed, and its connection's status read
// in the same statement, so a disconnect still refuses it at once. Several
// of them for one connection in one batch are not replays of each other.
// A request with a nonce is still claimed once.
func TestCardRequestsWithoutNonceWriteNoNonce(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	q, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "42"}, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	req := func(nonce string) store.CardRequest {
		return store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID, Nonce: nonce,
			NonceExpires: time.Now().Add(time.Minute), RecordID: "42", AccountID: "7", AccountName: "Globex"}
	}
	nonces := func() int {
		t.Helper()
		var n int
		if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM seen_nonces").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	var wg sync.WaitGroup
	results := make([]store.CardResult, 20)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = db.ClaimAndList(ctx, req("")) })
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil || !res.Claimed || res.Status != qwoty.ConnectionActive || len(res.Quotes) != 1 || res.Quotes[0].ID != q.ID {
			t.Fatalf("request %d without a nonce: %+v, %v; want it claimed with the record's quote", i, res, errs[i])
		}
	}
	if n := nonces(); n != 0 {
		t.Fatalf("requests without a nonce left %d rows in seen_nonces, want none", n)
	}
	var customer string
	if err := db.Pool().QueryRow(ctx, "SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = '7'", a.ID).Scan(&customer); err != nil || customer != "Globex" {
		t.Fatalf("customer %q, %v; want Globex upserted by a request without a nonce", customer, err)
	}

	// A nonce is still single-use.
	if res, err := db.ClaimAndList(ctx, req("nonce-of-a-salesforce-callout")); err != nil || !res.Claimed {
		t.Fatalf("a fresh nonce: %+v, %v", res, err)
	}
	if res, err := db.ClaimAndList(ctx, req("nonce-of-a-salesforce-callout")); err != nil || res.Claimed || len(res.Quotes) != 0 {
		t.Fatalf("a replayed nonce: %+v, %v; want it refused with nothing listed", res, err)
	}
	if n := nonces(); n != 1 {
		t.Fatalf("seen_nonces holds %d rows, want the one nonce", n)
	}

	// A disconnected connection refuses a request without a nonce too.
	if err := db.Disconnect(ctx, a.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if res, err := db.ClaimAndList(ctx, req("")); err != nil || res.Claimed || res.Status != qwoty.ConnectionDisconnected || len(res.Quotes) != 0 {
		t.Fatalf("a request without a nonce on a disconnected connection: %+v, %v; want it refused", res, err)
	}
}

// A card request's quotes carry what the quote's own page shows of them:
// which one is primary and where each stands with the CRM (the same rule,
// syncViewColumns), read in the batch's one statement. Quotes of a record
// with no outbox row, and a record without quotes, read as nothing to say.
func TestCardBatchCarriesPrimaryAndSyncState(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	set, err := db.SyncSettingsOf(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Coalesce = 0
	if err := db.SaveSyncSettings(ctx, a.WorkspaceID, a.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	scope := func(rec string) store.Scope {
		return store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: rec}
	}
	mk := func(rec string) *qwoty.Quote {
		q, err := db.CreateQuote(ctx, scope(rec), store.NewQuote{Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	// Record 1: two quotes pushed, then a third whose push fails.
	mk("r1")
	mk("r1")
	record := func(res store.SyncResult) {
		token, recs, err := db.LeaseSync(ctx, a.ID, 10, time.Minute)
		if err != nil || len(recs) != 1 {
			t.Fatalf("lease: %v %+v", err, recs)
		}
		snaps, err := db.SyncSnapshots(ctx, a.ID, []string{"r1"})
		if err != nil {
			t.Fatal(err)
		}
		res.RecordID, res.Seq = "r1", snaps[0].Seq
		if err := db.RecordSync(ctx, a.WorkspaceID, a.ID, token, []store.SyncResult{res}); err != nil {
			t.Fatal(err)
		}
	}
	record(store.SyncResult{Outcome: store.SyncedOutcome})
	mk("r1")
	record(store.SyncResult{Outcome: store.FailedOutcome, Code: qwoty.CodeSyncRejected, Message: "no"})
	// Record 2: its sync off (no outbox row), one quote.
	set.Triggers = []string{}
	if err := db.SaveSyncSettings(ctx, a.WorkspaceID, a.ID, set, "test"); err != nil {
		t.Fatal(err)
	}
	mk("r2")

	for _, rec := range []string{"r1", "r2", "r3"} {
		res, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID, RecordID: rec, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		page, err := db.ListQuotes(ctx, scope(rec))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Quotes) != len(page) {
			t.Fatalf("%s: the card lists %d quotes, the page %d", rec, len(res.Quotes), len(page))
		}
		for i, q := range res.Quotes {
			p := page[i]
			if q.ID != p.ID || q.Primary != p.Primary || q.Sync.State != p.Sync.State || !q.Sync.At.Equal(p.Sync.At) ||
				q.Sync.Code != p.Sync.Code || q.Sync.Error != p.Sync.Error {
				t.Fatalf("%s quote %d: card %+v %v %+v, page %+v %v %+v", rec, i, q.ID, q.Primary, q.Sync, p.ID, p.Primary, p.Sync)
			}
		}
		var states []string
		primaries := 0
		for _, q := range res.Quotes {
			states = append(states, string(q.Sync.State))
			if q.Primary {
				primaries++
			}
		}
		want := map[string][]string{"r1": {"failed", "synced", "synced"}, "r2": {""}, "r3": nil}[rec]
		if !slices.Equal(states, want) || (len(want) > 0 && primaries != 1) {
			t.Fatalf("%s: states %q with %d primary, want %q with one", rec, states, primaries, want)
		}
	}
}
