package server

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

const (
	ctxClaims     = "qwoty.claims"
	ctxConnection = "qwoty.connection"
)

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
	conn, err := s.cards.Connection(c.Request.Context(), claims)
	if err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Set(ctxClaims, claims)
	c.Set(ctxConnection, conn)
	c.Request = c.Request.WithContext(s.cardEnv(c, claims.Provider))
	web.SetConnectionID(c, claims.ConnectionID)
	c.Next()
}

func claimsOf(c *gin.Context) *cardview.Claims {
	v, _ := c.Get(ctxClaims)
	return v.(*cardview.Claims)
}

// connectionOf is the card's connection, as pageAuth read it.
func connectionOf(c *gin.Context) *qwoty.Connection {
	v, _ := c.Get(ctxConnection)
	return v.(*qwoty.Connection)
}

// cardEnv is the request's context carrying what the card's fragments
// say beyond the quotes: the CRM's name and the server's clock.
func (s *Server) cardEnv(c *gin.Context, p qwoty.Provider) context.Context {
	return templates.WithCardEnv(c.Request.Context(), templates.CardEnv{CRM: p.Title(), Now: s.now()})
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
