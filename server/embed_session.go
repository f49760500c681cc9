package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
)

// sessionRefresh trades a valid page token for a fresh one, so a card left
// open keeps working without ever holding a long-lived token.
func (s *Server) sessionRefresh(c *gin.Context) {
	token, exp := s.cards.Tokens().Issue(claimsOf(c).Context(), cardview.AudiencePage, cardview.PageTTL)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"token": token, "expiresAt": exp.UTC().Format(time.RFC3339)})
}
