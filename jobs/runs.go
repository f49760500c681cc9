package jobs

import "github.com/riverqueue/river"

// RunsQueue is the River queue of sync runs' jobs: apart from the push
// jobs' queue, so that a run's progress is counted on time however busy
// the pushes keep their workers.
const RunsQueue = "sync_runs"

// SyncBackfill carries one back-fill run (sync_runs) from start to end: it
// captures the connection's quotes never pushed into the outbox, a chunk at
// a time, and snoozes between chunks (a snooze uses no attempt, so one job
// carries the whole run, and survives restarts: the run keeps its cursor).
type SyncBackfill struct {
	RunID        string `json:"run_id"`
	ConnectionID string `json:"connection_id"`
}

// Kind implements river.JobArgs.
func (SyncBackfill) Kind() string { return "sync_backfill" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per run, below
// real-time pushes in priority.
func (SyncBackfill) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: RunsQueue, MaxAttempts: MaxAttempts, Priority: 3, UniqueOpts: uniqueWhileQueued}
}
