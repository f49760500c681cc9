package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// integrationsShow is Settings → Integrations: a card per CRM with its health.
func (con *Console) integrationsShow(c *gin.Context) {
	v, err := con.integrationsView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	// The cards' connect buttons lead to the sign-in of the CRMs connected
	// from here (the others' is on their install page).
	var here []crm.Adapter
	for _, a := range con.crms.All() {
		if a.Info().Guide.Package == "" {
			here = append(here, a)
		}
	}
	formTo(c, here...)
	web.Render(c, http.StatusOK, templates.Integrations(v))
}

func (con *Console) integrationsView(c *gin.Context) (templates.IntegrationsView, error) {
	conns, err := con.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
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
	v := templates.IntegrationsView{ConsolePage: con.page(c)}
	for _, a := range con.crms.All() {
		in := a.Info()
		card := templates.CRMCard{Info: in}
		for _, cn := range conns {
			if cn.Provider == in.Provider {
				card.Conn = cn
				break
			}
		}
		if card.Conn != nil && card.Conn.Status != qwoty.ConnectionDisconnected {
			if card.Sync, err = con.syncHealth(c.Request.Context(), a, card.Conn); err != nil {
				return templates.IntegrationsView{}, err
			}
			if card.Runs, err = con.syncRuns(c, a, card.Conn); err != nil {
				return templates.IntegrationsView{}, err
			}
		}
		if active != nil && active.Provider != in.Provider {
			card.Other = active
		}
		v.Cards = append(v.Cards, card)
	}
	return v, nil
}

// activeConnection returns the workspace's active connection of provider.
func (con *Console) activeConnection(c *gin.Context, provider qwoty.Provider) (*qwoty.Connection, error) {
	conns, err := con.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
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
func (con *Console) disconnectConfirm(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.DisconnectConfirm(templates.DisconnectView{ConsolePage: con.page(c), CRM: in, Conn: conn}))
}

// confirmed lets a disconnection through only from the confirmation page
// (its form carries confirm=disconnect); any other post is sent there.
func (con *Console) confirmed(c *gin.Context) {
	if c.PostForm("confirm") != "disconnect" {
		c.Redirect(http.StatusSeeOther, "/settings/integrations/"+c.Param("provider")+"/disconnect")
		c.Abort()
		return
	}
	c.Next()
}
