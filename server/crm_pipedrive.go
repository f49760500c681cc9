package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// pipedriveVerifier verifies Pipedrive's extension tokens with the secrets
// of the configured app (one JWT secret for both extensions, else the
// client secret, as Pipedrive signs).
func (s *Server) pipedriveVerifier() (cardview.Pipedrive, error) {
	if !s.cfg.Pipedrive.Enabled() {
		return cardview.Pipedrive{}, qwoty.Errorf(qwoty.CodeNotConfigured,
			"Set PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET (and PIPEDRIVE_JWT_SECRET) on the Qwoty server.",
			"Pipedrive is not configured on this server")
	}
	return cardview.Pipedrive{Secrets: pipedrive.PanelSecrets(s.cfg.PipedriveJWTSecret, s.cfg.Pipedrive.ClientSecret)}, nil
}

func extensionRequest(c *gin.Context) cardview.SignedRequest {
	return cardview.SignedRequest{Method: c.Request.Method, Path: c.FullPath(), Query: c.Request.URL.Query(), Header: c.Request.Header}
}

// pipedrivePanel answers Pipedrive's JSON panel on a deal: the deal's quotes
// in the panel's shape, and a link that opens the card.
func (s *Server) pipedrivePanel(c *gin.Context) {
	v, err := s.pipedriveVerifier()
	var ans *cardview.Answer
	if err == nil {
		ans, err = s.cards.Card(c.Request.Context(), v, extensionRequest(c))
	}
	if err != nil {
		s.pipedrivePanelError(c, err)
		return
	}
	web.SetConnectionID(c, ans.ConnectionID)
	quotes := make([]pipedrive.PanelQuote, 0, len(ans.Quotes))
	for _, q := range ans.Quotes {
		quotes = append(quotes, pipedrive.PanelQuote{Number: q.Number, Title: q.Title, Status: q.Status,
			Total: q.Total, Currency: q.Currency, UpdatedAt: q.UpdatedAt, URL: ans.QuoteURL(q.ID)})
	}
	label := "Open quotes"
	if len(quotes) == 0 {
		label = "Create a quote"
	}
	resp, err := pipedrive.NewPanelResponse(quotes, pipedrive.ExternalLink{URL: ans.EmbedURL, Label: label}, "")
	if err != nil {
		s.pipedrivePanelError(c, err)
		return
	}
	web.WriteJSON(c, http.StatusOK, resp)
}

// pipedrivePanelError answers in the shape Pipedrive renders as the panel's
// error state, which also carries our error fields.
func (s *Server) pipedrivePanelError(c *gin.Context, err error) {
	s.errs.Answer(c, err, web.JSON("Reload the deal.", func(p web.Problem) any { return pipedrive.NewPanelError(p.Error, p.RequestID, nil) }))
}

// pipedriveSession exchanges a token the custom panel's page got from
// Pipedrive's SDK (GET_SIGNED_TOKEN) for a fresh card: the way a card left
// open in Pipedrive recovers when its session expires. The query is the
// launch's (resource, selectedIds) with the SDK's token.
func (s *Server) pipedriveSession(c *gin.Context) {
	v, err := s.pipedriveVerifier()
	var ans *cardview.Answer
	if err == nil {
		ans, err = s.cards.Card(c.Request.Context(), v, extensionRequest(c))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, ans.ConnectionID)
	web.WriteJSON(c, http.StatusOK, gin.H{"embedUrl": ans.EmbedURL, "expiresAt": ans.ExpiresAt})
}

// pipedriveCardStart is the custom panel's first load: Pipedrive opens
// /embed/pipedrive/card with its signed token in the query; the server
// verifies it and exchanges it for the card's own embed token, keeping the
// extension's runtime id for the page's SDK handshake.
func (s *Server) pipedriveCardStart(c *gin.Context) {
	v, err := s.pipedriveVerifier()
	var ans *cardview.Answer
	if err == nil {
		ans, err = s.cards.Card(c.Request.Context(), v, extensionRequest(c))
	}
	if err != nil {
		s.pipedriveLaunchError(c, err)
		return
	}
	to := ans.EmbedURL
	if id := c.Query(pipedrive.ParamID); id != "" {
		to += "&pd_id=" + urlQueryEscape(id)
	}
	c.Redirect(http.StatusSeeOther, to)
}

// pipedriveLaunchError shows a refused launch inside Pipedrive's panel: the
// page may be framed by Pipedrive's company hosts (it names no connection
// and holds no data) and greets the SDK, or Pipedrive would hide the panel
// after 10 s and the rep would never see the code and the fix.
func (s *Server) pipedriveLaunchError(c *gin.Context, err error) {
	s.errs.Answer(c, err, web.Page("Reload the deal.", web.Framing{FrameAncestors: "frame-ancestors https://*.pipedrive.com",
		Provider: string(qwoty.ProviderPipedrive)}))
}
