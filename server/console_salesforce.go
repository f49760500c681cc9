package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

const (
	// oauthStateTTL bounds how long an admin may take to sign in.
	oauthStateTTL = 10 * time.Minute
	// rotationGrace keeps the previous secret valid after a rotation or a
	// reconnect, while the org picks up the new one.
	rotationGrace = 10 * time.Minute
)

// SalesforceCallbackPath is the OAuth redirect path to register on the
// External Client App: {APP_URL}/oauth/salesforce/callback.
const SalesforceCallbackPath = "/oauth/salesforce/callback"

// installLinks builds the package install URLs from the version id.
func installLinks(versionID string) (prod, sandbox string) {
	if versionID == "" {
		return "", ""
	}
	q := "/packaging/installPackage.apexp?p0=" + url.QueryEscape(versionID)
	return salesforce.ProductionLoginURL + q, salesforce.SandboxLoginURL + q
}

// loginHosts are where the connect form may send the admin (the CSP's
// form-action must allow each, since the form's answer redirects there).
func (s *Server) loginHosts() string {
	hosts := salesforce.ProductionLoginURL + " " + salesforce.SandboxLoginURL + " https://*.my.salesforce.com"
	if o := appOrigin(s.cfg.SalesforceLoginURL); o != "" && !strings.Contains(hosts, o) {
		hosts += " " + o
	}
	return hosts
}

// salesforceInstall is the "Install the Salesforce Integration" page.
func (s *Server) salesforceInstall(c *gin.Context) {
	s.renderInstall(c, http.StatusOK, false)
}

func (s *Server) renderInstall(c *gin.Context, status int, packageMissing bool) {
	v := templates.InstallView{ConsolePage: page(c), Configured: s.sfOAuth != nil, PackageMissing: packageMissing}
	v.ProductionURL, v.SandboxURL = installLinks(s.cfg.SalesforcePackageVersionID)
	conns, err := s.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	for _, cn := range conns {
		if cn.Status == qwoty.ConnectionDisconnected {
			continue
		}
		if cn.Provider == qwoty.ProviderSalesforce {
			v.Conn = cn
		} else {
			v.Other = cn
		}
	}
	c.Header("Content-Security-Policy", policyFormTo(s.loginHosts(), "frame-ancestors 'none'"))
	render(c, status, templates.InstallSalesforce(v))
}

// salesforceLoginURL maps the connect form's choice to the OAuth host.
func (s *Server) salesforceLoginURL(env, myDomain string) (string, error) {
	// A login URL outside salesforce.com (the emulator, a test double)
	// serves every kind of org; a real one is production's or a My Domain.
	u, _ := url.Parse(s.cfg.SalesforceLoginURL)
	salesforceHost := u != nil && (u.Hostname() == "salesforce.com" || strings.HasSuffix(u.Hostname(), ".salesforce.com"))
	switch env {
	case "production", "":
		return s.cfg.SalesforceLoginURL, nil
	case "sandbox":
		if !salesforceHost {
			return s.cfg.SalesforceLoginURL, nil
		}
		return salesforce.SandboxLoginURL, nil
	case "mydomain":
		d, err := salesforce.ParseMyDomain(myDomain, false)
		if err != nil {
			return "", qwoty.Errorf(qwoty.CodeValidation, "Give your My Domain, such as acme.my.salesforce.com.", "%v", err)
		}
		return d.InstanceURL(), nil
	}
	return "", qwoty.Errorf(qwoty.CodeValidation, "Choose production, sandbox or My Domain.", "login choice %q is not known", env)
}

// salesforceConnect starts OAuth: a PKCE verifier and a state bound to this
// session, then off to Salesforce's authorize page.
func (s *Server) salesforceConnect(c *gin.Context) {
	if s.sfOAuth == nil {
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeForbidden, "Set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET on the server.", "Salesforce is not configured on this server"))
		return
	}
	loginURL, err := s.salesforceLoginURL(c.PostForm("env"), c.PostForm("my_domain"))
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	sess := sessionOf(c)
	verifier := oauth2.GenerateVerifier()
	state, err := s.db.CreateOAuthState(c.Request.Context(), c.GetString(ctxSessionTok), store.OAuthState{
		WorkspaceID: sess.User.WorkspaceID, UserID: sess.User.ID, Provider: qwoty.ProviderSalesforce,
		LoginURL: loginURL, Verifier: verifier,
	}, oauthStateTTL)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.sfOAuth.AuthCodeURL(loginURL, state, verifier))
}

// salesforceCallback finishes OAuth: check the state, exchange the code,
// save the connection, and write the embed secret and app URL into the org.
func (s *Server) salesforceCallback(c *gin.Context) {
	ctx := c.Request.Context()
	if s.sfOAuth == nil {
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeForbidden, "Set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET on the server.", "Salesforce is not configured on this server"))
		return
	}
	st, err := s.db.TakeOAuthState(ctx, c.Query("state"), c.GetString(ctxSessionTok))
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	if cbErr := salesforce.CallbackError(c.Request.URL.Query()); cbErr != nil {
		if errors.Is(cbErr, salesforce.ErrAppNotInstalled) {
			s.renderInstall(c, http.StatusConflict, true)
			return
		}
		s.consoleFail(c, &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: "Salesforce did not authorise the connection: " + cbErr.Error(),
			Hint: "Try again, and approve access when Salesforce asks.", Err: cbErr})
		return
	}
	tok, err := s.sfOAuth.Exchange(ctx, st.LoginURL, c.Query("code"), st.Verifier)
	if err != nil {
		s.consoleFail(c, &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: "the sign-in with Salesforce could not be completed",
			Hint: "Start again from Settings → Integrations.", Err: err})
		return
	}
	username := tok.UserID
	if id, err := s.sfOAuth.Identity(ctx, tok); err == nil && id.Username != "" {
		username = id.Username
	}
	domain, sandbox := "", false
	if d, err := salesforce.ParseMyDomain(tok.InstanceURL, false); err == nil {
		domain, sandbox = d.String(), d.Sandbox()
	}
	admin := sessionOf(c).User
	conn, err := s.db.SaveOAuthConnection(ctx, store.OAuthConnection{
		WorkspaceID: st.WorkspaceID, UserID: st.UserID, Provider: qwoty.ProviderSalesforce, ExternalID: tok.OrgID,
		MyDomain: domain, Sandbox: sandbox, InstanceURL: tok.InstanceURL, LoginURL: st.LoginURL, CRMUserID: username,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Grace: rotationGrace,
	}, admin.Email)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	c.Set(ctxConnectionID, conn.ID)
	if missing := s.writeConfig(ctx, conn, conn.Secret, admin.Email); missing {
		s.renderInstall(c, http.StatusConflict, true)
		return
	}
	if fresh, err := s.db.ConnectionByID(ctx, conn.ID); err == nil && fresh.LastErrorCode != "" {
		c.Redirect(http.StatusSeeOther, "/settings/integrations?done=connected-warning")
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations?done=connected")
}

// writeConfig writes the embed secret and app URL into the org through the
// package, records the outcome on the connection, and reports whether the
// package is missing.
func (s *Server) writeConfig(ctx context.Context, conn *qwoty.Connection, secret []byte, actor string) (packageMissing bool) {
	var state *salesforce.ConfigState
	err := s.withSalesforce(ctx, conn, func(cl *salesforce.Client) error {
		var err error
		state, err = cl.PutConfig(ctx, string(secret), s.cfg.AppURL)
		return err
	})
	if err == nil && state.OrgID != "" && state.OrgID != conn.ExternalID {
		err = fmt.Errorf("the config was written in org %s, not %s", state.OrgID, conn.ExternalID)
	}
	code, msg := checkOutcome(err, conn.InstanceURL)
	if err != nil {
		s.log.WarnContext(ctx, "writing the org's config failed", "connection_id", conn.ID, "error", err.Error())
	}
	s.recordCheck(ctx, conn.ID, code, msg, actor, "connection.config_written")
	return code == "package_not_installed"
}

func (s *Server) recordCheck(ctx context.Context, connID, code, msg, actor, action string) {
	if err := s.db.RecordCheck(ctx, connID, code, msg, actor, action, nil); err != nil {
		s.log.ErrorContext(ctx, "record check failed", "connection_id", connID, "error", err.Error())
	}
}

// withSalesforce calls the org's API with the connection's token, and after a
// 401 refreshes the token once (one refresh per connection across all
// instances: the store locks the row) and calls again.
func (s *Server) withSalesforce(ctx context.Context, conn *qwoty.Connection, call func(*salesforce.Client) error) error {
	if s.sfOAuth == nil {
		return errors.New("Salesforce is not configured on this server")
	}
	tok, err := s.db.AccessToken(ctx, conn.ID)
	if err != nil {
		return err
	}
	cl := &salesforce.Client{InstanceURL: conn.InstanceURL, AccessToken: tok, HTTP: s.sfOAuth.HTTP}
	err = call(cl)
	if !errors.Is(err, crm.ErrUnauthorized) {
		return err
	}
	fresh, err := s.db.RefreshAccessToken(ctx, conn.ID, tok, s.refreshSalesforce)
	if err != nil {
		return err
	}
	cl.AccessToken = fresh
	return call(cl)
}

// refreshSalesforce is the store's Refresher for Salesforce.
func (s *Server) refreshSalesforce(ctx context.Context, loginURL, refreshToken string) (store.Refreshed, error) {
	t, err := s.sfOAuth.Refresh(ctx, loginURL, refreshToken)
	if errors.Is(err, crm.ErrInvalidGrant) {
		return store.Refreshed{}, fmt.Errorf("%w: %w", store.ErrRefreshRejected, err)
	}
	if err != nil {
		return store.Refreshed{}, err
	}
	return store.Refreshed{Access: t.AccessToken, Refresh: t.RefreshToken}, nil
}

// salesforceTest runs the package's ping: token valid, config present,
// callout allowed, signature accepted, with the fix for the first failure.
func (s *Server) salesforceTest(c *gin.Context) {
	ctx := c.Request.Context()
	conn, err := s.activeConnection(c, qwoty.ProviderSalesforce)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	var report *salesforce.PingReport
	err = s.withSalesforce(ctx, conn, func(cl *salesforce.Client) error {
		var err error
		report, err = cl.Ping(ctx)
		return err
	})
	pv := pingView(report, err, conn.InstanceURL, s.cfg.AppURL)
	code, msg := "", ""
	switch {
	case err != nil:
		code, msg = checkOutcome(err, conn.InstanceURL)
		s.log.WarnContext(ctx, "test connection: the ping did not run", "connection_id", conn.ID, "error", err.Error())
	case !pv.OK:
		code, msg = "test_failed", pv.Fix
		for _, st := range pv.Steps {
			if !st.OK && !st.Skipped {
				msg = strings.TrimSuffix(st.Message, ".") + ". " + st.Fix
				break
			}
		}
	}
	s.recordCheck(ctx, conn.ID, code, msg, sessionOf(c).User.Email, "connection.tested")
	v, verr := s.integrationsView(c)
	if verr != nil {
		s.consoleFail(c, verr)
		return
	}
	v.Ping = &pv
	render(c, http.StatusOK, templates.Integrations(v))
}

// salesforceRotate gives the org a new secret; the old one keeps working
// for rotationGrace so cards signed meanwhile still open.
func (s *Server) salesforceRotate(c *gin.Context) {
	ctx := c.Request.Context()
	conn, err := s.activeConnection(c, qwoty.ProviderSalesforce)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	actor := sessionOf(c).User.Email
	if _, err := s.db.AccessToken(ctx, conn.ID); err != nil {
		// Without a token the new secret could not be written into the org,
		// and cards would stop when the grace ends: refuse before rotating.
		_, msg := checkOutcome(err, conn.InstanceURL)
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeForbidden, msg, "this connection cannot be rotated from the console"))
		return
	}
	secret, err := s.db.RotateSecret(ctx, conn.ID, rotationGrace, actor)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	if missing := s.writeConfig(ctx, conn, secret, actor); missing {
		s.renderInstall(c, http.StatusConflict, true)
		return
	}
	if fresh, err := s.db.ConnectionByID(ctx, conn.ID); err == nil && fresh.LastErrorCode != "" {
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeCRMUnavailable,
			"The previous secret works for 10 minutes: fix the problem and rotate again before then.", "the new secret could not be written into the org: %s", fresh.LastError))
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations?done=rotated")
}

// salesforceDisconnect stops the connection at once and keeps its data:
// the org's config is cleared and the token revoked (both best effort: the
// connection stops here whatever Salesforce answers).
func (s *Server) salesforceDisconnect(c *gin.Context) {
	ctx := c.Request.Context()
	conn, err := s.activeConnection(c, qwoty.ProviderSalesforce)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	actor := sessionOf(c).User.Email
	if s.sfOAuth != nil {
		if err := s.withSalesforce(ctx, conn, func(cl *salesforce.Client) error { _, err := cl.DeleteConfig(ctx); return err }); err != nil {
			s.log.WarnContext(ctx, "clearing the org's config failed", "connection_id", conn.ID, "error", err.Error())
		}
		// Revoking the refresh token revokes the access tokens made from it.
		if _, refresh, err := s.db.Tokens(ctx, conn.ID); err == nil && refresh != "" {
			if err := s.sfOAuth.Revoke(ctx, conn.LoginURL, refresh); err != nil {
				s.log.WarnContext(ctx, "token revocation failed", "connection_id", conn.ID, "error", err.Error())
			}
		}
	}
	if err := s.db.Disconnect(ctx, conn.ID, actor); err != nil {
		s.consoleFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations?done=disconnected")
}
