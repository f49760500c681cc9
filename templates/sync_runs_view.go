package templates

import (
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// SyncRunsView is a connection's runs on its Integrations card: the
// back-fill of the quotes made before sync (its progress, or how many wait
// for one) and "Sync now".
type SyncRunsView struct {
	Provider  qwoty.Provider
	CanManage bool
	CSRF      string
	// ToSync counts the quotes a back-fill would push now.
	ToSync int
	// Run is the latest back-fill (nil when there never was one).
	Run *RunView
	// LastSyncNow is when an admin last pressed "Sync now" (zero: never).
	LastSyncNow time.Time
}

// RunView is a back-fill's progress.
type RunView struct {
	ID, Status                    string
	Total, Done, Failed, Percent  int
	ETA, StartedAt, FinishedAt    time.Time
	Error                         string
	Active, Cancelling, Cancelled bool
}

// Polls says whether the progress fragment polls for the next (a run under
// way).
func (v SyncRunsView) Polls() bool { return v.Run != nil && v.Run.Active }

// BackfillConfirmView asks before a back-fill: how many quotes it pushes.
type BackfillConfirmView struct {
	ConsolePage
	CRM   crm.Info
	Count int
}

func quotesText(n int) string {
	if n == 1 {
		return "1 quote"
	}
	return strconv.Itoa(n) + " quotes"
}

// etaText is an estimated finish as a person reads it: in how long, and
// when (UTC).
func etaText(t time.Time) string {
	if t.IsZero() {
		return "estimating…"
	}
	d := time.Until(t).Round(time.Second)
	if d < time.Second {
		return "any moment"
	}
	in := d.String()
	if d >= time.Minute {
		in = d.Round(time.Minute).String()
		in = in[:len(in)-2] // "1h5m0s" → "1h5m"
	}
	return "in about " + in + " (" + t.UTC().Format("15:04 UTC") + ")"
}
