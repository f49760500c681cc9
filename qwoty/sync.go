package qwoty

import "time"

// SyncState is where a quote stands with its CRM: what the card and the
// CRM answer show ("Synced to Salesforce 2 min ago", "Sync failed").
type SyncState string

// Sync states. The zero state is a quote that has never been bound for the
// CRM (made before sync, or its triggers are off).
const (
	SyncNone    SyncState = ""
	SyncPending SyncState = "pending"
	SyncSynced  SyncState = "synced"
	SyncFailed  SyncState = "failed"
)

// SyncTriggers are the changes a connection may push, each on or off in
// its sync settings: a quote created, its status changed, the record's
// primary quote changed, any other edit (a deletion included). Status and
// primary changes go out at once; the others are coalesced.
var SyncTriggers = []string{TriggerCreated, TriggerStatus, TriggerPrimary, TriggerEdit}

// Sync triggers.
const (
	TriggerCreated = "created"
	TriggerStatus  = "status"
	TriggerPrimary = "primary"
	TriggerEdit    = "edit"
)

// Realtime reports whether a trigger's changes go out at once.
func Realtime(trigger string) bool { return trigger == TriggerStatus || trigger == TriggerPrimary }

// SyncView is a quote's sync state as people see it.
type SyncView struct {
	State SyncState
	// At is when its record was last pushed (zero when never).
	At time.Time
	// Code and Error say why it failed (State SyncFailed), or why it
	// waits (a connection to reconnect); empty otherwise.
	Code  Code
	Error string
	// Warning is a difference the CRM made that the quote does not show.
	Warning string
}
