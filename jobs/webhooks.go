package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// WebhooksQueue is the River queue of webhook deliveries: apart from
// sync's, so that slow receivers never hold back a push (nor the reverse).
const WebhooksQueue = "webhooks"

// WebhookMaxAttempts is River's attempts of one delivery, the first
// included: with WebhookBackoff's waits they span more than a day.
const WebhookMaxAttempts = 18

// WebhookDeliver sends one delivery (webhook_deliveries) of an event to
// its subscription's URL. The delivery's id is the webhook-id of every
// attempt; a redelivery inserts a new job for the same delivery.
type WebhookDeliver struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (WebhookDeliver) Kind() string { return "webhook_deliver" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookDeliver) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhooksQueue, MaxAttempts: WebhookMaxAttempts, Priority: 2}
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
