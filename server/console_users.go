package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

func (s *Server) usersShow(c *gin.Context) {
	users, err := s.db.ListUsers(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.Users(templates.UsersView{ConsolePage: page(c), Users: users}))
}

// userAdd creates a user in the admin's workspace with an initial password.
func (s *Server) userAdd(c *gin.Context) {
	role, ok := qwoty.ParseRole(c.PostForm("role"))
	pw := c.PostForm("password")
	if !ok {
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeValidation, "Choose admin, member or viewer.", "role %q is not a role", c.PostForm("role")))
		return
	}
	email, err := qwoty.ParseEmail(c.PostForm("email"))
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	name, err := qwoty.ParseUserName(c.PostForm("name"))
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	if err := password.Check(pw, email); err != nil {
		s.consoleFail(c, qwoty.Errorf(qwoty.CodeValidation, "Choose another password: a few unrelated words make a long one that is easy to remember.", "%v", err))
		return
	}
	hash, err := s.hasher.Hash(c.Request.Context(), pw)
	if err != nil {
		s.hashFail(c, err)
		return
	}
	admin := sessionOf(c).User
	if _, err := s.db.CreateUser(c.Request.Context(), admin.WorkspaceID, store.NewUser{Email: email, Name: name, Role: role, PasswordHash: hash}, admin.Email); err != nil {
		s.consoleFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/users?done=user-added")
}

func (s *Server) auditShow(c *gin.Context) {
	entries, err := s.db.AuditLog(c.Request.Context(), sessionOf(c).User.WorkspaceID, 200)
	if err != nil {
		s.consoleFail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.Audit(templates.AuditView{ConsolePage: page(c), Entries: entries}))
}
