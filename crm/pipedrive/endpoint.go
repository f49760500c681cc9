package pipedrive

import (
	"net/url"
	"time"

	"github.com/qwoty/companion/crm"
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

func baseURL(raw string) (string, error) { return crm.BaseURL(raw, "Pipedrive") }

func checkScheme(u *url.URL) error { return crm.CheckScheme(u, "Pipedrive") }
