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

// pushWorker pushes a connection's due records, a batch at a time, until
// none is due or its run's time is up.
type pushWorker struct {
	river.WorkerDefaults[jobs.SyncPush]
	e *Engine
}

// shortWait is the longest wait for a limit a push job sleeps rather than
// snoozes: the budget's own.
const shortWait = session.ShortWait

// waitConnection is how long records wait for a connection that cannot be
// pushed to (in error, to reconnect) before the sweep looks again; a
// reconnect queues them at once.
const waitConnection = time.Hour

func (w *pushWorker) Work(ctx context.Context, job *river.Job[jobs.SyncPush]) error {
	e := w.e
	conn, err := e.db.ConnectionByID(ctx, job.Args.ConnectionID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	// A disconnected connection, or one in error, keeps its records
	// pending: reconnecting it queues them again (store.SaveOAuthConnection).
	if conn.Status != qwoty.ConnectionActive {
		return nil
	}
	a, ok := e.crms.Get(conn.Provider)
	if !ok || a.Sync() == nil {
		return nil
	}
	p := &pusher{e: e, conn: conn, syncer: a.Sync(), sess: session.New(e.db, a, conn)}
	if err := p.prepare(ctx); err != nil {
		return err
	}
	began := time.Now()
	for i := 0; time.Since(began) < e.opt.RunFor; i++ {
		if i > 0 {
			// Disconnecting stops pushes at once: the batch under way
			// ends, the next one is not started.
			if c, err := e.db.ConnectionByID(ctx, conn.ID); err != nil || c.Status != qwoty.ConnectionActive {
				return err
			}
		}
		n, wait, stop, err := p.pushBatch(ctx)
		if err != nil {
			return err
		}
		if n == 0 || stop {
			break
		}
		if wait > 0 {
			// A limit said wait: a short wait is slept here (a backlog
			// draining at the limit waits a few milliseconds between
			// calls); a longer one ends the run and the job snoozes below.
			if wait > shortWait {
				break
			}
			select {
			case <-ctx.Done():
				return river.JobSnooze(0)
			case <-time.After(wait):
			}
		}
	}
	if ctx.Err() != nil {
		return river.JobSnooze(0)
	}
	next, err := e.db.NextDue(ctx, conn.ID)
	if err != nil || next.IsZero() {
		return err
	}
	if time.Until(next) <= e.opt.MaxSnooze {
		// Due soon (a coalesced edit, a budget refilling, a batch bound):
		// the connection's job for that second, at the next whole second
		// at the soonest, and this one ends. Snoozing instead kept every job
		// of a connection edited without pause alive, each one waking at
		// the next due time: the queue grew by about a job a second for as
		// long as the edits went on (make soak). Push jobs are unique per
		// second of their scheduled time, so the jobs that find the same
		// next due time leave one job behind them; and no job of a second
		// still to come can have run already, so the insert is never lost
		// to a finished job. Later ones are the sweep's.
		at := time.Now().Truncate(time.Second).Add(time.Second)
		if next.After(at) {
			at = next
		}
		return e.db.InsertPushJobAt(ctx, conn.ID, at)
	}
	return nil
}

// pusher is one job's push of one connection.
type pusher struct {
	e      *Engine
	conn   *qwoty.Connection
	syncer crm.Syncer
	sess   crm.Session
	set    *store.SyncSettings
	stages map[qwoty.Status]string
	// fields are the admin's mappings whose values go with each deal
	// (crm.Deal.Fields): every pushing deal mapping but the standard
	// total and status, which the Syncer writes as the amount and stage.
	fields []qwoty.Mapping
	// status is the status mapping's id when it also pulls: the stage a
	// push writes is its base.
	status string
	budget *session.Budget
	links  *links
}

func (p *pusher) prepare(ctx context.Context) error {
	set, err := p.e.db.SyncSettingsOf(ctx, p.conn.ID)
	if err != nil {
		return err
	}
	p.set = set
	p.stages = map[qwoty.Status]string{}
	for st, v := range p.syncer.DefaultStages() {
		p.stages[st] = v
	}
	for st, v := range set.StageMap {
		p.stages[st] = v
	}
	ms, err := p.e.db.Mappings(ctx, p.conn.WorkspaceID, p.conn.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		switch {
		case m.Standard && m.QwotyField == "quote.status":
			// The status mapping's value map is the stage map the admin
			// keeps: it wins over the CRM's defaults and the settings'.
			if m.Direction.Pulls() && m.Broken == "" {
				p.status = m.ID
			}
			for st, v := range m.ValueMap {
				if s, ok := qwoty.ParseStatus(st); ok {
					p.stages[s] = v
				}
			}
		case m.Standard && m.QwotyField == "quote.total":
		case m.Object == "deal" && m.Direction.Pushes() && m.Broken == "":
			p.fields = append(p.fields, m)
		}
	}
	p.budget = newBudget(p.e.db, p.conn.ID, p.syncer.Buckets(p.conn, set.BudgetShare))
	p.links = &links{db: p.e.db, conn: p.conn.ID}
	return nil
}

// pushBatch leases and pushes one batch. It returns how many records it
// leased, and stop when the connection cannot go on (its grant refused,
// its scopes short).
func (p *pusher) pushBatch(ctx context.Context) (n int, wait time.Duration, stop bool, err error) {
	e := p.e
	batch := p.syncer.MaxBatch()
	if e.opt.MaxBatch > 0 {
		batch = min(batch, e.opt.MaxBatch)
	}
	token, recs, err := e.db.LeaseSync(ctx, p.conn.ID, batch, e.opt.Lease)
	if err != nil || len(recs) == 0 {
		return 0, 0, false, err
	}
	// Whatever happens below, what is still leased goes back at once
	// (RecordSync clears the lease of what it records).
	defer func() {
		if rerr := e.db.ReleaseSync(context.WithoutCancel(ctx), p.conn.ID, token); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if rerr := p.syncer.Ready(p.conn); rerr != nil {
		res := make([]store.SyncResult, len(recs))
		for i, r := range recs {
			res[i] = store.SyncResult{RecordID: r.RecordID, Outcome: store.WaitingOutcome, Attempts: r.Attempts,
				Due: time.Now().Add(waitConnection), Code: qwoty.ErrorCode(rerr), Message: message(rerr)}
		}
		return len(recs), 0, true, e.db.RecordSync(context.WithoutCancel(ctx), p.conn.WorkspaceID, p.conn.ID, token, res)
	}
	// Real-time records go first, as a push of their own: a rep's change
	// leased beside back-fill records waits for none of them, and the
	// back-fill's records that fill the rest of the lease keep to the
	// budget's upper part.
	var rt, bf []store.LeasedRecord
	for _, r := range recs {
		if r.Backfill {
			bf = append(bf, r)
		} else {
			rt = append(rt, r)
		}
	}
	for i, group := range [][]store.LeasedRecord{rt, bf} {
		if len(group) == 0 {
			continue
		}
		w, stop, err := p.pushGroup(ctx, token, group, i == 1)
		if w > 0 && (wait == 0 || w < wait) {
			wait = w
		}
		if err != nil || stop {
			return len(recs), wait, stop, err
		}
	}
	return len(recs), wait, false, nil
}

// pushGroup pushes leased records of one kind: real-time ones, or a
// back-fill's (backfill), which spend only the budget's upper part. It
// answers the shortest rate-limit wait its records were given, and stop
// when the connection cannot go on or the job is stopping.
func (p *pusher) pushGroup(ctx context.Context, token string, recs []store.LeasedRecord, backfill bool) (wait time.Duration, stop bool, err error) {
	e := p.e
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RecordID
	}
	p.budget.Keep(0, 0)
	if backfill {
		p.budget.Keep(backfillFloor, backfillReserve)
	}
	snaps, err := e.db.SyncSnapshots(ctx, p.conn.ID, ids)
	if err != nil {
		return 0, false, err
	}
	deals := make([]crm.Deal, len(snaps))
	for i, s := range snaps {
		deals[i] = toDeal(s, p.stages, p.fields)
	}
	pctx, cancel := context.WithTimeout(ctx, e.opt.Lease-e.opt.leaseMargin())
	rep := p.syncer.Push(pctx, p.sess, p.budget, p.links, deals)
	cancel()
	if ctx.Err() != nil {
		// Stopping: hand the records back untouched (the deferred release)
		// rather than count a failure that is ours.
		return 0, true, nil
	}
	res, stop := p.results(recs, snaps, rep)
	if err := e.db.RecordSync(context.WithoutCancel(ctx), p.conn.WorkspaceID, p.conn.ID, token, res); err != nil {
		return 0, false, err
	}
	if err := e.db.SetBases(context.WithoutCancel(ctx), p.conn.ID, p.bases(deals, res)); err != nil {
		return 0, false, err
	}
	if stop {
		// The connection itself failed (its grant refused, no token): one
		// alert, whatever the records; a reconnect queues them again.
		if err := e.db.QueueAlert(context.WithoutCancel(ctx), p.conn.ID, jobs.AlertConnection); err != nil {
			return 0, true, err
		}
	}
	for _, r := range res {
		e.log.Debug("sync push", "connection", p.conn.ID, "record", r.RecordID, "outcome", r.Outcome, "code", string(r.Code), "calls", r.Calls)
		if r.Outcome == store.WaitingOutcome && r.Code == qwoty.CodeRateLimited {
			if w := time.Until(r.Due); wait == 0 || w < wait {
				wait = max(w, time.Millisecond)
			}
		}
	}
	return wait, stop, nil
}

// results turns a push's report into the records' outcomes.
func (p *pusher) results(recs []store.LeasedRecord, snaps []store.SyncSnapshot, rep crm.Report) ([]store.SyncResult, bool) {
	byRecord := make(map[string]crm.Outcome, len(rep.Outcomes))
	for _, o := range rep.Outcomes {
		byRecord[o.RecordID] = o
	}
	seq := make(map[string]int64, len(snaps))
	for _, s := range snaps {
		seq[s.RecordID] = s.Seq
	}
	stop := false
	out := make([]store.SyncResult, 0, len(recs))
	for i, r := range recs {
		o, ok := byRecord[r.RecordID]
		if !ok {
			o = crm.Outcome{RecordID: r.RecordID, Err: fmt.Errorf("%s reported nothing for this record", p.conn.Provider.Title())}
		}
		res := p.classify(r, o)
		res.Seq = seq[r.RecordID]
		res.Calls = share(rep.Calls, len(recs), i)
		res.Written = o.Written
		if len(o.Written) > 0 {
			res.CRMObject, res.CRMID = o.Written[0].Object, o.Written[0].ID
		}
		if res.Outcome == store.WaitingOutcome && res.Code != qwoty.CodeRateLimited {
			stop = true
		}
		out = append(out, res)
	}
	return out, stop
}

// bases are what both sides hold after the synced deals' push, for the
// mappings that also pull: the stage written for the status, and each
// mapped field's value. A pull that reads them back sees no CRM edit.
func (p *pusher) bases(deals []crm.Deal, res []store.SyncResult) []store.Base {
	synced := map[string]bool{}
	for _, r := range res {
		if r.Outcome == store.SyncedOutcome {
			synced[r.RecordID] = true
		}
	}
	var out []store.Base
	for _, d := range deals {
		if !synced[d.RecordID] || d.Primary == nil {
			continue
		}
		if p.status != "" && d.Stage != "" {
			out = append(out, store.Base{Object: "deal", CRMID: d.RecordID, MappingID: p.status, Value: d.Stage})
		}
		for _, m := range p.fields {
			if v, ok := d.Fields[m.CRMField]; ok && m.Direction.Pulls() {
				out = append(out, store.Base{Object: "deal", CRMID: d.RecordID, MappingID: m.ID, Value: v})
			}
		}
	}
	return out
}

// share is the i-th of n parts of calls (the remainder on the first ones).
func share(calls, n, i int) int {
	if n == 0 {
		return 0
	}
	c := calls / n
	if i < calls%n {
		c++
	}
	return c
}

// classify says what becomes of a record after its push's outcome o.
func (p *pusher) classify(r store.LeasedRecord, o crm.Outcome) store.SyncResult {
	res := store.SyncResult{RecordID: r.RecordID, Attempts: r.Attempts, Warning: o.Warning}
	var wait *crm.WaitError
	switch err := o.Err; {
	case err == nil:
		res.Outcome = store.SyncedOutcome
		res.Attempts = 0
	case errors.As(err, &wait):
		res.Outcome, res.Due, res.Quiet = store.WaitingOutcome, wait.Until, wait.Budget
		res.Code, res.Message = qwoty.CodeRateLimited, err.Error()
	case connectionLost(err):
		// The grant was refused (the session put the connection in
		// error), or there is no token: wait for a reconnect.
		res.Outcome, res.Due = store.WaitingOutcome, time.Now().Add(waitConnection)
		res.Code, res.Message = qwoty.ErrorCode(err), message(err)
	case errors.Is(err, crm.ErrRejected), errors.Is(err, crm.ErrForbidden), errors.Is(err, crm.ErrNotFound):
		res.Outcome = store.FailedOutcome
		res.Code, res.Message = qwoty.CodeSyncRejected, message(err)
	default:
		res.Attempts++
		res.Code, res.Message = qwoty.CodeSyncFailed, message(err)
		if res.Attempts > len(p.e.opt.Backoff) {
			res.Outcome = store.FailedOutcome
		} else {
			res.Outcome, res.Due = store.RetryingOutcome, time.Now().Add(p.e.opt.Backoff[res.Attempts-1])
		}
	}
	return res
}

// connectionLost reports whether err says the connection itself cannot be
// used until an admin acts.
func connectionLost(err error) bool {
	return qwoty.WaitsForAdmin(qwoty.ErrorCode(err)) || errors.Is(err, crm.ErrInvalidGrant)
}

// message is err as the log and the card show it: a coded error's own
// message, else its text.
func message(err error) string {
	var qe *qwoty.Error
	if errors.As(err, &qe) {
		return qe.Message
	}
	return err.Error()
}

// toDeal is a record's snapshot as its CRM's Syncer takes it.
func toDeal(s store.SyncSnapshot, stages map[qwoty.Status]string, fields []qwoty.Mapping) crm.Deal {
	d := crm.Deal{RecordID: s.RecordID, Version: s.Seq, Quotes: make([]crm.QuoteState, 0, len(s.Quotes))}
	primary := -1
	for _, q := range s.Quotes {
		qs := crm.QuoteState{ID: q.ID, Ref: crm.Ref(crm.RefQuote, q.ID), Number: q.Number, Title: q.Title, Status: q.Status,
			Currency: q.Currency, Totals: q.Totals, Rounding: q.Rounding, Primary: q.Primary && !q.Deleted, Deleted: q.Deleted}
		for _, l := range q.Lines {
			qs.Lines = append(qs.Lines, crm.LineState{ID: l.ID, Ref: crm.Ref(crm.RefLine, l.ID), Position: l.Position, ProductID: l.ProductID, SKU: l.SKU,
				Description: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, Net: l.Net})
		}
		if qs.Primary {
			primary = len(d.Quotes)
		}
		d.Quotes = append(d.Quotes, qs)
	}
	if primary >= 0 {
		d.Primary = &d.Quotes[primary]
		d.Stage = stages[d.Primary.Status]
		for _, q := range s.Quotes {
			if q.ID != d.Primary.ID {
				continue
			}
			for _, m := range fields {
				if v, ok := qwoty.PushValue(m, &q); ok {
					if d.Fields == nil {
						d.Fields = map[string]string{}
					}
					d.Fields[m.CRMField] = v
				}
			}
		}
	}
	return d
}
