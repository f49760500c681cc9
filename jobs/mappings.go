package jobs

import "github.com/riverqueue/river"

// SyncCheckMappings checks every connection's saved field mappings against
// the CRM's fields as they are now (a field deleted, made read-only, or a
// picklist value gone marks the mapping broken and turns health to
// warning). The leader runs it daily.
type SyncCheckMappings struct{}

// Kind implements river.JobArgs.
func (SyncCheckMappings) Kind() string { return "sync_check_mappings" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncCheckMappings) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, Priority: 4}
}
