package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// hubspotCardTimeout stays under the 15 s HubSpot gives a hubspot.fetch.
const hubspotCardTimeout = 10 * time.Second

// hubspotCard answers the HubSpot app card's hubspot.fetch with the deal's
// quotes and the embed URL its iframe modal opens: the same answer as the
// Salesforce callout's.
func (s *Server) hubspotCard(c *gin.Context) {
	if !s.cfg.HubSpot.Enabled() {
		s.fail(c, qwoty.Errorf(qwoty.CodeNotConfigured, "Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET on the Qwoty server.",
			"HubSpot is not configured on this server"))
		return
	}
	req, ok := s.readSigned(c)
	if !ok {
		return
	}
	// HubSpot signs the URI it called: behind a TLS-terminating proxy that
	// is the public one, which APP_URL names.
	req.URI = s.cfg.AppURL + c.FullPath() + "?" + c.Request.URL.RawQuery
	req.Query = c.Request.URL.Query()
	ctx, cancel := context.WithTimeout(c.Request.Context(), hubspotCardTimeout)
	defer cancel()
	answer, err := s.cards.Card(ctx, cardview.HubSpot{ClientSecret: s.cfg.HubSpot.ClientSecret}, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, answer.ConnectionID)
	web.WriteJSON(c, http.StatusOK, answer)
}
