package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// fetchCardTimeout stays under the 15 s HubSpot gives a hubspot.fetch.
const fetchCardTimeout = 10 * time.Second

// fetchCard answers a CRM card's signed fetch (the HubSpot app card's
// hubspot.fetch), whose signature covers the full URI it called, with the
// record's quotes and the embed URL its iframe modal opens: the same answer
// as the Salesforce callout's.
func (s *Server) fetchCard(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, ok := s.readSigned(c)
		if !ok {
			return
		}
		// The CRM signs the URI it called: behind a TLS-terminating proxy
		// that is the public one, which APP_URL names.
		req.URI = s.cfg.AppURL + c.FullPath() + "?" + c.Request.URL.RawQuery
		req.Query = c.Request.URL.Query()
		ctx, cancel := context.WithTimeout(c.Request.Context(), fetchCardTimeout)
		defer cancel()
		answer, err := s.cards.Card(ctx, p, req)
		if err != nil {
			s.fail(c, err)
			return
		}
		web.SetConnectionID(c, answer.ConnectionID)
		web.WriteJSON(c, http.StatusOK, answer)
	}
}
