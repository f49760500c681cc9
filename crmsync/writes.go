package crmsync

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The writes beside a record's push (a PDF filed, an order, a deal made)
// classify a failed call the same way: writeVerdict is that one rule.

// writeVerdict is what becomes of a write after an error.
type writeVerdict struct {
	// Failed ends the write for good; Wait waits for a limit or an
	// admin without using a retry (Quiet: nothing logged); neither is a
	// retry, due after the engine's backoff.
	Failed, Wait, Quiet bool
	Code                qwoty.Code
	Message             string
	// Due is when the write is looked at again (not Failed).
	Due time.Time
}

// judgeWrite classifies err for a write that has used attempts retries,
// whose last run ended with code last: a limit waits (quietly when the
// connection's own budget said so); a connection to reconnect waits an
// hour, logged once; a refusal of the CRM's (rejected, forbidden, not
// found) ends it; anything else is retried after the engine's backoff,
// until it runs out.
func (e *Engine) judgeWrite(err error, attempts int, last qwoty.Code) writeVerdict {
	var wait *crm.WaitError
	switch {
	case errors.As(err, &wait):
		return writeVerdict{Wait: true, Quiet: wait.Budget, Due: wait.Until, Code: qwoty.CodeRateLimited, Message: err.Error()}
	case connectionLost(err):
		code := qwoty.ErrorCode(err)
		return writeVerdict{Wait: true, Quiet: last == code, Due: time.Now().Add(waitConnection), Code: code, Message: message(err)}
	case errors.Is(err, crm.ErrRejected), errors.Is(err, crm.ErrForbidden), errors.Is(err, crm.ErrNotFound):
		return writeVerdict{Failed: true, Code: qwoty.CodeSyncRejected, Message: message(err)}
	}
	v := writeVerdict{Code: qwoty.CodeSyncFailed, Message: message(err)}
	if attempts+1 > len(e.opt.Backoff) {
		v.Failed = true
		return v
	}
	v.Due = time.Now().Add(e.opt.Backoff[attempts])
	return v
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
