package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
)

// dummyHash is verified when the email is unknown, so a login takes as long
// whether or not the account exists.
var dummyHash, _ = password.Hash("not a real password, only for timing")

func (s *Server) loginShow(c *gin.Context) {
	if sessionOf(c) != nil {
		c.Redirect(http.StatusSeeOther, "/settings/integrations")
		return
	}
	n, err := s.db.CountUsers(c.Request.Context())
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	render(c, http.StatusOK, templates.Login(templates.LoginView{NoUsers: n == 0}))
}

func (s *Server) loginSubmit(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	pw := c.PostForm("password")
	if s.logins.blocked(email) {
		c.Set(ctxErrorCode, string(qwoty.CodeUnauthenticated))
		render(c, http.StatusTooManyRequests, templates.Login(templates.LoginView{Email: email,
			Error: "Too many failed attempts for this email: wait 15 minutes, or ask an admin to check the account."}))
		return
	}
	u, hash, err := s.db.UserForLogin(c.Request.Context(), email)
	if err != nil && !errors.Is(err, qwoty.ErrNotFound) {
		s.consoleFail(c, err)
		return
	}
	if u == nil {
		hash = dummyHash
	}
	if verr := password.Verify(hash, pw); verr != nil || u == nil {
		s.logins.fail(email)
		c.Set(ctxErrorCode, string(qwoty.CodeUnauthenticated))
		render(c, http.StatusUnauthorized, templates.Login(templates.LoginView{Email: email, Error: "That email and password do not match an account."}))
		return
	}
	s.logins.succeed(email)
	token, _, err := s.db.CreateSession(c.Request.Context(), u.ID, sessionTTL)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	s.setSessionCookie(c, token, int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, "/settings/integrations")
}

func (s *Server) logout(c *gin.Context) {
	if tok := c.GetString(ctxSessionTok); tok != "" {
		if err := s.db.DeleteSession(c.Request.Context(), tok); err != nil {
			s.consoleFail(c, err)
			return
		}
	}
	s.setSessionCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}
