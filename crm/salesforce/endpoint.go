package salesforce

import (
	"net/http"
	"net/url"
	"time"

	"github.com/qwoty/companion/crm"
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
const maxAnswer = crm.MaxAnswer

func baseURL(raw string) (string, error) { return crm.BaseURL(raw, "Salesforce") }

func checkScheme(u *url.URL) error { return crm.CheckScheme(u, "Salesforce") }

func loopback(host string) bool { return crm.Loopback(host) }

func clientOrDefault(c *http.Client) *http.Client { return crm.Client(c) }
