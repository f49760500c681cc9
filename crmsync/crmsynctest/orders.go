package crmsynctest

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// CRMOrder is an order a CRM holds on a record, as its emulator tells: its
// id, Qwoty's number, its status in the CRM's words and the Qwoty status
// they stand for, its total (the sum of its products) and its products.
type CRMOrder struct {
	ID     string
	Number string
	Status string
	Says   qwoty.OrderStatus
	Total  decimal.Decimal
	Lines  int
}

// SendOrders turns the order trigger on, beside the defaults.
func (w *World) SendOrders() {
	w.t.Helper()
	set, err := w.DB.SyncSettingsOf(ctx, w.Conn.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if !slices.Contains(set.Triggers, qwoty.TriggerOrder) {
		set.Triggers = append(set.Triggers, qwoty.TriggerOrder)
	}
	if err := w.DB.SaveSyncSettings(ctx, w.Admin.WorkspaceID, w.Conn.ID, set, "test"); err != nil {
		w.t.Fatal(err)
	}
}

// Accept sends q when it is a draft, then accepts it, and returns the
// order it generated.
func (w *World) Accept(q *qwoty.Quote) (*qwoty.Quote, *qwoty.Order) {
	w.t.Helper()
	if q.Status == qwoty.StatusDraft {
		q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	}
	q = w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
	o, err := w.DB.QuoteOrder(ctx, w.Scope(q.CRMRecordID), q.ID)
	if err != nil || o == nil {
		w.t.Fatalf("the order of %s: %v, %v", q.Number, o, err)
	}
	return q, o
}

// OrderPush is where order o stands with the CRM.
func (w *World) OrderPush(o *qwoty.Order) *store.OrderPush {
	w.t.Helper()
	p, err := w.DB.OrderPushOf(ctx, w.Conn.ID, o.ID)
	if err != nil {
		w.t.Fatalf("the push of order %s: %v", o.Number, err)
	}
	return p
}

// WaitOrderPush waits until order o's push is in state with the CRM's
// order at status (any, when "").
func (w *World) WaitOrderPush(o *qwoty.Order, state string, status qwoty.OrderStatus, timeout time.Duration) *store.OrderPush {
	w.t.Helper()
	var p *store.OrderPush
	defer func() {
		if w.t.Failed() && p != nil {
			for _, e := range w.OrderLog() {
				w.t.Logf("order log: %+v", e)
			}
			w.t.Logf("order push: %+v", *p)
		}
	}()
	w.WaitFor("order "+o.Number+" to be "+state, timeout, func() bool {
		var err error
		p, err = w.DB.OrderPushOf(ctx, w.Conn.ID, o.ID)
		return err == nil && p.State == state && (status == "" || p.PushedStatus == status)
	})
	return p
}

// OrderLog is the sync log's rows of orders, newest first.
func (w *World) OrderLog() []store.SyncLogEntry {
	w.t.Helper()
	log, err := w.DB.SyncLog(ctx, w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{CRMObject: crm.OrderObject})
	if err != nil {
		w.t.Fatal(err)
	}
	return log
}
