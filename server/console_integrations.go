package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// integrationsShow is Settings → Integrations: a card per CRM with its health.
func (s *Server) integrationsShow(c *gin.Context) {
	v, err := s.integrationsView(c)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	if hosts := s.oauthHosts(); hosts != "" {
		c.Header("Content-Security-Policy", web.PolicyFormTo(hosts, "frame-ancestors 'none'"))
	}
	web.Render(c, http.StatusOK, templates.Integrations(v))
}

func (s *Server) integrationsView(c *gin.Context) (templates.IntegrationsView, error) {
	conns, err := s.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		return templates.IntegrationsView{}, err
	}
	var active *qwoty.Connection
	for _, cn := range conns {
		if cn.Status != qwoty.ConnectionDisconnected {
			active = cn
			break
		}
	}
	v := templates.IntegrationsView{ConsolePage: page(c)}
	for _, p := range []struct {
		provider  qwoty.Provider
		name      string
		available bool
		why       string
	}{
		{qwoty.ProviderSalesforce, "Salesforce", s.sfOAuth != nil, "Not available on this server: set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET."},
		{qwoty.ProviderHubSpot, "HubSpot", s.hsOAuth != nil, "Not available on this server: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET."},
		{qwoty.ProviderPipedrive, "Pipedrive", s.pdOAuth != nil, "Not available on this server: set PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET."},
	} {
		card := templates.CRMCard{Provider: p.provider, Name: p.name, Available: p.available, Why: p.why}
		for _, cn := range conns {
			if cn.Provider == p.provider {
				card.Conn = cn
				break
			}
		}
		if active != nil && active.Provider != p.provider {
			card.Other = active
		}
		v.Cards = append(v.Cards, card)
	}
	return v, nil
}

// connectionDisconnect stops a CRM connection that has no provider-specific
// clean-up (a connection made with `qwoty connection add`): at once, data kept.
func (s *Server) connectionDisconnect(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		conn, err := s.activeConnection(c, p)
		if err != nil {
			s.consoleFail(c, err)
			return
		}
		if err := s.db.Disconnect(c.Request.Context(), conn.ID, sessionOf(c).User.Email); err != nil {
			s.consoleFail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/settings/integrations?done=disconnected-"+string(p))
	}
}

// activeConnection returns the workspace's active connection of provider.
func (s *Server) activeConnection(c *gin.Context, provider qwoty.Provider) (*qwoty.Connection, error) {
	conns, err := s.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, cn := range conns {
		if cn.Provider == provider && cn.Status != qwoty.ConnectionDisconnected {
			return cn, nil
		}
	}
	return nil, qwoty.Errorf(qwoty.CodeNotFound, "Connect it first from Settings → Integrations.", "this workspace has no active %s connection", provider)
}

// disconnectConfirm asks before disconnecting: what stops, what is kept.
func (s *Server) disconnectConfirm(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		conn, err := s.activeConnection(c, p)
		if err != nil {
			s.consoleFail(c, err)
			return
		}
		web.Render(c, http.StatusOK, templates.DisconnectConfirm(templates.DisconnectView{
			ConsolePage: page(c), Provider: p, Name: p.Title(), Conn: conn}))
	}
}

// confirmed lets a disconnection through only from the confirmation page
// (its form carries confirm=disconnect); any other post is sent there.
func (s *Server) confirmed(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.PostForm("confirm") != "disconnect" {
			c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(p)+"/disconnect")
			c.Abort()
			return
		}
		c.Next()
	}
}
