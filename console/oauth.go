package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/web"
)

// crmOAuth is what connecting a CRM account from the console needs of its
// OAuth app; Salesforce has its own flow (login hosts, PKCE, the package's
// config write), HubSpot and Pipedrive share this one.
type crmOAuth interface {
	// AuthURL is where to send the admin's browser.
	AuthURL(state string) (string, error)
	// Finish exchanges the callback's code and says which account it was.
	Finish(ctx context.Context, code string) (*store.OAuthConnection, error)
	// CallbackError is the error the CRM put in the callback, if any.
	CallbackError(q url.Values) error
}

type pipedriveOAuth struct{ app *pipedrive.OAuthApp }

func (p pipedriveOAuth) AuthURL(state string) (string, error) { return p.app.AuthCodeURL(state) }
func (p pipedriveOAuth) CallbackError(q url.Values) error     { return pipedrive.CallbackError(q) }

// Finish stores the company's api_domain as the connection's instance URL
// (its origin is also where the card may be framed from).
func (p pipedriveOAuth) Finish(ctx context.Context, code string) (*store.OAuthConnection, error) {
	tok, err := p.app.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	me, err := (&pipedrive.Client{APIDomain: tok.APIDomain, AccessToken: tok.AccessToken, HTTP: p.app.HTTP}).Me(ctx)
	if err != nil {
		return nil, err
	}
	return &store.OAuthConnection{ExternalID: strconv.FormatInt(me.CompanyID, 10), InstanceURL: tok.APIDomain,
		CRMUserID: strconv.FormatInt(me.ID, 10), AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenExpiresAt: tok.Expiry}, nil
}

type hubspotOAuth struct{ app *hubspot.OAuthApp }

func (h hubspotOAuth) AuthURL(state string) (string, error) { return h.app.AuthCodeURL(state) }
func (h hubspotOAuth) CallbackError(q url.Values) error     { return hubspot.CallbackError(q) }

// Finish keys the connection by the portal the token acts in, as HubSpot's
// token metadata states it.
func (h hubspotOAuth) Finish(ctx context.Context, code string) (*store.OAuthConnection, error) {
	tok, err := h.app.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	info, err := h.app.TokenInfo(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return &store.OAuthConnection{ExternalID: strconv.FormatInt(info.HubID, 10), CRMUserID: info.User,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenExpiresAt: tok.ExpiresAt}, nil
}

// oauthFor returns the OAuth app of a CRM, or nil when it is not configured.
func (con *Console) oauthFor(p qwoty.Provider) crmOAuth {
	switch {
	case p == qwoty.ProviderPipedrive && con.pdOAuth != nil:
		return pipedriveOAuth{con.pdOAuth}
	case p == qwoty.ProviderHubSpot && con.hsOAuth != nil:
		return hubspotOAuth{con.hsOAuth}
	}
	return nil
}

// crmConnect starts connecting a HubSpot or Pipedrive account: a state
// bound to this session, then the CRM's install page.
func (con *Console) crmConnect(c *gin.Context, p qwoty.Provider) {
	o := con.oauthFor(p)
	if o == nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Set its client id and secret on the Qwoty server.", "%s is not configured on this server", p.Title()))
		return
	}
	sess := sessionOf(c)
	state, err := con.db.CreateOAuthState(c.Request.Context(), c.GetString(ctxSessionTok), store.OAuthState{
		WorkspaceID: sess.User.WorkspaceID, UserID: sess.User.ID, Provider: p, Verifier: "-",
	}, oauthStateTTL)
	if err != nil {
		con.fail(c, err)
		return
	}
	to, err := o.AuthURL(state)
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// crmCallback finishes connecting a HubSpot or Pipedrive account.
func (con *Console) crmCallback(c *gin.Context, p qwoty.Provider) {
	ctx := c.Request.Context()
	o := con.oauthFor(p)
	if o == nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Set its client id and secret on the Qwoty server.", "%s is not configured on this server", p.Title()))
		return
	}
	st, err := con.db.TakeOAuthState(ctx, c.Query("state"), c.GetString(ctxSessionTok))
	if err == nil && st.Provider != p {
		err = qwoty.Errorf(qwoty.CodeOAuthFailed, "Start again from Settings → Integrations.", "this sign-in was started for another CRM")
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	if cbErr := o.CallbackError(c.Request.URL.Query()); cbErr != nil {
		con.fail(c, &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: p.Title() + " did not authorise the connection: " + cbErr.Error(),
			Hint: "Try again, and approve access when " + p.Title() + " asks.", Err: cbErr})
		return
	}
	oc, err := o.Finish(ctx, c.Query("code"))
	if err != nil {
		var qe *qwoty.Error
		if !errors.As(err, &qe) {
			err = &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: "the sign-in with " + p.Title() + " could not be completed",
				Hint: "Start again from Settings → Integrations.", Err: err}
		}
		con.fail(c, err)
		return
	}
	oc.WorkspaceID, oc.UserID, oc.Provider = st.WorkspaceID, st.UserID, p
	conn, err := con.db.SaveOAuthConnection(ctx, *oc, sessionOf(c).User.Email)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.SetConnectionID(c, conn.ID)
	done(c, "connected", p)
}

// oauthHosts are the hosts the Integrations page's connect forms may lead to.
func (con *Console) oauthHosts() string {
	var hosts []string
	if con.pdOAuth != nil {
		hosts = append(hosts, web.Origin(orDefault(con.pdOAuth.OAuthURL, pipedrive.DefaultOAuthURL)))
	}
	if con.hsOAuth != nil {
		hosts = append(hosts, web.Origin(orDefault(con.hsOAuth.AuthURL, hubspot.AppBaseURL)))
	}
	return strings.Join(hosts, " ")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
