package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's sync runs, on its Integrations card: "Sync existing
// quotes" (a back-fill of the quotes made before sync, with its progress
// polled every 2 s; admins start and cancel it after a confirmation that
// counts the quotes) and "Sync now" (a poll of the CRM, every pending quote
// due now).

// syncRuns is the card's runs view of an active connection whose CRM
// syncs (nil otherwise).
func (con *Console) syncRuns(c *gin.Context, a crm.Adapter, conn *qwoty.Connection) (*templates.SyncRunsView, error) {
	if a.Sync() == nil {
		return nil, nil
	}
	ctx := c.Request.Context()
	p := con.page(c)
	v := &templates.SyncRunsView{Provider: conn.Provider, CanManage: p.CanManage(), CSRF: p.CSRF}
	run, err := con.db.LatestSyncRun(ctx, conn.WorkspaceID, conn.ID, store.RunBackfill)
	if err != nil {
		return nil, err
	}
	v.Run = runView(run)
	if v.Run == nil || !v.Run.Active {
		if v.ToSync, err = con.db.BackfillCount(ctx, conn.WorkspaceID, conn.ID); err != nil {
			return nil, err
		}
	}
	now, err := con.db.LatestSyncRun(ctx, conn.WorkspaceID, conn.ID, store.RunSyncNow)
	if err != nil {
		return nil, err
	}
	if now != nil {
		v.LastSyncNow = now.StartedAt
	}
	return v, nil
}

func runView(r *store.SyncRun) *templates.RunView {
	if r == nil {
		return nil
	}
	return &templates.RunView{ID: r.ID, Status: r.Status, Total: r.Total, Done: r.Done, Failed: r.Failed, Percent: r.Percent(),
		ETA: r.ETA, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Error: r.Error,
		Active: r.Active(), Cancelling: r.Status == store.RunCancelling, Cancelled: r.Status == store.RunCancelled}
}

// backfillConfirm asks before a back-fill, with the quotes it would push.
func (con *Console) backfillConfirm(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	n, err := con.db.BackfillCount(c.Request.Context(), conn.WorkspaceID, conn.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.BackfillConfirm(templates.BackfillConfirmView{ConsolePage: con.page(c), CRM: in, Count: n}))
}

// backfillStart starts a back-fill, from the confirmation page only (its
// form carries confirm=backfill; any other post is sent there).
func (con *Console) backfillStart(c *gin.Context) {
	in := adapterOf(c).Info()
	if c.PostForm("confirm") != "backfill" {
		c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/backfill")
		return
	}
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	if adapterOf(c).Sync() == nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Quotes sync to the CRMs whose card shows Sync.", "%s does not sync on this server", in.Name))
		return
	}
	if _, err := con.db.StartBackfill(c.Request.Context(), conn.WorkspaceID, conn.ID, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	done(c, "backfill", in.Provider)
}

// backfillCancel asks the connection's running back-fill (the form's run)
// to stop.
func (con *Console) backfillCancel(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	if _, err := con.db.CancelSyncRun(c.Request.Context(), conn.WorkspaceID, conn.ID, c.PostForm("run"), sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	done(c, "backfill-cancelled", in.Provider)
}

// backfillProgress is the progress fragment the card polls (any role).
func (con *Console) backfillProgress(c *gin.Context) {
	a := adapterOf(c)
	conn, err := con.activeConnection(c, a.Info().Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	v, err := con.syncRuns(c, a, conn)
	if err != nil {
		con.fail(c, err)
		return
	}
	if v == nil {
		con.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Quotes sync to the CRMs whose card shows Sync.", "%s does not sync on this server", a.Info().Name))
		return
	}
	c.Header("Cache-Control", "no-store")
	web.Render(c, http.StatusOK, templates.BackfillProgress(*v))
}

// syncNow polls the CRM and makes every pending quote of the connection
// due now, recorded as a run.
func (con *Console) syncNow(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	if _, err := con.db.SyncNow(c.Request.Context(), conn.WorkspaceID, conn.ID, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	done(c, "sync-now", in.Provider)
}
