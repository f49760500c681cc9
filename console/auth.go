package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The console's session is a first-party cookie: HttpOnly, Secure outside
// development, SameSite=Lax (the OAuth callback is a top-level GET from the
// CRM, which Lax lets through; cross-site posts are not).
const (
	sessionCookie = "qwoty_session"
	sessionTTL    = 12 * time.Hour
	ctxSession    = "qwoty.session"
	ctxSessionTok = "qwoty.session_token"
)

func (con *Console) setSessionCookie(c *gin.Context, token string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		// Secure whenever the console is served over https (always outside
		// development: APP_URL must be https there).
		HttpOnly: true, Secure: strings.HasPrefix(con.cfg.AppURL, "https://"), SameSite: http.SameSiteLaxMode,
	})
}

// session loads the session of the cookie, if any and alive.
func (con *Console) session(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	// Console forms must carry their Origin (checked against CSRF); under
	// no-referrer browsers send "Origin: null". Same-origin still sends
	// nothing to other sites.
	c.Header("Referrer-Policy", "same-origin")
	if ck, err := c.Request.Cookie(sessionCookie); err == nil && ck.Value != "" {
		sess, err := con.db.SessionByToken(c.Request.Context(), ck.Value)
		switch {
		case err == nil:
			c.Set(ctxSession, sess)
			c.Set(ctxSessionTok, ck.Value)
		case !errors.Is(err, qwoty.ErrNotFound):
			// The session could not be read (the database is down): say
			// so, rather than treat the user as logged out.
			con.fail(c, err)
			c.Abort()
			return
		}
	}
	c.Next()
}

func sessionOf(c *gin.Context) *store.Session {
	v, ok := c.Get(ctxSession)
	if !ok {
		return nil
	}
	return v.(*store.Session)
}

// requireLogin sends visitors without a session to the login page.
func (con *Console) requireLogin(c *gin.Context) {
	if sessionOf(c) == nil {
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, "/login")
			c.Abort()
			return
		}
		con.fail(c, qwoty.Errorf(qwoty.CodeUnauthenticated, "Log in again; sessions last 12 hours.", "you are not logged in"))
		c.Abort()
		return
	}
	c.Next()
}

// requireCSRF checks every state-changing request: the form's token must be
// the session's (constant-time), and a browser-sent Origin must be ours.
func (con *Console) requireCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	sess := sessionOf(c)
	got := c.Request.PostFormValue("csrf")
	originOK := true
	if o := c.GetHeader("Origin"); o != "" {
		originOK = o == crm.Origin(con.cfg.AppURL)
	}
	if sess == nil || !originOK || !csrfMatches(got, sess.CSRFToken) {
		con.fail(c, qwoty.Errorf(qwoty.CodeCSRF, "Reload the page and submit the form again.", "this form is stale or was not sent from the Qwoty console"))
		c.Abort()
		return
	}
	c.Next()
}

// requireAdmin lets only workspace admins change integrations and users.
func (con *Console) requireAdmin(c *gin.Context) {
	if sess := sessionOf(c); sess == nil || !sess.User.Role.CanManageIntegrations() {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Ask an admin of your workspace.", "only admins can do this: change integrations and users, or read the audit log"))
		c.Abort()
		return
	}
	c.Next()
}

// requireTester lets admins and members run Test connection: it reads the
// org and records the outcome, but changes nothing in it.
func (con *Console) requireTester(c *gin.Context) {
	if sess := sessionOf(c); sess == nil || !(sess.User.Role.CanManageIntegrations() || sess.User.Role == qwoty.RoleMember) {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Ask an admin or a member of your workspace.", "viewers cannot run Test connection"))
		c.Abort()
		return
	}
	c.Next()
}

// requireMember lets admins and members read a connection's sync log (and
// export it); viewers see sync's health on Integrations only.
func (con *Console) requireMember(c *gin.Context) {
	if sess := sessionOf(c); sess == nil || !(sess.User.Role.CanManageIntegrations() || sess.User.Role == qwoty.RoleMember) {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Ask an admin or a member of your workspace.",
			"viewers see sync's health on Integrations; the sync log is for admins and members"))
		c.Abort()
		return
	}
	c.Next()
}

// page builds the shared part of a console page.
func (con *Console) page(c *gin.Context) templates.ConsolePage {
	sess := sessionOf(c)
	p := templates.ConsolePage{}
	if sess != nil {
		p.User, p.CSRF = sess.User, maskCSRF(sess.CSRFToken)
	}
	p.Notice = con.notice(c.Query("done"), c.Query("crm"))
	return p
}

// notice is the one-line confirmation a redirect asks for (done, and the
// CRM it is about): only these fixed texts are shown, with the CRM's own
// words, never text from the URL.
func (con *Console) notice(done, provider string) string {
	switch done {
	case "invited":
		return "The invitation is sent: its link works once, for 7 days."
	case "invitation-unsent":
		return "The invitation is saved but its email could not be sent (is a mail server configured?): Resend it once mail works."
	case "invitation-revoked":
		return "The invitation is revoked: its link no longer works."
	case "welcome":
		return "Welcome to Qwoty: your account is ready."
	case "order-fulfilled":
		return "The order is marked fulfilled."
	case "order-cancelled":
		return "The order is cancelled."
	case "quote-made":
		return "The quote is made, as a draft: send it to the customer when it is ready."
	case "quote-deleted":
		return "The draft is deleted."
	case "quote-saved":
		return "The quote is saved."
	case "quote-sent":
		return "The quote is sent: its email is on its way, and its CRM deal is made when the quote reaches the status chosen under Sync settings."
	case "deal-retried":
		return "The quote's CRM deal is being made again."
	case "deal-not-failed":
		return "Nothing to retry: the quote's CRM deal has not failed (it was made, or retried, meanwhile)."
	}
	a, ok := con.crms.Lookup(provider)
	if !ok {
		return ""
	}
	in := a.Info()
	switch done {
	case "connected":
		switch {
		case in.Rotates:
			return in.Name + " is connected and its configuration was written into the " + in.Account + "."
		case in.Guide.Next != "":
			return in.Name + " is connected: " + in.Guide.Next
		}
		return in.Name + " is connected."
	case "connected-warning":
		return in.Name + " is connected, but writing its configuration into the " + in.Account + " failed: see the card for the fix."
	case "rotated":
		return "The secret was rotated and written into the " + in.Account + "; the previous one works for 10 more minutes."
	case "sync-settings":
		return in.Name + "'s sync settings are saved."
	case "backfill":
		return "Syncing existing quotes to " + in.Name + " has started: its progress is below."
	case "backfill-cancelled":
		return "The sync of existing quotes is being cancelled: what was not pushed yet stays out of " + in.Name + "."
	case "sync-now":
		return "Sync now: " + in.Name + " is being read for changes, and every pending quote is pushed now."
	case "api-key-revoked":
		return "The API key is revoked: every request made with it is refused from now on."
	case "disconnected":
		return in.Name + " was disconnected. Quotes and history are kept; reconnecting the same " + in.Account + " restores them."
	}
	return ""
}

// done is where an action on a CRM's connection sends the admin: the
// Integrations page, with its notice.
func done(c *gin.Context, what string, p qwoty.Provider) {
	c.Redirect(http.StatusSeeOther, "/settings/integrations?done="+what+"&crm="+string(p))
}

// fail answers err inside the console's layout (web.Console).
func (con *Console) fail(c *gin.Context, err error) {
	con.errs.Answer(c, err, web.Console(con.page(c)))
}

// SetupPath is, in development only, the way to the first-run page from the
// home and login pages: it makes a one-time setup link and follows it. In
// production the link is only in the server's log.
const SetupPath = "/setup"

// entry is /console: the console's front door, Integrations (which sends a
// visitor without a session to the login page).
func (con *Console) entry(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/settings/integrations")
}

// formError is a refusal of a console form, shown above the form shown
// again as typed (its field named).
func formError(e *qwoty.Error) *templates.ErrorView {
	return &templates.ErrorView{Code: string(e.Code), Message: e.Message, Hint: e.Hint, Field: e.Field}
}
