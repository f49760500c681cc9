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

// An order is queued for its CRM in the transaction that accepts its
// quote, only with the order trigger on and a CRM that takes orders; one
// run holds it at a time; a status change while it is written sends it
// again.
func TestOrderPushQueue(t *testing.T) {
	db := storetest.New(t)
	takes := true
	db.SetOrderSyncing(func(qwoty.Provider) bool { return takes })
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	accept := func() *qwoty.Order {
		t.Helper()
		q := sentQuote(t, db, s)
		if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-1", move(qwoty.StatusAccepted)); err != nil {
			t.Fatal(err)
		}
		o, err := db.QuoteOrder(ctx, s, q.ID)
		if err != nil || o == nil {
			t.Fatalf("the order: %+v, %v", o, err)
		}
		return o
	}

	// The trigger off (the default): nothing queued.
	o := accept()
	if _, err := db.OrderPushOf(ctx, a.ID, o.ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("queued with the trigger off: %v", err)
	}
	set, err := db.SyncSettingsOf(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.Triggers = append(set.Triggers, qwoty.TriggerOrder)
	if err := db.SaveSyncSettings(ctx, a.WorkspaceID, a.ID, set, "admin"); err != nil {
		t.Fatal(err)
	}
	// A CRM that takes no orders: nothing queued either.
	takes = false
	o = accept()
	if _, err := db.OrderPushOf(ctx, a.ID, o.ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("queued for a CRM without orders: %v", err)
	}
	takes = true
	o = accept()
	p, err := db.OrderPushOf(ctx, a.ID, o.ID)
	if err != nil || p.State != store.OrderPushPending || p.RecordID != s.RecordID {
		t.Fatalf("the push: %+v, %v", p, err)
	}

	// One run at a time.
	mine, _, err := db.ClaimOrderPush(ctx, p, time.Minute)
	if err != nil || !mine {
		t.Fatalf("first claim: %v, %v", mine, err)
	}
	other, until, err := db.ClaimOrderPush(ctx, p, time.Minute)
	if err != nil || other || time.Until(until) < 50*time.Second {
		t.Fatalf("second claim: %v until %s, %v", other, until, err)
	}
	if err := db.StartOrderPush(ctx, p); err != nil || p.State != store.OrderPushPushing {
		t.Fatalf("start: %+v, %v", p, err)
	}
	// Fulfilled while the run writes it as open: the run's record sends it
	// again rather than end done.
	if _, err := db.SetOrderStatus(ctx, a.WorkspaceID, a.ID, o.ID, 0, qwoty.OrderFulfilled, "admin"); err != nil {
		t.Fatal(err)
	}
	state, err := db.RecordOrderPush(ctx, p, crm.OrderObject, store.WriteResult{State: store.OrderPushDone, CRMID: "801A",
		Status: qwoty.OrderOpen, Action: crm.ActionCreated})
	if err != nil || state != store.OrderPushPending {
		t.Fatalf("recorded %q, %v; want pending", state, err)
	}
	if got, _ := db.QuoteOrder(ctx, s, o.QuoteID); got.CRMOrderID != "801A" {
		t.Fatalf("the order's CRM id %q", got.CRMOrderID)
	}
	// The lease is released: the next run claims it, and ends done.
	if mine, _, err := db.ClaimOrderPush(ctx, p, time.Minute); err != nil || !mine {
		t.Fatalf("claim after the record: %v, %v", mine, err)
	}
	state, err = db.RecordOrderPush(ctx, p, crm.OrderObject, store.WriteResult{State: store.OrderPushDone, CRMID: "801A",
		Status: qwoty.OrderFulfilled, Action: crm.ActionUpdated})
	if err != nil || state != store.OrderPushDone {
		t.Fatalf("recorded %q, %v; want done", state, err)
	}
	if p, _ = db.OrderPushOf(ctx, a.ID, o.ID); p.PushedStatus != qwoty.OrderFulfilled || p.CRMOrderID != "801A" || p.State != store.OrderPushDone {
		t.Fatalf("the push after: %+v", p)
	}
	if _, _, err := db.ClaimOrderPush(ctx, p, time.Minute); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("a done push claimed: %v", err)
	}
	log, err := db.SyncLog(ctx, a.WorkspaceID, a.ID, store.SyncLogFilter{CRMObject: crm.OrderObject})
	if err != nil || len(log) != 2 || log[0].Outcome != store.SyncedOutcome || log[0].CRMID != "801A" {
		t.Fatalf("sync log: %+v, %v", log, err)
	}
}
