package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Many card requests at once, from two tenants, are batched, and each still
// gets exactly its own answer: its record's quotes, its tenant's, and a nonce
// repeated among them is claimed once.
func TestConcurrentCardRequestsShareBatchesAndKeepTheirOwnAnswers(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BAAA")
	// Record i of tenant A has i%4 quotes; tenant B has one quote on every
	// record id, so a request answered with the other tenant's list shows.
	quotes := map[string]int{}
	for i := range 8 {
		rec := fmt.Sprintf("006%015d", i)
		for range i % 4 {
			if _, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: rec}, store.NewQuote{Currency: "USD"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID, RecordID: rec}, store.NewQuote{Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		quotes[rec] = i % 4
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
			<-start
			res, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID,
				Nonce: nonce, NonceExpires: time.Now().Add(time.Minute), RecordID: rec,
				AccountID: "001" + tenant, AccountName: "Customer " + tenant})
			out[i] = outcome{tenant, rec, nonce, res, err}
		}()
	}
	close(start)
	wg.Wait()

	sharedClaims := 0
	for i, o := range out {
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
		want, cur := quotes[o.rec], "USD"
		if o.tenant == "B" {
			want, cur = 1, "EUR"
		}
		if len(o.res.Quotes) != want {
			t.Fatalf("request %d (tenant %s, %s): %d quotes, want %d", i, o.tenant, o.rec, len(o.res.Quotes), want)
		}
		for _, q := range o.res.Quotes {
			if q.Currency != cur {
				t.Fatalf("request %d of tenant %s got a %s quote of the other tenant", i, o.tenant, q.Currency)
			}
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

// A request whose caller gives up while it waits for a batch returns at once
// with its context's error, and claims nothing later.
func TestCancelledCardRequestReturnsItsContextError(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	req := store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID, Nonce: "nonce-of-a-gone-caller",
		NonceExpires: time.Now().Add(time.Minute), RecordID: "006X"}
	if _, err := db.ClaimAndList(cctx, req); err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	res, err := db.ClaimAndList(ctx, req)
	if err != nil || !res.Claimed {
		t.Fatalf("the nonce of a cancelled request: %+v, %v; want it still unclaimed", res, err)
	}
}
