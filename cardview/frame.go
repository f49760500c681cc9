package cardview

import (
	"strings"

	"github.com/qwoty/companion/qwoty"
)

// FrameAncestors returns the origins allowed to frame the card of a
// connection: its CRM's own origins for that account (its adapter's) plus
// the connection's extra origins. Never a wildcard; an empty list means no
// one may frame it.
func (s *Service) FrameAncestors(c *qwoty.Connection) []string {
	var out []string
	if a, ok := s.crms.Get(c.Provider); ok {
		out = append(out, a.FrameOrigins(c)...)
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
