package cardview

import (
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
	}
	return append(out, c.FrameOrigins...)
}

// FrameAncestorsDirective renders the CSP directive for origins.
func FrameAncestorsDirective(origins []string) string {
	if len(origins) == 0 {
		return "frame-ancestors 'none'"
	}
	return "frame-ancestors " + strings.Join(origins, " ")
}
