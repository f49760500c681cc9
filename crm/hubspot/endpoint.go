package hubspot

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
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
const maxAnswer = 1 << 20

// baseURL checks a HubSpot base URL before a secret or a token is sent to
// it, and returns it without a trailing slash. Plain http is accepted for
// loopback hosts only, where the emulator runs.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a HubSpot base URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return "", fmt.Errorf("%s: HubSpot is reached over https only", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func clientOrDefault(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return http.DefaultClient
}

// snippet is the start of an unexpected body, for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}
