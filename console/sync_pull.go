package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

// The pull's part of a connection's health: how long since each stream's
// last complete listing (the lag), and a stream's failure.

// Pull lag thresholds (docs/sync.md, "Pulling"): a connection is polled
// every 15 minutes, so an hour without a complete listing is a warning and
// a day an error.
const (
	pullLagWarning = time.Hour
	pullLagError   = 24 * time.Hour
)

// pullHealth makes v worse when the pulls are: a stream whose last complete
// listing is older than the thresholds (a stream never complete counts from
// the connection's sign-in), or a stream whose listing failed. It leaves
// v as it is when v is already as bad.
func pullHealth(v *templates.SyncHealthView, p store.PullHealth, conn *qwoty.Connection, name string, now time.Time) {
	if conn.Status != qwoty.ConnectionActive || v.Health == qwoty.HealthError {
		return
	}
	since, stream := p.CompleteAt, p.OldestStream
	if since.IsZero() {
		since = conn.ConnectedAt
	}
	lag := now.Sub(since)
	what := "Records"
	if stream != "" {
		what = strings.ToUpper(stream[:1]) + stream[1:] + " records"
	}
	switch {
	case lag > pullLagError:
		v.Health = qwoty.HealthError
		v.Reason = fmt.Sprintf("%s have not been read from %s for %s: changes made in %s are not in Qwoty.", what, name, lagText(lag), name)
	case v.Health == qwoty.HealthWarning:
	case lag > pullLagWarning:
		v.Health = qwoty.HealthWarning
		v.Reason = fmt.Sprintf("%s have not been read from %s for %s; reading resumes on its own.", what, name, lagText(lag))
	case p.Error != "":
		v.Health = qwoty.HealthWarning
		v.Reason = fmt.Sprintf("Reading %s records from %s failed: %s. The next poll tries again.", p.ErrorStream, name, p.Error)
	}
}

// lagText is a lag in whole hours, or minutes below one.
func lagText(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	if h := int(d.Hours()); h > 1 {
		return fmt.Sprintf("%d hours", h)
	}
	return "an hour"
}
