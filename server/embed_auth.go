package server

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/web"
)

const ctxClaims = "qwoty.claims"

// pageAuth authorises the card's actions with the page token sent as a
// bearer header. No cookie is involved, so there is nothing for another
// site to ride (no CSRF) and nothing for the browser to block in an iframe.
// The connection is checked on every action: a disconnect stops open cards
// at once.
func (s *Server) pageAuth(c *gin.Context) {
	claims, err := s.cards.Tokens().Parse(bearer(c.GetHeader("Authorization")), cardview.AudiencePage)
	if err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	if _, err := s.cards.Connection(c.Request.Context(), claims); err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Set(ctxClaims, claims)
	web.SetConnectionID(c, claims.ConnectionID)
	c.Next()
}

func claimsOf(c *gin.Context) *cardview.Claims {
	v, _ := c.Get(ctxClaims)
	return v.(*cardview.Claims)
}

// bearer returns the token of an "Authorization: Bearer <token>" header, or
// "" when there is none.
func bearer(h string) string {
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
