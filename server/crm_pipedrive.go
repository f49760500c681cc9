package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// Pipedrive's app extensions call us with a signed token in the query: its
// JSON panel (panelCard), its custom panel's iframe (launchCard) and the
// custom panel's page recovering an expired card (panelSession). The
// adapter verifies the token; the shapes answered are Pipedrive's.

func extensionRequest(c *gin.Context) crm.SignedRequest {
	return crm.SignedRequest{Method: c.Request.Method, Path: c.FullPath(), Query: c.Request.URL.Query(), Header: c.Request.Header}
}

// panelCard answers Pipedrive's JSON panel on a deal: the deal's quotes in
// the panel's shape (the primary one marked, each with its sync state), and
// a link that opens the card.
func (s *Server) panelCard(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		ans, err := s.cards.Card(c.Request.Context(), p, extensionRequest(c))
		if err != nil {
			s.pipedrivePanelError(c, err)
			return
		}
		web.SetConnectionID(c, ans.ConnectionID)
		quotes := make([]pipedrive.PanelQuote, 0, len(ans.Quotes))
		for _, q := range ans.Quotes {
			quotes = append(quotes, pipedrive.PanelQuote{Number: q.Number, Title: q.Title, Status: q.Status,
				Total: q.Total, Currency: q.Currency, UpdatedAt: q.UpdatedAt, URL: ans.QuoteURL(q.ID), Primary: q.Primary,
				Sync: pipedrive.PanelSync{State: q.Sync.State, At: q.Sync.At, Code: q.Sync.Code, Message: q.Sync.Message}})
		}
		label := "Open quotes"
		if len(quotes) == 0 {
			label = "Create a quote"
		}
		// "Synced 2 min ago" is read against the server's clock, as in the card.
		began := time.Now()
		resp, err := pipedrive.NewPanelResponseAt(s.now(), quotes, pipedrive.ExternalLink{URL: ans.EmbedURL, Label: label}, "")
		if err != nil {
			s.pipedrivePanelError(c, err)
			return
		}
		web.WriteJSON(c, http.StatusOK, resp)
		metrics.CardStageTook("callout", metrics.StageRender, time.Since(began))
	}
}

// pipedrivePanelError answers in the shape Pipedrive renders as the panel's
// error state, which also carries our error fields.
func (s *Server) pipedrivePanelError(c *gin.Context, err error) {
	s.errs.Answer(c, err, web.JSON("Reload the deal.", func(p web.Problem) any { return pipedrive.NewPanelError(p.Error, p.RequestID, nil) }))
}

// panelSession exchanges a token the custom panel's page got from
// Pipedrive's SDK (GET_SIGNED_TOKEN) for a fresh card: the way a card left
// open in Pipedrive recovers when its session expires. The query is the
// launch's (resource, selectedIds) with the SDK's token.
func (s *Server) panelSession(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		ans, err := s.cards.Card(c.Request.Context(), p, extensionRequest(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		web.SetConnectionID(c, ans.ConnectionID)
		web.WriteJSON(c, http.StatusOK, gin.H{"embedUrl": ans.EmbedURL, "expiresAt": ans.ExpiresAt})
	}
}

// launchCard is the card page of a CRM that frames it with its own signed
// launch (Pipedrive's custom panel, whose first load is
// /embed/pipedrive/card with Pipedrive's signed token and the deal in the
// query): the launch is verified and exchanged for the card's own embed
// token, keeping the extension's runtime id for the page's SDK handshake.
// Without a launch's query it is the card page itself (cardShow), opened
// with our embed token.
func (s *Server) launchCard(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Query(pipedrive.ParamResource) == "" {
			s.card(c, p)
			return
		}
		ans, err := s.cards.Card(c.Request.Context(), p, extensionRequest(c))
		if err != nil {
			s.pipedriveLaunchError(c, p, err)
			return
		}
		to := ans.EmbedURL
		if id := c.Query(pipedrive.ParamID); id != "" {
			to += "&pd_id=" + urlQueryEscape(id)
		}
		c.Redirect(http.StatusSeeOther, to)
	}
}

// pipedriveLaunchError shows a refused launch inside Pipedrive's panel: the
// page may be framed by Pipedrive's company hosts (it names no connection
// and holds no data) and greets the SDK, or Pipedrive would hide the panel
// after 10 s and the rep would never see the code and the fix.
func (s *Server) pipedriveLaunchError(c *gin.Context, p qwoty.Provider, err error) {
	s.errs.Answer(c, err, web.Page("Reload the deal.", web.Framing{FrameAncestors: pipedrive.LaunchFrameAncestors, Provider: string(p)}))
}

// pipedriveWebhook takes a Pipedrive webhooks v2 delivery for a connection
// (pipedrive.ReceiveWebhook checks its credentials and queues the fetch).
func (s *Server) pipedriveWebhook(c *gin.Context) {
	res, err := pipedrive.ReceiveWebhook(c.Request.Context(), s.db, c.Param("connection"), c.Request)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, c.Param("connection"))
	web.WriteJSON(c, http.StatusOK, map[string]any{"queued": res.Queued})
}
