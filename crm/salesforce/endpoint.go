package salesforce

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every call to Salesforce except the ping, which waits
// for the org's own callout.
const DefaultTimeout = 10 * time.Second

// Login URLs of production and sandbox orgs; a My Domain URL works for both.
const (
	ProductionLoginURL = "https://login.salesforce.com"
	SandboxLoginURL    = "https://test.salesforce.com"
)

// maxAnswer bounds what we read of any Salesforce answer.
const maxAnswer = 1 << 20

// baseURL checks a Salesforce base URL (login, instance) before a secret or a
// token is sent to it, and returns it without a trailing slash. Plain http is
// accepted for loopback hosts only, where the emulator and dev servers run.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a Salesforce base URL", raw)
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
		return fmt.Errorf("%s: Salesforce is reached over https only", u.Redacted())
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
