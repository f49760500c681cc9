package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
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
