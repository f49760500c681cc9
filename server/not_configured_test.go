package server

import (
	"net/http"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// A CRM whose app this server lacks answers not_configured, without a
// Retry-After: the cards retry unavailable answers, and waiting does not
// configure a server.
func TestUnconfiguredCRMIsNotConfiguredAndNotRetried(t *testing.T) {
	a := newApp(t, "", nil)
	for _, u := range []string{"/api/crm/hubspot/card", "/api/crm/pipedrive/panel"} {
		r := do(t, mustGet(t, a.url()+u))
		r.wantError(t, http.StatusServiceUnavailable, qwoty.CodeNotConfigured)
		if ra := r.header.Get("Retry-After"); ra != "" {
			t.Errorf("GET %s: Retry-After %q, want none for a server that is not configured", u, ra)
		}
	}
}
