package crmsync

import (
	"context"
	"errors"
	"time"

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
