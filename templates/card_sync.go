package templates

import (
	"context"
	"strconv"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// CardEnv is what the card's fragments say beyond the quotes themselves:
// the CRM's name ("Synced to Salesforce") and the time relative times are
// read against. The fragments are rendered by every card action (and by
// other packages' tests), so it rides in the request's context, set once
// where the session is known (WithCardEnv); without it they say "the CRM"
// and read the wall clock.
type CardEnv struct {
	CRM string
	Now time.Time
}

type cardEnvKey struct{}

// WithCardEnv returns ctx carrying env for the card's fragments.
func WithCardEnv(ctx context.Context, env CardEnv) context.Context {
	return context.WithValue(ctx, cardEnvKey{}, env)
}

func cardEnv(ctx context.Context) CardEnv {
	env, _ := ctx.Value(cardEnvKey{}).(CardEnv)
	if env.CRM == "" {
		env.CRM = "the CRM"
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	return env
}

// syncLine is a quote's sync state as the card words it: a class for its
// colour, the text, and whether the rep may Retry. A quote never bound for
// the CRM (made before sync, or its triggers off) shows nothing.
type syncLine struct {
	Class, Text string
	// Hint says what happens next, or who must act, when the text alone
	// does not.
	Hint  string
	Retry bool
}

// waitsForAdmin are the codes a record waits on until an admin connects
// the CRM again (crmsync parks it; nothing a rep does helps).
var waitsForAdmin = map[qwoty.Code]bool{
	qwoty.CodeRefreshRejected: true, qwoty.CodeNoOAuthToken: true, qwoty.CodeOrgDisconnected: true, qwoty.CodeNotConfigured: true,
}

func syncLineOf(ctx context.Context, v qwoty.SyncView) syncLine {
	env := cardEnv(ctx)
	switch v.State {
	case qwoty.SyncSynced:
		return syncLine{Class: "synced", Text: "Synced to " + env.CRM + ago(env.Now, v.At)}
	case qwoty.SyncFailed:
		reason := v.Error
		if reason == "" {
			reason = "the CRM gave no reason"
		}
		return syncLine{Class: "failed", Text: "Sync failed: " + reason, Retry: true}
	case qwoty.SyncPending:
		switch {
		case v.Code == qwoty.CodeSyncReconnect:
			return syncLine{Class: "waiting", Text: "Waiting: reconnect to enable sync",
				Hint: "A Qwoty admin must reconnect " + env.CRM + " (Settings → Integrations); the quote is kept and pushed then."}
		case waitsForAdmin[v.Code]:
			return syncLine{Class: "waiting", Text: "Waiting: " + env.CRM + " must be reconnected",
				Hint: "A Qwoty admin must reconnect " + env.CRM + " (Settings → Integrations); the quote is kept and pushed then."}
		case v.Code == qwoty.CodeSyncFailed:
			return syncLine{Class: "pending", Text: "Syncing… (trying again after an error)"}
		}
		return syncLine{Class: "pending", Text: "Syncing…"}
	}
	return syncLine{}
}

// ago is " 2 min ago" (with its leading space), or "" for a time not known.
func ago(now, t time.Time) string {
	if t.Unix() <= 0 { // the store reads "never" as the epoch
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return " just now"
	case d < time.Hour:
		return " " + strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 24*time.Hour:
		return " " + strconv.Itoa(int(d/time.Hour)) + " h ago"
	case d < 48*time.Hour:
		return " yesterday"
	case d < 30*24*time.Hour:
		return " " + strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
	}
	return " on " + t.UTC().Format("2 Jan 2006")
}

// listVals are the values a list action sends: answer with the list.
const listVals = `{"view":"list"}`

// syncID is the id of a quote's sync line: one per quote in the list, one
// in the editor.
func syncID(q *qwoty.Quote, view string) string {
	if view == "list" {
		return "sync-" + q.ID
	}
	return "sync-state"
}

// deleteNote says what deleting does in the CRM.
func deleteNote(ctx context.Context, q *qwoty.Quote) string {
	env := cardEnv(ctx)
	s := "Qwoty deletes nothing in " + env.CRM + ": where it keeps a copy of the quote there, the copy is marked deleted."
	if q.Primary {
		s += " The most recently changed other quote becomes the primary quote."
	}
	return s
}
