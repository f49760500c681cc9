package hubspot

import (
	"net/http"
	"time"

	"github.com/qwoty/companion/crm"
)

// DefaultTimeout bounds every call to HubSpot. A caller's own deadline still
// applies: the card's, for one, must fit in the 15 s HubSpot gives a
// hubspot.fetch call.
const DefaultTimeout = 10 * time.Second

// HubSpot's hosts: the browser meets the app host (authorization), the
// server the API host (tokens, CRM).
const (
	AppBaseURL = "https://app.hubspot.com"
	APIBaseURL = "https://api.hubapi.com"
)

// maxAnswer bounds what we read of any HubSpot answer.
const maxAnswer = crm.MaxAnswer

func baseURL(raw string) (string, error) { return crm.BaseURL(raw, "HubSpot") }

func loopback(host string) bool { return crm.Loopback(host) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func clientOrDefault(c *http.Client) *http.Client { return crm.Client(c) }

func snippet(b []byte) string { return crm.Snippet(b) }
