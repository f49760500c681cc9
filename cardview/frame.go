package cardview

import (
	"net/url"
	"strings"

	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// FrameAncestors returns the origins allowed to frame the card of a
// connection: the CRM's own origins for that account plus the connection's
// extra origins. Never a wildcard; an empty list means no one may frame it.
func FrameAncestors(c *qwoty.Connection) []string {
	var out []string
	switch c.Provider {
	case qwoty.ProviderSalesforce:
		if d, err := salesforce.ParseMyDomain(c.MyDomain, c.Sandbox); err == nil && c.MyDomain != "" {
			out = append(out, d.Origins()...)
		}
	case qwoty.ProviderHubSpot:
		// HubSpot serves an account from the app host of its data centre;
		// the card's iframe modal is framed by that host.
		out = append(out, HubSpotAppOrigins...)
	case qwoty.ProviderPipedrive:
		// A Pipedrive company is served from its own subdomain, the origin
		// of its api_domain (https://acme.pipedrive.com).
		if o := origin(c.InstanceURL); strings.HasSuffix(o, ".pipedrive.com") && strings.HasPrefix(o, "https://") {
			out = append(out, o)
		}
	}
	return append(out, c.FrameOrigins...)
}

// HubSpotAppOrigins are HubSpot's app hosts, one per data centre.
var HubSpotAppOrigins = []string{
	"https://app.hubspot.com", "https://app-eu1.hubspot.com", "https://app-na2.hubspot.com",
	"https://app-na3.hubspot.com", "https://app-ap1.hubspot.com",
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// FrameAncestorsDirective renders the CSP directive for origins.
func FrameAncestorsDirective(origins []string) string {
	if len(origins) == 0 {
		return "frame-ancestors 'none'"
	}
	return "frame-ancestors " + strings.Join(origins, " ")
}
