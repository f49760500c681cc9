// Package jobs names the background jobs (River job kinds) and their
// arguments, so that the code that inserts a job (package store, in the
// transaction of the change that causes it) and the code that works it
// (package crmsync) agree on one definition, insert options included.
package jobs

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Queue is the River queue of sync's jobs.
const Queue = "sync"

// MaxAttempts is River's attempts of one job, the first run included. A
// push job carries many records, whose own retries are counted on each
// record (sync_records.attempts); River's retries cover the job itself
// failing (the database away).
const MaxAttempts = 4

// uniqueWhileQueued makes a job unique by its arguments while one is
// queued or running. Completed jobs are left out (River's default keeps
// them in), so that the next alert is not held until the completed job is
// cleaned; retryable is left out too.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
}}

// uniquePerSecond makes a push job unique by its arguments per second (of
// its scheduled time) instead: River cannot leave running jobs out of a
// uniqueness by state, and a job left running by a crashed instance would
// then hold back its connection's pushes until River rescues it (an hour by
// default). Per second, a busy connection gets one job a second at most;
// they share the work through the records' leases, and one that finds
// nothing due ends at once.
var uniquePerSecond = river.UniqueOpts{ByArgs: true, ByPeriod: time.Second}

// SyncPush pushes a connection's due outbox records (sync_records) to its
// CRM. Now is set for a change that goes out in real time (a status or
// primary change): it may run beside the connection's coalesced job.
type SyncPush struct {
	ConnectionID string `json:"connection_id"`
	Now          bool   `json:"now,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncPush) Kind() string { return "sync_push" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (a SyncPush) InsertOpts() river.InsertOpts {
	prio := 2
	if a.Now {
		prio = 1
	}
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: prio, UniqueOpts: uniquePerSecond}
}

// SyncAlert tells a connection's admins that a push failed for good (Kind
// "push_failed") or that sync cannot run (Kind "connection"), at most once
// per connection and kind per hour.
type SyncAlert struct {
	ConnectionID string `json:"connection_id"`
	Alert        string `json:"alert"`
}

// Alert kinds.
const (
	AlertPushFailed = "push_failed"
	AlertConnection = "connection"
)

// Kind implements river.JobArgs.
func (SyncAlert) Kind() string { return "sync_alert" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncAlert) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 2, UniqueOpts: uniqueWhileQueued}
}

// SyncSweep is the leader's periodic look for due outbox records that have
// no job (a retry's backoff over, a budget refilled, a lost insert, a
// crashed instance's leases run out): it inserts their connections' push
// jobs. Periodic jobs are not unique: a sweep left running by a crash must
// not stop the next ones, and two sweeps do no harm.
type SyncSweep struct{}

// Kind implements river.JobArgs.
func (SyncSweep) Kind() string { return "sync_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncSweep) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, Priority: 3}
}

// SyncPrune deletes sync log rows older than the retention.
type SyncPrune struct{}

// Kind implements river.JobArgs.
func (SyncPrune) Kind() string { return "sync_prune" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncPrune) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 4}
}

// LogRetention is how long the sync log keeps a push.
const LogRetention = 90 * 24 * time.Hour

// SyncPull reads a connection's changes from its CRM. Without IDs it runs
// every stream of the connection's Puller from its high-water mark (the
// 15-minute poll, a "Sync now"); with IDs it fetches those records of RecordKind
// (a webhook said they changed, a rep synced one record).
type SyncPull struct {
	ConnectionID string   `json:"connection_id"`
	RecordKind   string   `json:"record_kind,omitempty"` // crm.KindDeal, ...
	IDs          []string `json:"ids,omitempty"`
}

// Kind implements river.JobArgs.
func (SyncPull) Kind() string { return "sync_pull" }

// InsertOpts implements river.JobArgsWithInsertOpts: a poll is unique
// while queued (one at a time per connection), a targeted fetch per
// second (a webhook's duplicates are dropped before, by event id).
func (a SyncPull) InsertOpts() river.InsertOpts {
	if len(a.IDs) == 0 {
		return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 3, UniqueOpts: uniqueWhileQueued}
	}
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 1, UniqueOpts: uniquePerSecond}
}

// PullEvery is how often every connection is polled (the safety net under
// the webhooks of the CRMs that have them).
const PullEvery = 15 * time.Minute

// QuoteArchive files the PDF of revision Revision of quote QuoteID on its
// CRM record, through connection ConnectionID's adapter (crm.Archiver):
// once per (quote, revision), whatever the retries (store's
// quote_archives row says where it stands). It is inserted in the
// transaction of the quote's move to sent (store.queueArchive).
type QuoteArchive struct {
	ConnectionID string `json:"connection_id"`
	QuoteID      string `json:"quote_id"`
	Revision     int    `json:"revision"`
}

// Kind implements river.JobArgs.
func (QuoteArchive) Kind() string { return "quote_archive" }

// InsertOpts implements river.JobArgsWithInsertOpts. Its own retries are
// counted on its row (quote_archives.attempts) and snoozed through;
// River's cover the job itself failing (the database away).
func (QuoteArchive) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 3, UniqueOpts: uniqueWhileQueued}
}

// OrderPush writes order OrderID to its CRM, through connection
// ConnectionID's adapter (crm.OrderSyncer): created once whatever the
// retries, then brought to the order's status (store's order_pushes row
// says where it stands, and its lease keeps two runs apart). It is
// inserted in the transaction that generates the order, and in each that
// changes its status (store.queueOrderPush, store.queueOrderStatus).
type OrderPush struct {
	ConnectionID string `json:"connection_id"`
	OrderID      string `json:"order_id"`
}

// Kind implements river.JobArgs.
func (OrderPush) Kind() string { return "order_push" }

// InsertOpts implements river.JobArgsWithInsertOpts. It is not unique: a
// status change while a run is working must not be dropped as a
// duplicate of it; a run with nothing left to do ends at once.
func (OrderPush) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 3}
}

// DealCreate makes, in its CRM, the deal of quote QuoteID made outside a
// CRM record, through connection ConnectionID's adapter (crm.DealMaker):
// once, whatever the retries (store's deal_creations row says where it
// stands, and its lease keeps two runs apart). It is inserted in the
// transaction that brings the quote to its connection's deal status
// (store.queueDeal).
type DealCreate struct {
	ConnectionID string `json:"connection_id"`
	QuoteID      string `json:"quote_id"`
}

// Kind implements river.JobArgs.
func (DealCreate) Kind() string { return "deal_create" }

// InsertOpts implements river.JobArgsWithInsertOpts. It is not unique:
// an admin's Retry while the failed run's job is still finishing must not
// be dropped as a duplicate of it; the row (made once per quote) and its
// lease are what make the deal once, and a run with nothing left to do
// ends at once.
func (DealCreate) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 2}
}
