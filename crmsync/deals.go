package crmsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// dealWorker makes, in the CRM, the deal of a quote made outside a CRM
// record (docs/deals.md) through the connection's crm.DealMaker, exactly
// once: its deal_creations row is claimed for a lease (two runs of one
// quote never call the CRM at once); the account is the customer's link,
// else the one FindAccount matches by name or domain, else one it makes;
// the row is marked, and committed, before each create (state "account",
// then "deal"), and a run that finds it so looks in the CRM by Qwoty's
// reference first and adopts what an earlier run made. When the deal is
// made the quote moves onto it (store.RecordDeal) and is pushed as any
// quote of a record. Limits wait without using a retry; transient
// failures retry with the engine's backoff, counted on the row; a
// permanent one ends the row failed, with its sync log row and an alert.
type dealWorker struct {
	river.WorkerDefaults[jobs.DealCreate]
	e *Engine
}

func (w *dealWorker) Work(ctx context.Context, job *river.Job[jobs.DealCreate]) error {
	e := w.e
	d, err := e.db.DealCreationOf(ctx, job.Args.ConnectionID, job.Args.QuoteID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.State == store.DealDone || d.State == store.DealFailed {
		return nil // made already, or given up (an admin's Retry queues a new job)
	}
	conn, err := e.claimWrite(ctx, d.ConnectionID, func(ctx context.Context, lease time.Duration) (bool, time.Time, error) {
		return e.db.ClaimDealCreation(ctx, d, lease)
	})
	if conn == nil {
		return err
	}
	r := &dealRun{e: e, d: d, conn: conn}
	res := runLeased(ctx, e, r.run)
	if ctx.Err() != nil {
		return river.JobSnooze(0) // stopping: the row says where it stands, its lease runs out
	}
	e.log.Debug("sync deal", "connection", conn.ID, "quote", d.QuoteID, "state", res.State, "code", string(res.Code))
	err = e.db.RecordDeal(context.WithoutCancel(ctx), d, res)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if res.Ended() {
		return nil
	}
	return river.JobSnooze(max(time.Until(r.due), 0))
}

// dealRun is one run of one quote's deal making.
type dealRun struct {
	e    *Engine
	d    *store.DealCreation
	conn *qwoty.Connection
	due  time.Time
}

// run makes the account and the deal, or says why not and when to look
// again.
func (r *dealRun) run(ctx context.Context) store.WriteResult {
	e, d, conn := r.e, r.d, r.conn
	adapter, ok := e.crms.Get(conn.Provider)
	maker, isMaker := adapter.(crm.DealMaker)
	if !ok || !isMaker || adapter.Sync() == nil {
		return failedWrite(qwoty.CodeSyncRejected, fmt.Sprintf("%s does not take deals made by Qwoty", conn.Provider.Title()), 0)
	}
	if err := maker.DealsReady(conn); err != nil {
		return r.classify(err, 0)
	}
	q, err := e.db.GetQuoteHeader(ctx, store.Scope{WorkspaceID: d.WorkspaceID, ConnectionID: d.ConnectionID}, d.QuoteID)
	switch {
	case errors.Is(err, qwoty.ErrNotFound):
		// Deleted, or on a record already (made by a run whose end was
		// lost): nothing to make.
		return failedWrite(qwoty.CodeSyncRejected, "the quote was deleted, or is on a CRM record already", 0)
	case err != nil:
		return r.classify(err, 0)
	}
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return r.classify(err, 0)
	}
	b := &countingBudget{Budget: newBudget(e.db, conn.ID, adapter.Sync().Buckets(conn, set.BudgetShare))}
	sess := session.New(e.db, adapter, conn)

	account, accountAction := d.CRMAccountID, d.AccountAction
	if account == "" && q.CustomerID != "" {
		c, err := e.db.APICustomer(ctx, store.Scope{WorkspaceID: d.WorkspaceID, ConnectionID: d.ConnectionID}, q.CustomerID)
		if err != nil {
			return r.classify(err, b.calls)
		}
		if account, accountAction, err = r.account(ctx, maker, sess, b, c, set.AccountMatch); err != nil {
			return r.classify(err, b.calls)
		}
	}

	ref := qwoty.DealRef(q.ID)
	if d.State == store.DealDeal {
		// An earlier run sent the deal and may have lost the answer.
		id, err := maker.FindDeal(ctx, sess, b, ref)
		if err != nil {
			return r.classify(err, b.calls)
		}
		if id != "" {
			return store.WriteResult{State: store.DealDone, CRMID: id, Action: crm.ActionAdopted, Calls: b.calls}
		}
	}
	if err := e.db.StartDealStep(ctx, d, store.DealDeal, account, accountAction); err != nil {
		return r.classify(err, b.calls)
	}
	id, err := maker.CreateDeal(ctx, sess, b, toNewDeal(q, account, set, scaleOf(adapter)))
	if err != nil {
		return r.classify(err, b.calls)
	}
	return store.WriteResult{State: store.DealDone, CRMID: id, Action: crm.ActionCreated, Calls: b.calls}
}

// account finds or makes customer c's account: its link; else, after a
// run that may have made it, the one carrying Qwoty's reference; else
// the one matched by name or domain; else a new one (the row marked
// "account" first). It returns the account and how it was found.
func (r *dealRun) account(ctx context.Context, maker crm.DealMaker, sess crm.Session, b crm.Budget, c *qwoty.Customer,
	by qwoty.AccountMatch) (string, string, error) {
	if c.CRMAccountID != "" {
		return c.CRMAccountID, store.AccountLinked, nil
	}
	ref := qwoty.AccountRef(c.ID)
	if r.d.State == store.DealAccount {
		id, err := maker.FindAccount(ctx, sess, b, crm.AccountMatch{Ref: ref})
		if err != nil || id != "" {
			return id, crm.ActionAdopted, err
		}
	}
	id, err := maker.FindAccount(ctx, sess, b, crm.AccountMatch{By: by, Name: c.Name, Domain: c.Domain})
	if err != nil || id != "" {
		return id, store.AccountMatched, err
	}
	if err := r.e.db.StartDealStep(ctx, r.d, store.DealAccount, "", ""); err != nil {
		return "", "", err
	}
	id, err = maker.CreateAccount(ctx, sess, b, crm.NewAccount{Ref: ref, Name: c.Name, Domain: c.Domain, Email: c.Email, Phone: c.Phone,
		Street: c.Street, City: c.City, PostalCode: c.PostalCode, Region: c.Region, Country: c.Country})
	return id, crm.ActionCreated, err
}

// dealCloseDays is how far off a deal closes when its quote has no
// expiry.
const dealCloseDays = 30

// toNewDeal is quote q's deal on account, as a CRM of scale decimals
// takes it.
func toNewDeal(q *qwoty.Quote, account string, set *store.SyncSettings, scale int32) crm.NewDeal {
	closes := time.Now().UTC().AddDate(0, 0, dealCloseDays)
	if q.ValidUntil != nil {
		closes = *q.ValidUntil
	}
	name := q.Title
	if name == "" {
		name = q.Number
	}
	return crm.NewDeal{Ref: qwoty.DealRef(q.ID), Name: name, AccountID: account, Currency: q.Currency,
		Amount: q.Rounding.Round(q.Totals.Total, qwoty.Places(q.Currency, scale)), CloseDate: closes.Format(time.DateOnly),
		Status: q.Status, Stage: set.StageMap[q.Status]}
}

// scaleOf is the decimals a's CRM holds in its money fields.
func scaleOf(a crm.Adapter) int32 {
	if s, ok := a.(crm.OrderScaler); ok {
		return s.OrderScale()
	}
	return crm.DefaultOrderScale
}

// classify says what becomes of the making after err (judgeWrite).
func (r *dealRun) classify(err error, calls int) store.WriteResult {
	res, due := r.e.judgeWrite(err, calls, r.d.State, r.d.Attempts, r.d.Code)
	r.due = due
	return res
}
