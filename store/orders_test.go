package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Accepting a quote generates one order with the lines and totals of the
// revision accepted, numbered per workspace; moving it is audited, final
// states stay final, and an order of another CRM account is not found.
func TestAcceptGeneratesOneOrder(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q := sentQuote(t, db, s)
	if o, err := db.QuoteOrder(ctx, s, q.ID); err != nil || o != nil {
		t.Fatalf("a sent quote has an order: %+v, %v", o, err)
	}
	q, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-1", move(qwoty.StatusAccepted))
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.QuoteOrder(ctx, s, q.ID)
	if err != nil || o == nil {
		t.Fatalf("accepted quote's order: %+v, %v", o, err)
	}
	if o.Number != "O-00001" || o.QuoteNumber != q.Number || o.Revision != q.Revision || o.Status != qwoty.OrderOpen ||
		o.Origin != qwoty.OrderFromQuote || o.Currency != "EUR" || !o.Totals.Total.Equal(q.Totals.Total) ||
		len(o.Lines) != 1 || o.Lines[0].SKU != "A" || !o.Lines[0].Net.Equal(q.Lines[0].Net) || o.CRMRecordID != s.RecordID {
		t.Fatalf("order %+v does not freeze quote %+v", o, q)
	}
	// Accepting is final, so a second acceptance cannot happen; a second
	// quote accepted on the record is the workspace's next order.
	q2 := sentQuote(t, db, s)
	if _, err := db.UpdateQuote(ctx, s, q2.ID, 0, "rep-1", move(qwoty.StatusAccepted)); err != nil {
		t.Fatal(err)
	}
	orders, err := db.RecordOrders(ctx, s)
	if err != nil || len(orders) != 2 || orders[0].Number != "O-00002" || orders[0].QuoteID != q2.ID {
		t.Fatalf("record orders: %+v, %v", orders, err)
	}
	// Another CRM account of another workspace does not see it.
	if _, err := db.ConnectionOrder(ctx, b.WorkspaceID, b.ID, o.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("another account read the order: %v", err)
	}
	// Status: open → fulfilled, audited; fulfilled is final; a stale version is refused.
	if _, err := db.SetOrderStatus(ctx, a.WorkspaceID, a.ID, o.ID, o.Version+1, qwoty.OrderFulfilled, "admin"); qwoty.ErrorCode(err) != qwoty.CodeVersionConflict {
		t.Fatalf("stale version: %v", err)
	}
	f, err := db.SetOrderStatus(ctx, a.WorkspaceID, a.ID, o.ID, o.Version, qwoty.OrderFulfilled, "admin")
	if err != nil || f.Status != qwoty.OrderFulfilled || f.Version != o.Version+1 {
		t.Fatalf("fulfil: %+v, %v", f, err)
	}
	if _, err := db.SetOrderStatus(ctx, a.WorkspaceID, a.ID, o.ID, 0, qwoty.OrderCancelled, "admin"); qwoty.ErrorCode(err) != qwoty.CodeInvalidTransition {
		t.Fatalf("cancel a fulfilled order: %v", err)
	}
	var e *qwoty.Error
	if _, err := db.SetOrderStatus(ctx, b.WorkspaceID, b.ID, o.ID, 0, qwoty.OrderCancelled, "admin"); !errors.As(err, &e) || e.Code != qwoty.CodeNotFound {
		t.Fatalf("another account moved the order: %v", err)
	}
}

// A deal won in the CRM accepts its quote through the status mapping: the
// order is generated then too, once.
func TestStageWonGeneratesOrder(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006A"}
	q := sentQuote(t, db, s)
	if _, err := db.SaveMapping(ctx, c.WorkspaceID, c.ID, qwoty.Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "StageName",
		Direction: qwoty.BothWays, Policy: qwoty.LastWriteWins, ValueMap: map[string]string{"sent": "Proposal", "accepted": "Closed Won"},
		Standard: true}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour)
	for i, stage := range []string{"Proposal", "Closed Won", "Closed Won"} {
		if _, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindDeal, ID: "006A",
			Modified: at.Add(time.Duration(i) * time.Second), Deal: &crm.PulledDeal{Name: "A", Stage: stage}}}); err != nil {
			t.Fatal(err)
		}
	}
	orders, err := db.RecordOrders(ctx, s)
	if err != nil || len(orders) != 1 || orders[0].QuoteID != q.ID || orders[0].Status != qwoty.OrderOpen {
		t.Fatalf("orders after Closed Won: %+v, %v", orders, err)
	}
}
