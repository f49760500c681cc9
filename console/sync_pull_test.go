package console

import (
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

// The pull's lag and failures on the Integrations badge: over an hour a
// warning, over a day an error, a failed stream a warning with its reason;
// never better than what the pushes said.
func TestPullHealthBadge(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	conn := &qwoty.Connection{Status: qwoty.ConnectionActive, ConnectedAt: now.Add(-48 * time.Hour)}
	cases := []struct {
		name   string
		start  qwoty.Health
		p      store.PullHealth
		health qwoty.Health
		reason string
	}{
		{"fresh", qwoty.HealthHealthy, store.PullHealth{Streams: 3, OldestStream: "deal", CompleteAt: now.Add(-20 * time.Minute)}, qwoty.HealthHealthy, ""},
		{"an hour late", qwoty.HealthHealthy, store.PullHealth{Streams: 3, OldestStream: "deal", CompleteAt: now.Add(-90 * time.Minute)}, qwoty.HealthWarning, "Deal records have not been read from TestCRM for an hour"},
		{"a day late", qwoty.HealthWarning, store.PullHealth{Streams: 3, OldestStream: "product", CompleteAt: now.Add(-25 * time.Hour)}, qwoty.HealthError, "Product records have not been read from TestCRM for 25 hours"},
		{"never complete, connected two days ago", qwoty.HealthHealthy, store.PullHealth{}, qwoty.HealthError, "Records have not been read"},
		{"a stream failed", qwoty.HealthHealthy, store.PullHealth{Streams: 3, OldestStream: "deal", CompleteAt: now.Add(-time.Minute), ErrorStream: "customer", Error: "the CRM answered 500"}, qwoty.HealthWarning, "Reading customer records from TestCRM failed: the CRM answered 500"},
		{"a push warning stays", qwoty.HealthWarning, store.PullHealth{Streams: 3, OldestStream: "deal", CompleteAt: now.Add(-90 * time.Minute)}, qwoty.HealthWarning, "push"},
	}
	for _, c := range cases {
		v := &templates.SyncHealthView{Health: c.start}
		if c.start != qwoty.HealthHealthy {
			v.Reason = "push"
		}
		pullHealth(v, c.p, conn, "TestCRM", now)
		if v.Health != c.health || !strings.HasPrefix(v.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s %q", c.name, v.Health, v.Reason, c.health, c.reason)
		}
	}
}
