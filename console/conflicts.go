package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's conflicts, as an admin resolves them: both values shown,
// one kept (store.ResolveConflict applies it to the other side).

// maxConflictsShown bounds the page; older ones show once these are
// resolved.
const maxConflictsShown = 200

func (con *Console) conflictsShow(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	open, err := con.db.Conflicts(c.Request.Context(), conn.WorkspaceID, conn.ID, true, maxConflictsShown)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.Conflicts(templates.ConflictsView{ConsolePage: con.page(c), CRMName: in.Name,
		Provider: in.Provider, Open: open, Now: time.Now()}))
}

func (con *Console) conflictResolve(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	side := qwoty.Side(c.PostForm("side"))
	if _, err := con.db.ResolveConflict(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id"), side, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/conflicts")
}
