package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// WebhooksQueue is the River queue of webhook deliveries: apart from
// sync's, so that slow receivers never hold back a push (nor the reverse).
const WebhooksQueue = "webhooks"

// WebhookMaxAttempts is a delivery's attempts in one round, the first
// included: with WebhookBackoff's waits they span more than a day. A
// redelivery starts a new round.
const WebhookMaxAttempts = 18

// WebhookDrain sends a subscription's due deliveries (event_deliveries),
// a batch at a time, until none is due. It is inserted with each event's
// deliveries, in the event's transaction, and is unique per subscription
// and second (as sync's pushes are): a burst of events makes one job a
// second, which sends them all.
type WebhookDrain struct {
	SubscriptionID string `json:"subscription_id"`
}

// Kind implements river.JobArgs.
func (WebhookDrain) Kind() string { return "webhook_drain" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookDrain) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhooksQueue, MaxAttempts: MaxAttempts, Priority: 2, UniqueOpts: uniquePerSecond}
}

// WebhookSweep gives a drain job to every subscription with a due
// delivery that no job is sending: retries whose time has come, and
// deliveries a crashed instance leased. Periodic, on the leader only, so
// not unique.
type WebhookSweep struct{}

// Kind implements river.JobArgs.
func (WebhookSweep) Kind() string { return "webhook_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookSweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhooksQueue, MaxAttempts: 1}
}

// WebhookPrune deletes the delivery log's old entries
// (store.PruneWebhooks). Daily, on the leader.
type WebhookPrune struct{}

// Kind implements river.JobArgs.
func (WebhookPrune) Kind() string { return "webhook_prune" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookPrune) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhooksQueue, MaxAttempts: MaxAttempts}
}

// WebhookBackoff is the wait after a delivery's n-th failed attempt
// (n from 1): 10 s doubling up to 4 h, base times 2^(n-1) capped at max.
// With the production values the 17 retries of WebhookMaxAttempts wait
// 10 s, 20 s, ... 2 h 51 min, then 4 h six times: 29 h 41 min in all.
func WebhookBackoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Production backoff of webhook deliveries.
const (
	WebhookBackoffBase = 10 * time.Second
	WebhookBackoffMax  = 4 * time.Hour
)
