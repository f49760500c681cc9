package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// fetchCard answers a CRM card's signed fetch, GET /api/crm/{provider}/card
// (the HubSpot app card's hubspot.fetch to /api/crm/hubspot/card), whose
// signature covers the full URI it called, with the record's quotes and the
// embed URL its iframe opens: the same answer as the Salesforce callout's.
// A provider that is not registered, or whose card does not fetch so
// (crm.CardFetcher), has no such route.
func (s *Server) fetchCard(c *gin.Context) {
	p := qwoty.Provider(c.Param("provider"))
	a, _ := s.cards.Adapter(p)
	f, ok := a.(crm.CardFetcher)
	if !ok {
		s.noRoute(c)
		return
	}
	req, ok := s.readSigned(c)
	if !ok {
		return
	}
	// The CRM signs the URI it called: behind a TLS-terminating proxy that
	// is the public one, which APP_URL names.
	req.Path = crm.CardPath(p)
	req.URI = s.cfg.AppURL + req.Path + "?" + c.Request.URL.RawQuery
	req.Query = c.Request.URL.Query()
	ctx, cancel := context.WithTimeout(c.Request.Context(), f.FetchTimeout())
	defer cancel()
	answer, err := s.cards.Card(ctx, p, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, answer.ConnectionID)
	began := time.Now()
	web.WriteJSON(c, http.StatusOK, answer)
	metrics.CardStageTook("callout", metrics.StageRender, time.Since(began))
}

// hubspotWebhooks answers HubSpot's webhook deliveries: 404 when HubSpot
// is not registered, else crm/hubspot's Webhooks, whose refusals are
// written here.
func (s *Server) hubspotWebhooks(c *gin.Context) {
	a, _ := s.cards.Adapter(qwoty.ProviderHubSpot)
	h, ok := a.(*hubspot.Adapter)
	if !ok {
		s.noRoute(c)
		return
	}
	wh := hubspot.Webhooks{A: h, Store: s.db, URL: s.cfg.AppURL + hubspot.WebhookPath}
	if err := wh.Serve(c.Writer, c.Request); err != nil {
		s.fail(c, err)
	}
}
