package crmsync

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The writes beside a record's push (a PDF filed, an order, a deal made)
// end a run the same way: failedWrite when it is given up, judgeWrite for
// what a failed call makes of it.

// failedWrite is the result of a run, having made calls, that ends its
// write for good.
func failedWrite(code qwoty.Code, msg string, calls int) store.WriteResult {
	return store.WriteResult{State: store.WriteFailed, Code: code, Message: msg, Calls: calls}
}

// judgeWrite is the result of a run, having made calls, that err stopped,
// for a write whose row is in state, has used attempts retries and whose
// last run ended with code last; with, when the write goes on, when it is
// looked at again. A limit waits (quietly when the connection's own
// budget said so); a connection to reconnect waits an hour, logged once;
// a refusal of the CRM's (rejected, forbidden, not found) ends it;
// anything else is retried after the engine's backoff, until it runs out.
// Neither wait uses a retry.
func (e *Engine) judgeWrite(err error, calls int, state string, attempts int, last qwoty.Code) (store.WriteResult, time.Time) {
	goOn := func(wait, quiet bool, code qwoty.Code, msg string) store.WriteResult {
		return store.WriteResult{State: state, Calls: calls, Wait: wait, Quiet: quiet, Code: code, Message: msg}
	}
	var wait *crm.WaitError
	switch {
	case errors.As(err, &wait):
		return goOn(true, wait.Budget, qwoty.CodeRateLimited, err.Error()), wait.Until
	case connectionLost(err):
		code := qwoty.ErrorCode(err)
		return goOn(true, last == code, code, message(err)), time.Now().Add(waitConnection)
	case errors.Is(err, crm.ErrRejected), errors.Is(err, crm.ErrForbidden), errors.Is(err, crm.ErrNotFound):
		return failedWrite(qwoty.CodeSyncRejected, message(err), calls), time.Time{}
	}
	if attempts+1 > len(e.opt.Backoff) {
		return failedWrite(qwoty.CodeSyncFailed, message(err), calls), time.Time{}
	}
	return goOn(false, false, qwoty.CodeSyncFailed, message(err)), time.Now().Add(e.opt.Backoff[attempts])
}

// claimWrite readies a run of a leased write (an order, a deal made) of
// connection connectionID: the connection, active, and the write's row
// claimed for a lease by claim. When the run must not go on it returns
// nil and the job's answer: cancelled when the connection is gone,
// snoozed while it is not active or another run holds the row (until its
// lease ends: it releases it sooner, and finds any change made
// meanwhile), nil when the row ended since it was read.
func (e *Engine) claimWrite(ctx context.Context, connectionID string,
	claim func(context.Context, time.Duration) (bool, time.Time, error)) (*qwoty.Connection, error) {
	conn, err := e.db.ConnectionByID(ctx, connectionID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil, river.JobCancel(err)
	}
	if err != nil {
		return nil, err
	}
	if conn.Status != qwoty.ConnectionActive {
		return nil, river.JobSnooze(waitConnection)
	}
	mine, until, err := claim(ctx, e.opt.Lease)
	switch {
	case errors.Is(err, qwoty.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !mine:
		return nil, river.JobSnooze(max(time.Until(until), 50*time.Millisecond))
	}
	return conn, nil
}

// runLeased runs run within the lease a claimed write holds: a run ends
// well before its lease, as a push does.
func runLeased[T any](ctx context.Context, e *Engine, run func(context.Context) T) T {
	runCtx, cancel := context.WithTimeout(ctx, e.opt.Lease-e.opt.leaseMargin())
	defer cancel()
	return run(runCtx)
}

// countingBudget counts the calls a write makes: one take each.
type countingBudget struct {
	crm.Budget
	calls int
}

func (b *countingBudget) Take(ctx context.Context, bucket string, cost float64) error {
	if err := b.Budget.Take(ctx, bucket, cost); err != nil {
		return err
	}
	b.calls++
	return nil
}
