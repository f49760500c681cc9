package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// sessionRefresh trades a valid page token for a fresh one, so a card left
// open keeps working without ever holding a long-lived token. The new token
// keeps the session's start: past cardview.SessionMaxAge the refresh is
// refused with token_expired, and the page asks the CRM for a new card.
func (s *Server) sessionRefresh(c *gin.Context) {
	token, exp, err := s.cards.Tokens().Refresh(claimsOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"token": token, "expiresAt": exp.UTC().Format(time.RFC3339)})
}
