package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

func (con *Console) usersShow(c *gin.Context) {
	ws := sessionOf(c).User.WorkspaceID
	users, err := con.db.ListUsers(c.Request.Context(), ws)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.UsersView{ConsolePage: con.page(c), Users: users, Now: con.now()}
	if v.CanManage() {
		if v.Invitations, err = con.db.PendingInvitations(c.Request.Context(), ws); err != nil {
			con.fail(c, err)
			return
		}
	}
	web.Render(c, http.StatusOK, templates.Users(v))
}

// userAdd creates a user in the admin's workspace with an initial password.
// The console's Users page no longer offers it (admins invite: see
// invitations.go); the route stays for scripts and tests that made users
// this way, and is admin-only.
func (con *Console) userAdd(c *gin.Context) {
	role, ok := qwoty.ParseRole(c.PostForm("role"))
	pw := c.PostForm("password")
	if !ok {
		con.fail(c, qwoty.Errorf(qwoty.CodeValidation, "Choose admin, member or viewer.", "role %q is not a role", c.PostForm("role")))
		return
	}
	email, err := qwoty.ParseEmail(c.PostForm("email"))
	if err != nil {
		con.fail(c, err)
		return
	}
	name, err := qwoty.ParseUserName(c.PostForm("name"))
	if err != nil {
		con.fail(c, err)
		return
	}
	if err := password.Check(pw, email); err != nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeValidation, "Choose another password: a few unrelated words make a long one that is easy to remember.", "%v", err))
		return
	}
	hash, err := con.hasher.Hash(c.Request.Context(), pw)
	if err != nil {
		con.hashFail(c, err)
		return
	}
	admin := sessionOf(c).User
	if _, err := con.db.CreateUser(c.Request.Context(), admin.WorkspaceID, store.NewUser{Email: email, Name: name, Role: role, PasswordHash: hash}, admin.Email); err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/users?done=user-added")
}

func (con *Console) auditShow(c *gin.Context) {
	entries, err := con.db.AuditLog(c.Request.Context(), sessionOf(c).User.WorkspaceID, 200)
	if err != nil {
		con.fail(c, err)
		return
	}
	accounts := map[qwoty.Provider]string{}
	for _, a := range con.crms.All() {
		in := a.Info()
		accounts[in.Provider] = in.Account
	}
	web.Render(c, http.StatusOK, templates.Audit(templates.AuditView{ConsolePage: con.page(c), Entries: entries, Accounts: accounts}))
}
