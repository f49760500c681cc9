package crmsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// orderWorker writes an order Qwoty generated to its CRM through the
// connection's crm.OrderSyncer (docs/sync.md, "Orders in the CRM"),
// exactly once: its order_pushes row is claimed for a lease (two runs of
// one order never call the CRM at once), marked pushing (committed)
// before the order is created and done after, and a run that finds it
// pushing looks for the order in the CRM by its number (FindOrder) and
// adopts it before it sends it again. Once made, a status change of the
// order brings the CRM's order to it. The order goes out after its
// quote's deal is synced (the CRM's products are then there). Limits wait
// without using a retry; transient failures retry with the engine's
// backoff, counted on the row; a permanent one ends the row failed, with
// its sync log row and an alert. The quote's own sync is never touched.
type orderWorker struct {
	river.WorkerDefaults[jobs.OrderPush]
	e *Engine
}

// waitDeal is how long an order waits for its quote's deal to be synced
// before it looks again.
const waitDeal = 2 * time.Second

func (w *orderWorker) Work(ctx context.Context, job *river.Job[jobs.OrderPush]) error {
	e := w.e
	args := job.Args
	p, err := e.db.OrderPushOf(ctx, args.ConnectionID, args.OrderID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if p.State == store.OrderPushDone || p.State == store.OrderPushFailed {
		return nil // written already (a later change queues its own run), or given up
	}
	conn, err := e.claimWrite(ctx, p.ConnectionID, func(ctx context.Context, lease time.Duration) (bool, time.Time, error) {
		return e.db.ClaimOrderPush(ctx, p, lease)
	})
	if conn == nil {
		return err
	}
	r := &orderRun{e: e, p: p, conn: conn}
	res := runLeased(ctx, e, r.run)
	if ctx.Err() != nil {
		return river.JobSnooze(0) // stopping: the row says where it stands, its lease runs out
	}
	e.log.Debug("sync order", "connection", conn.ID, "order", p.OrderID, "state", res.State, "code", string(res.Code))
	state, err := e.db.RecordOrderPush(context.WithoutCancel(ctx), p, crm.OrderObject, res)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case state == store.OrderPushDone || state == store.OrderPushFailed:
		return nil
	case res.State == store.OrderPushDone:
		return river.JobSnooze(0) // its status changed while it was written: again, at once
	}
	return river.JobSnooze(max(time.Until(r.due), 0))
}

// orderRun is one run of one order's push.
type orderRun struct {
	e    *Engine
	p    *store.OrderPush
	conn *qwoty.Connection
	// due is when a run that did not end the push runs again.
	due time.Time
}

// run writes the order, or says why not and when to look again.
func (r *orderRun) run(ctx context.Context) store.WriteResult {
	e, p, conn := r.e, r.p, r.conn
	adapter, ok := e.crms.Get(conn.Provider)
	syncer, isSyncer := adapter.(crm.OrderSyncer)
	if !ok || !isSyncer || adapter.Sync() == nil {
		return failedWrite(qwoty.CodeSyncRejected, fmt.Sprintf("%s does not take orders from Qwoty", conn.Provider.Title()), 0)
	}
	if err := syncer.OrdersReady(conn); err != nil {
		return r.classify(err, 0)
	}
	o, err := e.db.ConnectionOrder(ctx, p.WorkspaceID, p.ConnectionID, p.OrderID)
	if err != nil {
		return r.classify(err, 0)
	}
	if o.Origin != qwoty.OrderFromQuote {
		// Never queued (queueOrderPush), but the rule is kept here too:
		// the CRM's own orders are never written back.
		return failedWrite(qwoty.CodeSyncRejected, fmt.Sprintf("order %s was made in %s: Qwoty does not write it", o.Number, conn.Provider.Title()), 0)
	}
	rounding := qwoty.Rounding("")
	if o.QuoteID != "" {
		q, err := e.db.GetQuote(ctx, store.Scope{WorkspaceID: o.WorkspaceID, ConnectionID: o.ConnectionID, RecordID: o.CRMRecordID}, o.QuoteID)
		switch {
		case errors.Is(err, qwoty.ErrNotFound):
		case err != nil:
			return r.classify(err, 0)
		case q.Sync.State == qwoty.SyncPending:
			// The deal's products are written by the quote's push: the
			// order follows it (no attempt used, nothing logged).
			r.due = time.Now().Add(waitDeal)
			return store.WriteResult{State: p.State, Wait: true, Quiet: true}
		default:
			rounding = q.Rounding
		}
	}
	push := OrderToPush(o, rounding, crm.OrderScale(syncer), e.opt.AppURL)
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return r.classify(err, 0)
	}
	b := &countingBudget{Budget: newBudget(e.db, conn.ID, adapter.Sync().Buckets(conn, set.BudgetShare))}
	sess := session.New(e.db, adapter, conn)
	push.CRMID = p.CRMOrderID
	action := crm.ActionUpdated
	if push.CRMID == "" && p.State == store.OrderPushPushing {
		// An earlier run sent the order and may have lost the answer: the
		// CRM may hold it already.
		id, err := syncer.FindOrder(ctx, sess, b, push)
		if err != nil {
			return r.classify(err, b.calls)
		}
		push.CRMID, action = id, crm.ActionAdopted
	}
	if push.CRMID == "" {
		if err := e.db.StartOrderPush(ctx, p); err != nil {
			return r.classify(err, b.calls)
		}
		id, err := syncer.PushOrder(ctx, sess, b, push)
		if err != nil {
			return r.classify(err, b.calls)
		}
		return store.WriteResult{State: store.OrderPushDone, CRMID: id, Status: o.Status, Action: crm.ActionCreated, Calls: b.calls}
	}
	if action == crm.ActionAdopted && o.Status == qwoty.OrderOpen {
		// Created as it stands: nothing to bring it to.
		return store.WriteResult{State: store.OrderPushDone, CRMID: push.CRMID, Status: o.Status, Action: action, Calls: b.calls}
	}
	id, err := syncer.PushOrder(ctx, sess, b, push)
	if err != nil {
		return r.classify(err, b.calls)
	}
	return store.WriteResult{State: store.OrderPushDone, CRMID: id, Status: o.Status, Action: action, Calls: b.calls}
}

// OrderToPush is order o as a CRM of scale decimals receives it: its total
// and its lines' nets through qwoty.ForCRM (with the quote's rounding), so
// that the lines the CRM holds add up to the figure it holds; each line's
// unit price is its net per unit at that scale. appURL links the order's
// page in the console.
func OrderToPush(o *qwoty.Order, rounding qwoty.Rounding, scale int32, appURL string) crm.OrderPush {
	nets := make([]decimal.Decimal, len(o.Lines))
	for i, l := range o.Lines {
		nets[i] = l.Net
	}
	t := qwoty.Totals{Subtotal: o.Totals.Subtotal, Discount: o.Totals.Discount, QuoteDiscount: o.Totals.QuoteDiscount,
		Tax: o.Totals.Tax, Total: o.Totals.Total}
	f := qwoty.ForCRM(t, nets, o.Currency, rounding, scale)
	places := qwoty.Places(o.Currency, scale)
	push := crm.OrderPush{RecordID: o.CRMRecordID, CRMID: o.CRMOrderID, Number: o.Number, QuoteNumber: o.QuoteNumber,
		Status: o.Status, Currency: o.Currency, Total: f.Total, Lines: make([]crm.OrderPushLine, len(o.Lines)),
		Link: strings.TrimSuffix(appURL, "/") + "/orders/" + o.ID, EffectiveDate: o.CreatedAt.UTC().Format(time.DateOnly)}
	for i, l := range o.Lines {
		unit := f.Nets[i]
		if !l.Quantity.IsZero() {
			unit = rounding.Round(f.Nets[i].Div(l.Quantity), places)
		}
		push.Lines[i] = crm.OrderPushLine{ProductID: l.ProductID, SKU: l.SKU, Description: l.Description, Quantity: l.Quantity,
			UnitPrice: unit, Net: f.Nets[i]}
	}
	return push
}

// classify says what becomes of the push after err (judgeWrite).
func (r *orderRun) classify(err error, calls int) store.WriteResult {
	res, due := r.e.judgeWrite(err, calls, r.p.State, r.p.Attempts, r.p.Code)
	r.due = due
	return res
}
