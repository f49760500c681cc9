package salesforce

import (
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

func baseURL(raw string) (string, error) { return crm.BaseURL(raw, "Salesforce") }

func checkScheme(u *url.URL) error { return crm.CheckScheme(u, "Salesforce") }
