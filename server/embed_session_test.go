package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/qwoty"
)

// A leaked card is worth one session: a page that refreshes its token every
// 10 minutes, each time with the fresh token it got, is refused with
// token_expired once cardview.SessionMaxAge has passed since the callout,
// and so is every action; reloading the CRM page (a new callout) opens a new
// session.
func TestRefreshEndsAtTheSessionsAbsoluteLifetime(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	began := a.clock.Now()
	_, tok := a.page(openCard(t, a, org, conn.Secret).EmbedURL)
	end := began.Add(cardview.SessionMaxAge)
	for {
		a.clock.Add(10 * time.Minute)
		r := a.action(http.MethodPost, "/embed/api/session/refresh", tok, nil)
		if a.clock.Now().Before(end) {
			var fresh struct {
				Token     string    `json:"token"`
				ExpiresAt time.Time `json:"expiresAt"`
			}
			if r.status != http.StatusOK || json.Unmarshal(r.body, &fresh) != nil || fresh.Token == "" {
				t.Fatalf("refresh %s into the session: %d %s", a.clock.Now().Sub(began), r.status, r.body)
			}
			if fresh.ExpiresAt.After(end) {
				t.Fatalf("refresh %s into the session expires at %s, past its end %s", a.clock.Now().Sub(began), fresh.ExpiresAt, end)
			}
			tok = fresh.Token
			continue
		}
		e := r.wantError(t, http.StatusUnauthorized, qwoty.CodeTokenExpired)
		if !strings.Contains(e.Hint, "Reload") {
			t.Fatalf("hint %q: want it to tell the rep to reload the CRM page", e.Hint)
		}
		break
	}
	a.action(http.MethodGet, "/embed/api/quotes", tok, nil).wantError(t, http.StatusUnauthorized, qwoty.CodeTokenExpired)

	_, tok = a.page(openCard(t, a, org, conn.Secret).EmbedURL) // the rep reloads the record page
	if r := a.action(http.MethodPost, "/embed/api/session/refresh", tok, nil); r.status != http.StatusOK {
		t.Fatalf("refresh in a new session: %d %s", r.status, r.body)
	}
}
