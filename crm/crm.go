// Package crm holds what every CRM client shares: checking a CRM's base URL
// before a secret or a token goes to it, the one HTTP call helper (Call),
// the OAuth token requests (OAuthClient), the two error types (APIError,
// OAuthError) and the sentinels they match. Each CRM has its own package
// below (salesforce, hubspot, pipedrive) with its clients, the reading of
// its own error bodies and, in a ...test package, its emulator.
package crm

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxAnswer bounds what is read of any CRM answer.
const MaxAnswer = 1 << 20

// BaseURL checks a CRM base URL (a login host, an instance, an API domain)
// before a secret or a token is sent to it, and returns it without a
// trailing slash. Plain http is accepted for loopback hosts only, where the
// emulators and dev servers run. name names the CRM in errors.
func BaseURL(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a %s base URL", raw, name)
	}
	if err := CheckScheme(u, name); err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// CheckScheme refuses anything but https, except http to a loopback host.
func CheckScheme(u *url.URL, name string) error {
	if u.Scheme == "https" || (u.Scheme == "http" && Loopback(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%s: %s is reached over https only", u.Redacted(), name)
}

// Loopback reports whether host is this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client returns c, or http.DefaultClient when c is nil.
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return http.DefaultClient
}

// Snippet is the start of an unexpected body, for an error message.
func Snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}

// Origin is the origin (scheme://host) of a URL, or "" when it names no
// host: what a CSP source list or an origin check compares.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Origins is the origin of raw as a one-element list, or nil when it has
// none: a CRM's FormHosts when its sign-in is on one host.
func Origins(raw string) []string {
	if o := Origin(raw); o != "" {
		return []string{o}
	}
	return nil
}
