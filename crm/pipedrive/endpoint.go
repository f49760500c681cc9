package pipedrive

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every call to Pipedrive. Pipedrive itself gives a
// JSON panel 10 seconds to answer, so a panel request that waits on us for
// longer than that is lost anyway.
const DefaultTimeout = 10 * time.Second

// DefaultOAuthURL is Pipedrive's OAuth server, the same for every company.
const DefaultOAuthURL = "https://oauth.pipedrive.com"

// The Qwoty endpoints an admin registers in Pipedrive's Developer Hub
// (contracts.md, section 2), relative to the app URL.
const (
	// PanelPath is the JSON panel's "API endpoint".
	PanelPath = "/api/crm/pipedrive/panel"
	// CardPath is the custom panel's "Iframe URL".
	CardPath = "/embed/pipedrive/card"
)

// maxAnswer bounds what we read of any Pipedrive answer.
const maxAnswer = 1 << 20

// baseURL checks a Pipedrive base URL (the OAuth server, a company's
// api_domain) before a secret or a token is sent to it, and returns it
// without a trailing slash. Plain http is accepted for loopback hosts only,
// where the emulator and dev servers run.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a Pipedrive base URL", raw)
	}
	if err := checkScheme(u); err != nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%s: Pipedrive is reached over https only", u.Redacted())
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
