package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// One handler per action on a CRM's connection, whichever CRM: what differs
// between CRMs is its adapter's (crm.Adapter), which the route's :provider
// names, and every call to the CRM goes through the session layer.

const (
	// oauthStateTTL bounds how long an admin may take to sign in.
	oauthStateTTL = 10 * time.Minute
	// rotationGrace keeps the previous secret valid after a rotation or a
	// reconnect, while the CRM account picks up the new one.
	rotationGrace = 10 * time.Minute
)

const ctxAdapter = "qwoty.console.adapter"

// adapter finds the CRM the route's :provider names, refusing one this
// server does not serve as the URL nothing answers (404).
func (con *Console) adapter(c *gin.Context) {
	a, ok := con.crms.Lookup(c.Param("provider"))
	if !ok {
		con.fail(c, errNoRoute(c))
		return
	}
	c.Set(ctxAdapter, a)
	c.Next()
}

func errNoRoute(c *gin.Context) error {
	return qwoty.Errorf(qwoty.CodeNotFound, "Settings → Integrations lists the CRMs this server connects.", "no route for %s %s", c.Request.Method, c.Request.URL.Path)
}

// adapterOf is the CRM the route names (adapter).
func adapterOf(c *gin.Context) crm.Adapter { return c.MustGet(ctxAdapter).(crm.Adapter) }

// oauthOf is the CRM's OAuth app, or why this server cannot connect it.
func oauthOf(in crm.Info, a crm.Adapter) (crm.OAuth, error) {
	if o := a.OAuth(); o != nil {
		return o, nil
	}
	return nil, qwoty.Errorf(qwoty.CodeForbidden, "Set "+in.Missing+" on the Qwoty server.", "%s is not configured on this server", in.Name)
}

// sessionOfConn is conn's authenticated access to its CRM.
func (con *Console) sessionOfConn(a crm.Adapter, conn *qwoty.Connection) crm.Session {
	return session.New(con.db, a, conn)
}

// install is the page that leads to connecting a CRM whose account needs
// something installed first (crm.Guide.Package): the install links, then
// the sign-in. A CRM with nothing to install has none.
func (con *Console) install(c *gin.Context) {
	if in := adapterOf(c).Info(); in.Guide.Package == "" {
		con.fail(c, errNoRoute(c))
		return
	}
	con.renderInstall(c, http.StatusOK, false)
}

func (con *Console) renderInstall(c *gin.Context, status int, packageMissing bool) {
	a := adapterOf(c)
	v := templates.InstallView{ConsolePage: con.page(c), CRM: a.Info(), PackageMissing: packageMissing}
	conns, err := con.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		con.fail(c, err)
		return
	}
	for _, cn := range conns {
		if cn.Status == qwoty.ConnectionDisconnected {
			continue
		}
		if cn.Provider == v.CRM.Provider {
			v.Conn = cn
		} else {
			v.Other = cn
		}
	}
	formTo(c, a)
	web.Render(c, status, templates.Install(v))
}

// formTo lets the page's connect forms lead to the sign-in hosts of the
// CRMs of adapters (the CSP's form-action: the form's answer redirects there).
func formTo(c *gin.Context, adapters ...crm.Adapter) {
	var hosts []string
	for _, a := range adapters {
		if o := a.OAuth(); o != nil {
			hosts = append(hosts, o.FormHosts()...)
		}
	}
	if len(hosts) > 0 {
		c.Header("Content-Security-Policy", web.PolicyFormTo(strings.Join(hosts, " "), "frame-ancestors 'none'"))
	}
}

// connect starts connecting a CRM account: what the connect form chose
// (OAuth.Begin), a state bound to this session, then the CRM's sign-in.
func (con *Console) connect(c *gin.Context) {
	a := adapterOf(c)
	in := a.Info()
	o, err := oauthOf(in, a)
	if err != nil {
		con.fail(c, err)
		return
	}
	b, err := o.Begin(c.Request.PostForm)
	if err != nil {
		con.fail(c, err)
		return
	}
	sess := sessionOf(c)
	state, err := con.db.CreateOAuthState(c.Request.Context(), c.GetString(ctxSessionTok), store.OAuthState{
		WorkspaceID: sess.User.WorkspaceID, UserID: sess.User.ID, Provider: in.Provider, LoginURL: b.LoginURL, Verifier: b.Verifier,
	}, oauthStateTTL)
	if err != nil {
		con.fail(c, err)
		return
	}
	to, err := o.AuthURL(b, state)
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// callback finishes connecting a CRM account: the state, the CRM's answer,
// the code exchanged, the connection saved, and for a CRM whose account
// holds Qwoty's settings, those written into it.
func (con *Console) callback(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	o, err := oauthOf(in, a)
	if err != nil {
		con.fail(c, err)
		return
	}
	st, err := con.db.TakeOAuthState(ctx, c.Query("state"), c.GetString(ctxSessionTok))
	if err == nil && st.Provider != in.Provider {
		err = qwoty.Errorf(qwoty.CodeOAuthFailed, "Start again from Settings → Integrations.", "this sign-in was started for another CRM")
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	if cbErr := o.CallbackError(c.Request.URL.Query()); cbErr != nil {
		if qwoty.ErrorCode(cbErr) == qwoty.CodePackageNotInstalled {
			con.renderInstall(c, http.StatusConflict, true)
			return
		}
		con.fail(c, &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: in.Name + " did not authorise the connection: " + cbErr.Error(),
			Hint: "Try again, and approve access when " + in.Name + " asks.", Err: cbErr})
		return
	}
	g, err := o.Exchange(ctx, crm.Begin{LoginURL: st.LoginURL, Verifier: st.Verifier}, c.Query("code"))
	if err != nil {
		var qe *qwoty.Error
		if !errors.As(err, &qe) {
			err = &qwoty.Error{Code: qwoty.CodeOAuthFailed, Message: "the sign-in with " + in.Name + " could not be completed",
				Hint: "Start again from Settings → Integrations.", Err: err}
		}
		con.fail(c, err)
		return
	}
	oc := store.OAuthConnection{WorkspaceID: st.WorkspaceID, UserID: st.UserID, Provider: in.Provider, ExternalID: g.ExternalID,
		MyDomain: g.MyDomain, Sandbox: g.Sandbox, InstanceURL: g.InstanceURL, LoginURL: g.LoginURL, CRMUserID: g.CRMUserID,
		AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}
	if in.Rotates {
		oc.Grace = rotationGrace
	}
	admin := sessionOf(c).User
	conn, err := con.db.SaveOAuthConnection(ctx, oc, admin.Email)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.SetConnectionID(c, conn.ID)
	if err := crmsync.PresetMappings(ctx, con.db, a, conn); err != nil {
		// The mappings page presets them again when it is opened.
		con.log.WarnContext(ctx, "presetting the standard mappings failed", "connection_id", conn.ID, "error", err.Error())
	}
	// A CRM that notifies changes (Pipedrive's webhooks) subscribes now.
	if h, ok := a.(interface {
		Connected(context.Context, *store.DB, *qwoty.Connection, string) error
	}); ok {
		if err := h.Connected(ctx, con.db, conn, con.cfg.AppURL); err != nil {
			con.log.WarnContext(ctx, "making the CRM's webhooks failed: the connection is polled only", "connection_id", conn.ID, "error", err.Error())
		}
	}
	if !in.Rotates {
		done(c, "connected", in.Provider)
		return
	}
	switch err := con.configure(ctx, a, conn, conn.Secret, admin.Email); {
	case qwoty.ErrorCode(err) == qwoty.CodePackageNotInstalled:
		con.renderInstall(c, http.StatusConflict, true)
	case err != nil:
		done(c, "connected-warning", in.Provider)
	default:
		done(c, "connected", in.Provider)
	}
}

// configure writes the embed secret and this server's URL into the CRM
// account (Adapter.Configure) and records the outcome on the connection;
// its error is the adapter's, explained.
func (con *Console) configure(ctx context.Context, a crm.Adapter, conn *qwoty.Connection, secret []byte, actor string) error {
	err := a.Configure(ctx, con.sessionOfConn(a, conn), secret, con.cfg.AppURL)
	if err != nil {
		con.log.WarnContext(ctx, "writing the CRM account's configuration failed", "connection_id", conn.ID, "error", err.Error())
	}
	code, msg := outcome(err)
	con.recordCheck(ctx, a.Info(), conn.ID, code, msg, actor, "connection.config_written")
	return err
}

// outcome is what a check's error leaves on the connection: its code and,
// as last_error, what happened and what to do ("" when it passed).
func outcome(err error) (qwoty.Code, string) {
	if err == nil {
		return "", ""
	}
	e := qwoty.AsError(err)
	return e.Code, strings.TrimSuffix(e.Message, ".") + ". " + e.Hint
}

// recordCheck records a check's outcome on the connection and in the audit
// log, with the CRM's words for the log.
func (con *Console) recordCheck(ctx context.Context, in crm.Info, connID string, code qwoty.Code, msg, actor, action string) {
	detail := map[string]any{"provider": string(in.Provider), "account": in.Account}
	if err := con.db.RecordCheck(ctx, connID, code, msg, actor, action, detail); err != nil {
		con.log.ErrorContext(ctx, "record check failed", "connection_id", connID, "error", err.Error())
	}
}

// test runs Test connection (Adapter.Test) and shows its report, step by
// step, on the Integrations page; the connection keeps its outcome.
func (con *Console) test(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	r := a.Test(ctx, con.sessionOfConn(a, conn), con.cfg.AppURL)
	if !r.OK {
		con.log.WarnContext(ctx, "test connection failed", "connection_id", conn.ID, "code", r.Code, "error", r.Message)
	}
	con.recordCheck(ctx, in, conn.ID, r.Code, r.Message, sessionOf(c).User.Email, "connection.tested")
	v, err := con.integrationsView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Ping = reportView(in, r)
	web.Render(c, http.StatusOK, templates.Integrations(v))
}

// reportView is a test's report as the Integrations page shows it.
func reportView(in crm.Info, r *crm.TestReport) *templates.PingView {
	v := &templates.PingView{Account: in.Account, OK: r.OK, RequestID: r.RequestID}
	for _, st := range r.Steps {
		v.Steps = append(v.Steps, templates.PingStepView(st))
		if !st.OK && !st.Skipped && v.Fix == "" {
			v.Fix = st.Fix
		}
	}
	return v
}

// rotate gives the CRM account a new embed secret; the old one keeps
// working for rotationGrace so cards signed meanwhile still open. Only a
// CRM whose account holds the secret has it (Info.Rotates).
func (con *Console) rotate(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	if !in.Rotates {
		con.fail(c, errNoRoute(c))
		return
	}
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	actor := sessionOf(c).User.Email
	if _, err := con.db.AccessToken(ctx, conn.ID); err != nil {
		// Without a token the new secret could not be written into the
		// account, and cards would stop when the grace ends: refuse first.
		if qwoty.ErrorCode(err) == qwoty.CodeOrgDisconnected {
			err = &qwoty.Error{Code: qwoty.CodeNoOAuthToken, Message: "this connection holds no OAuth token", Err: err}
		}
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, crm.ExplainCall(in, conn.InstanceURL, err).Kept(), "this connection cannot be rotated from the console"))
		return
	}
	secret, err := con.db.RotateSecret(ctx, conn.ID, rotationGrace, actor)
	if err != nil {
		con.fail(c, err)
		return
	}
	switch err := con.configure(ctx, a, conn, secret, actor); {
	case qwoty.ErrorCode(err) == qwoty.CodePackageNotInstalled:
		con.renderInstall(c, http.StatusConflict, true)
	case err != nil:
		_, msg := outcome(err)
		con.fail(c, qwoty.Errorf(qwoty.CodeCRMUnavailable, "The previous secret works for 10 minutes: fix the problem and rotate again before then.",
			"the new secret could not be written into the %s: %s", in.Account, msg))
	default:
		done(c, "rotated", in.Provider)
	}
}

// disconnect stops the connection at once and keeps its data: what the CRM
// account holds of Qwoty is cleared and the token revoked, both best effort
// (the connection stops here whatever the CRM answers).
func (con *Console) disconnect(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	if o := a.OAuth(); o != nil {
		if h, ok := a.(interface {
			Disconnecting(context.Context, *store.DB, *qwoty.Connection) error
		}); ok {
			if err := h.Disconnecting(ctx, con.db, conn); err != nil {
				con.log.WarnContext(ctx, "deleting the CRM's webhooks failed", "connection_id", conn.ID, "error", err.Error())
			}
		}
		if err := a.Unconfigure(ctx, con.sessionOfConn(a, conn)); err != nil {
			con.log.WarnContext(ctx, "clearing the CRM account's configuration failed", "connection_id", conn.ID, "error", err.Error())
		}
		// Revoking the refresh token revokes the access tokens made from it.
		if _, refresh, err := con.db.Tokens(ctx, conn.ID); err == nil && refresh != "" {
			if err := o.Revoke(ctx, conn.LoginURL, refresh); err != nil {
				con.log.WarnContext(ctx, "token revocation failed", "connection_id", conn.ID, "error", err.Error())
			}
		}
	}
	if err := con.db.Disconnect(ctx, conn.ID, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	done(c, "disconnected", in.Provider)
}
