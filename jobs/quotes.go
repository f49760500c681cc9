package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// QuoteExpire moves the quotes whose validity has run out (valid_until
// before today, UTC) from sent or viewed to expired, each once, in
// bounded batches (store.ExpireQuotes). The leader inserts it every
// ExpireEvery; a second run at the same time (another instance, a job
// inserted by hand) is harmless: each quote is expired under its row
// lock, once. Periodic jobs are not unique (see SyncSweep).
type QuoteExpire struct{}

// Kind implements river.JobArgs.
func (QuoteExpire) Kind() string { return "quote_expire" }

// ExpireEvery is how often quotes past their validity are looked for: a
// quote expires at most this long after its day ends.
const ExpireEvery = 15 * time.Minute

// InsertOpts implements river.JobArgsWithInsertOpts: below the pushes (an
// expiry's own push is a job of its own, captured with it).
func (QuoteExpire) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 3}
}
