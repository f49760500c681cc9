package qwoty

import (
	"strconv"
	"time"
)

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
// primary quote changed, any other edit (a deletion included), and the
// filing of each sent version's PDF on the record (Archive). Status and
// primary changes go out at once; the others are coalesced.
var SyncTriggers = []string{TriggerCreated, TriggerStatus, TriggerPrimary, TriggerEdit, TriggerArchive, TriggerOrder}

// DefaultSyncTriggers are the triggers of a connection whose admin has
// not chosen: all but TriggerOrder (an org may not take orders; the admin
// turns it on).
var DefaultSyncTriggers = []string{TriggerCreated, TriggerStatus, TriggerPrimary, TriggerEdit, TriggerArchive}

// Sync triggers.
const (
	TriggerCreated = "created"
	TriggerStatus  = "status"
	TriggerPrimary = "primary"
	TriggerEdit    = "edit"
	// TriggerArchive files the PDF of each version sent on the CRM record
	// (a CRM whose adapter is a crm.Archiver); it pushes no deal.
	TriggerArchive = "archive"
	// TriggerOrder pushes the order an accepted quote generates, and its
	// status changes, to the CRM (docs/orders.md); off until an admin
	// chooses it.
	TriggerOrder = "order"
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

// AdminWaitCodes are the codes of a record that waits until an admin acts
// on the connection (reconnects it): the engine parks such records, a
// reconnect makes them due at once, and the cards say an admin must act.
var AdminWaitCodes = []Code{CodeSyncReconnect, CodeRefreshRejected, CodeNoOAuthToken, CodeOrgDisconnected, CodeNotConfigured}

// WaitsForAdmin reports whether c is one of AdminWaitCodes.
func WaitsForAdmin(c Code) bool {
	for _, w := range AdminWaitCodes {
		if c == w {
			return true
		}
	}
	return false
}

// Ago says how long before now t was, as the cards show a sync time:
// "just now", "2 min ago", "3 h ago", "yesterday", "4 days ago", "on 2 Jan
// 2026"; "" for a time not known (zero, or the store's epoch for never).
func Ago(now, t time.Time) string {
	if t.Unix() <= 0 {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 30*24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
	}
	return "on " + t.UTC().Format("2 Jan 2006")
}
