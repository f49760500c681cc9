package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// setupShow opens the first-run page from the one-time link in the log.
func (con *Console) setupShow(c *gin.Context) {
	token := c.Query("token")
	if token == "" && con.cfg.Dev() {
		// Development only: the home page's link. A new one-time link
		// replaces the one printed at start, and works only while no
		// user exists.
		n, err := con.db.CountUsers(c.Request.Context())
		if err != nil {
			con.fail(c, err)
			return
		}
		if n == 0 {
			fresh, err := con.db.NewSetupToken(c.Request.Context(), devSetupLinkTTL)
			if err != nil {
				con.fail(c, err)
				return
			}
			c.Redirect(http.StatusSeeOther, "/setup?token="+fresh)
			return
		}
	}
	if !con.setupLinkValid(c, token) {
		return
	}
	web.Render(c, http.StatusOK, templates.Setup(templates.SetupView{Token: token}))
}

// devSetupLinkTTL bounds a setup link made from the home page in development.
const devSetupLinkTTL = time.Hour

// setupSubmit creates the first workspace and its admin, and logs them in.
func (con *Console) setupSubmit(c *gin.Context) {
	v := templates.SetupView{Token: c.PostForm("token"), Email: strings.TrimSpace(c.PostForm("email")),
		Name: strings.TrimSpace(c.PostForm("name")), Workspace: strings.TrimSpace(c.PostForm("workspace"))}
	pw := c.PostForm("password")
	problem := ""
	switch {
	case v.Workspace == "" || len([]rune(v.Workspace)) > 200:
		problem = "Give the workspace a name (up to 200 characters)."
	case !strings.Contains(v.Email, "@") || len(v.Email) > 254:
		problem = "Give a valid email address."
	default:
		if err := password.Check(pw, v.Email); err != nil {
			problem = web.Sentence(err.Error()) + "."
		}
	}
	if problem != "" {
		web.SetErrorCode(c, qwoty.CodeValidation)
		v.Error = problem
		web.Render(c, http.StatusUnprocessableEntity, templates.Setup(v))
		return
	}
	// The link is checked before the hash: an unauthenticated form must not
	// cost an argon2 computation. CreateFirstAdmin checks it again, atomically.
	if !con.setupLinkValid(c, v.Token) {
		return
	}
	hash, err := con.hasher.Hash(c.Request.Context(), pw)
	if err != nil {
		con.hashFail(c, err)
		return
	}
	if con.cfg.Dev() {
		// One story in development: the admin's workspace is the one
		// whose connection the playground signs for.
		if err := playground.AdoptDevWorkspace(c.Request.Context(), con.db, v.Workspace); err != nil {
			con.log.WarnContext(c.Request.Context(), "development workspace not adopted", "error", err.Error())
		}
	}
	u, err := con.db.CreateFirstAdmin(c.Request.Context(), v.Token, v.Workspace, store.NewUser{Email: v.Email, Name: v.Name, PasswordHash: hash})
	if err != nil {
		con.fail(c, err)
		return
	}
	token, _, err := con.db.CreateSession(c.Request.Context(), u.ID, sessionTTL)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.setSessionCookie(c, token, int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, "/settings/integrations")
}

// setupLinkValid checks a first-run link, and answers the request itself
// when the link is used, expired or unknown.
func (con *Console) setupLinkValid(c *gin.Context, token string) bool {
	ok, err := con.db.SetupTokenValid(c.Request.Context(), token)
	if err != nil {
		con.fail(c, err)
		return false
	}
	if !ok {
		con.fail(c, qwoty.Errorf(qwoty.CodeForbidden, "Restart the server to print a new setup link, or log in if an admin exists.",
			"this setup link is used, expired, or not valid"))
	}
	return ok
}
