package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// Retry-After of the login's refusals: the per-address cap lifts when the
// address's other login ends (a check takes well under a second); a full
// queue drains in a few seconds.
const (
	retryClientBusy = 2 * time.Second
	retryBusy       = 5 * time.Second
)

func (con *Console) loginShow(c *gin.Context) {
	if sessionOf(c) != nil {
		c.Redirect(http.StatusSeeOther, "/settings/integrations")
		return
	}
	n, err := con.db.CountUsers(c.Request.Context())
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.LoginView{NoUsers: n == 0}
	if v.NoUsers && con.cfg.Dev() {
		v.SetupURL = SetupPath
	}
	web.Render(c, http.StatusOK, templates.Login(v))
}

// loginSubmit checks an email and password. In order: the throttle (the
// address, or this email from it, may have to wait), the cap on logins in
// flight per address, the account's soft slowdown, then the password check
// under the Hasher's bounds. An unknown email goes the same way and takes
// as long as a known one.
func (con *Console) loginSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	email := strings.TrimSpace(c.PostForm("email"))
	pw := c.PostForm("password")
	addr := clientKey(c.ClientIP())

	v := con.logins.check(addr, email)
	if v.wait > 0 {
		msg := "Too many failed attempts for this email from your network: wait %s, then try again. The account is not locked: its owner can still log in from elsewhere."
		if v.address {
			msg = "Too many failed logins from your network: wait %s, then try again."
		}
		con.loginRefused(c, email, qwoty.CodeRateLimited, v.wait, fmt.Sprintf(msg, waitText(v.wait)))
		return
	}
	leave, err := con.hasher.Admit(addr)
	if err != nil {
		con.loginRefused(c, email, qwoty.CodeRateLimited, retryClientBusy,
			"Another login from your network is still being checked: wait a moment, then try again.")
		return
	}
	defer leave()
	if v.delay > 0 && !con.sleep(ctx, v.delay) {
		return // the client left
	}

	// The turn comes before the account lookup: when the queue is full the
	// refusal costs no database work, and known and unknown emails wait
	// alike.
	turn, err := con.hasher.Wait(ctx)
	if errors.Is(err, password.ErrBusy) {
		con.loginRefused(c, email, qwoty.CodeUnavailable, retryBusy,
			"The server is busy checking other logins: wait a few seconds, then try again.")
		return
	}
	if err != nil {
		return // the client left while waiting
	}
	defer turn.Done()
	u, hash, err := con.db.UserForLogin(ctx, email)
	if err != nil && !errors.Is(err, qwoty.ErrNotFound) {
		con.fail(c, err)
		return
	}
	if u == nil {
		hash = "" // the turn spends a real check's time without computing one
	}
	verr := turn.Verify(ctx, hash, pw)
	turn.Done()
	switch {
	case ctx.Err() != nil:
		return // the client left; nothing was decided
	case verr != nil || u == nil:
		if u != nil && verr != nil && !errors.Is(verr, password.ErrMismatch) {
			con.log.WarnContext(ctx, "stored password hash unreadable", "request_id", web.RequestID(c), "user_id", u.ID, "error", verr.Error())
		}
		con.logins.fail(addr, email)
		web.SetErrorCode(c, qwoty.CodeUnauthenticated)
		web.Render(c, http.StatusUnauthorized, templates.Login(templates.LoginView{Email: email, Error: "That email and password do not match an account."}))
		return
	}
	con.logins.succeed(addr, email)
	token, _, err := con.db.CreateSession(ctx, u.ID, sessionTTL)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.setSessionCookie(c, token, int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, "/settings/integrations")
}

// loginRefused answers the login page with msg, code's status (429 or 503)
// and Retry-After, through the one error path (the code for the access log,
// a warning for a busy server) in the login page's own shape.
func (con *Console) loginRefused(c *gin.Context, email string, code qwoty.Code, retry time.Duration, msg string) {
	c.Header("Retry-After", strconv.Itoa(retrySeconds(retry)))
	con.errs.Answer(c, &qwoty.Error{Code: code, Message: msg, Hint: "Wait, then log in again."}, web.Shape{Write: func(c *gin.Context, p web.Problem) {
		web.Render(c, p.Status, templates.Login(templates.LoginView{Email: email, Error: msg}))
	}})
}

// sleep waits d, or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hashFail answers a console form whose new password could not be hashed:
// 503 with Retry-After when the Hasher is busy.
func (con *Console) hashFail(c *gin.Context, err error) {
	if errors.Is(err, password.ErrBusy) {
		c.Header("Retry-After", strconv.Itoa(retrySeconds(retryBusy)))
		err = &qwoty.Error{Code: qwoty.CodeUnavailable, Message: "the server is busy checking other passwords",
			Hint: "Wait a few seconds, then send the form again.", Err: err}
	}
	con.fail(c, err)
}

// retrySeconds rounds up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// waitText says a wait the way a person reads it.
func waitText(d time.Duration) string {
	n := retrySeconds(d)
	switch {
	case n == 1:
		return "1 second"
	case n < 120:
		return fmt.Sprintf("%d seconds", n)
	default:
		return fmt.Sprintf("%d minutes", (n+59)/60)
	}
}

func (con *Console) logout(c *gin.Context) {
	if tok := c.GetString(ctxSessionTok); tok != "" {
		if err := con.db.DeleteSession(c.Request.Context(), tok); err != nil {
			con.fail(c, err)
			return
		}
	}
	con.setSessionCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}
