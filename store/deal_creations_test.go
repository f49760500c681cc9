package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A quote without a CRM record: never primary, never in the outbox (no
// sync_records row under an empty record), refused as a primary quote;
// its deal queued once when it reaches the deal status, only for a CRM
// that makes deals; one run holds the row at a time; a customer without
// an account is keyed by its reference.
func TestDealQueue(t *testing.T) {
	db := storetest.New(t)
	makes := true
	db.SetDealMaking(func(qwoty.Provider) bool { return makes })
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}

	name, ref, domain := "Globex", "erp:customer:1", "WWW.Globex.example"
	c, created, err := db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: &name, ExternalRef: &ref, Domain: &domain})
	if err != nil || !created || c.CRMAccountID != "" || c.Domain != "globex.example" {
		t.Fatalf("customer %+v, %v, %v", c, created, err)
	}
	renamed := "Globex Corp"
	again, created, err := db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: &renamed, ExternalRef: &ref})
	if err != nil || created || again.ID != c.ID || again.Name != renamed || again.Domain != "globex.example" {
		t.Fatalf("the same reference made %+v (created %v), %v", again, created, err)
	}

	newQuote := func() *qwoty.Quote {
		t.Helper()
		l, err := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Description: "Licence", Quantity: "1", UnitPrice: "10"})
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", CustomerID: c.ID, CreatedBy: "api", Lines: []qwoty.LineItem{l}})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	q := newQuote()
	if q.Primary || q.CRMRecordID != "" || q.CustomerID != c.ID {
		t.Fatalf("quote %+v", q)
	}
	var rows int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM sync_records WHERE crm_record_id = ''`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d outbox rows without a record, %v", rows, err)
	}
	if _, err := db.SetPrimary(ctx, s, q.ID, "api"); qwoty.ErrorCode(err) != qwoty.CodeQuoteNoRecord {
		t.Fatalf("primary without a record: %v", err)
	}
	// A draft: not yet (the default deal status is sent).
	if _, err := db.DealCreationOf(ctx, a.ID, q.ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("a draft queued its deal: %v", err)
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, 0, "api", move(qwoty.StatusSent))
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.DealCreationOf(ctx, a.ID, q.ID)
	if err != nil || d.State != store.DealPending {
		t.Fatalf("deal %+v, %v", d, err)
	}
	// Viewed, accepted: still one row, one job.
	for _, st := range []qwoty.Status{qwoty.StatusViewed, qwoty.StatusAccepted} {
		if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "api", move(st)); err != nil {
			t.Fatal(err)
		}
	}
	var jobs int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'deal_create' AND args->>'quote_id' = $1`, q.ID).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("%d deal jobs, %v", jobs, err)
	}
	mine, _, err := db.ClaimDealCreation(ctx, d, time.Minute)
	if err != nil || !mine {
		t.Fatalf("claim: %v, %v", mine, err)
	}
	if mine, _, err := db.ClaimDealCreation(ctx, d, time.Minute); err != nil || mine {
		t.Fatalf("a second run claimed it: %v, %v", mine, err)
	}

	// A CRM that makes no deals: nothing queued.
	makes = false
	q2 := newQuote()
	if _, err := db.UpdateQuote(ctx, s, q2.ID, 0, "api", move(qwoty.StatusSent)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DealCreationOf(ctx, a.ID, q2.ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("queued for a CRM without deals: %v", err)
	}
}

// An order push and a deal making whose jobs are gone (discarded) are
// queued again by the sweep once they have not moved for a while; those
// with a live job, or that moved lately, are left alone.
func TestRequeueStrandedWrites(t *testing.T) {
	db := storetest.New(t)
	db.SetDealMaking(func(qwoty.Provider) bool { return true })
	db.SetOrderSyncing(func(qwoty.Provider) bool { return true })
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	set, err := db.SyncSettingsOf(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Triggers = append(set.Triggers, qwoty.TriggerOrder)
	if err := db.SaveSyncSettings(ctx, a.WorkspaceID, a.ID, set, "admin"); err != nil {
		t.Fatal(err)
	}
	rec := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q := sentQuote(t, db, rec)
	if _, err := db.UpdateQuote(ctx, rec, q.ID, 0, "rep-1", move(qwoty.StatusAccepted)); err != nil {
		t.Fatal(err)
	}
	o, err := db.QuoteOrder(ctx, rec, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	noRecord := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}
	d := sentQuote(t, db, noRecord)
	if _, err := db.DealCreationOf(ctx, a.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	jobsOf := func(kind, key, id string) int {
		t.Helper()
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND args->>$2 = $3 AND state = 'available'`,
			kind, key, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Live jobs, or recent rows: nothing to do.
	if n, err := db.RequeueStrandedWrites(ctx, 0); err != nil || n != 0 {
		t.Fatalf("with their jobs: %d requeued, %v", n, err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE kind IN ('order_push', 'deal_create')`); err != nil {
		t.Fatal(err)
	}
	if n, err := db.RequeueStrandedWrites(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("moved lately: %d requeued, %v", n, err)
	}
	if n, err := db.RequeueStrandedWrites(ctx, 0); err != nil || n != 2 {
		t.Fatalf("stranded: %d requeued, %v; want the order and the deal", n, err)
	}
	if jobsOf("order_push", "order_id", o.ID) != 1 || jobsOf("deal_create", "quote_id", d.ID) != 1 {
		t.Fatal("the jobs were not queued again")
	}
	if n, err := db.RequeueStrandedWrites(ctx, 0); err != nil || n != 0 {
		t.Fatalf("requeued again: %d, %v", n, err)
	}
}
