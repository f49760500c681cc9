package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's sync as the console shows it: its health on Integrations
// and its log (every push, newest first), with Retry for what failed.

// errorFailedRecords is how many records may fail before sync's health is
// an error rather than a warning (design: more than 20 failed rows).
const errorFailedRecords = 20

// syncLogPage is how many log rows a page lists.
const syncLogPage = 50

// syncHealth sums up conn's sync for its card on Integrations, from the
// connection's status, its CRM's readiness (a connection made before sync
// lacks the write scopes) and its outbox (store.SyncHealthOf). It is nil
// for a CRM that does not sync and has nothing queued.
func (con *Console) syncHealth(ctx context.Context, a crm.Adapter, conn *qwoty.Connection) (*templates.SyncHealthView, error) {
	h, err := con.db.SyncHealthOf(ctx, conn.WorkspaceID, conn.ID)
	if err != nil {
		return nil, err
	}
	syncer := a.Sync()
	if syncer == nil && h.Pending+h.InFlight+h.Failed+h.Synced == 0 {
		return nil, nil
	}
	in := a.Info()
	v := &templates.SyncHealthView{Health: qwoty.HealthHealthy, Pending: h.Pending + h.InFlight, Failed: h.Failed, Synced: h.Synced,
		LastSyncedAt: h.LastSyncedAt, OldestPending: h.OldestPending, LastErrorCode: h.LastErrorCode, LastError: h.LastError}
	// The CRM's Syncer says whether the connection's grant may write (a
	// record parked before a reconnect still carries the old code until
	// its next push, which the reconnect queued).
	reconnect := h.LastErrorCode == qwoty.CodeSyncReconnect && v.Pending > 0
	if syncer != nil {
		reconnect = qwoty.ErrorCode(syncer.Ready(conn)) == qwoty.CodeSyncReconnect
	}
	failed := func() string {
		if h.LastError != "" && h.LastErrorCode != qwoty.CodeSyncReconnect {
			v.Detail = "Latest: " + h.LastError
		}
		s := strconv.Itoa(h.Failed) + " records failed to sync"
		if h.Failed == 1 {
			s = "1 record failed to sync"
		}
		return s + ": fix what " + in.Name + "'s message names, then retry from the sync log."
	}
	switch {
	case conn.Status == qwoty.ConnectionError:
		v.Health = qwoty.HealthError
		v.Reason = "Nothing is pushed while the connection is in error: reconnect " + in.Name + ". Pending quotes are kept and pushed then."
		v.Reconnect = true
	case h.Failed > errorFailedRecords:
		v.Health, v.Reason = qwoty.HealthError, failed()
	case reconnect:
		e, _ := qwoty.Lookup(qwoty.CodeSyncReconnect)
		v.Health, v.Reason, v.Reconnect = qwoty.HealthWarning, e.Title+": "+lowerFirst(e.Message), true
	case h.Failed > 0:
		v.Health, v.Reason = qwoty.HealthWarning, failed()
	case h.BlockedUntil.After(con.now()):
		v.Health = qwoty.HealthWarning
		v.Reason = in.Name + "'s API limit is reached: sync waits until " + h.BlockedUntil.UTC().Format("15:04 UTC") + " and resumes on its own."
	}
	if a.Pull() != nil {
		pullHealth(v, h.Pull, conn, in.Name, con.now())
	}
	return v, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// syncLogShow is a connection's sync log, newest first, filtered by outcome
// and record, a page at a time (before: the last row of the page before).
func (con *Console) syncLogShow(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	f, err := syncLogFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	f.Limit = syncLogPage + 1 // one more says whether there is an older page
	entries, err := con.db.SyncLog(ctx, conn.WorkspaceID, conn.ID, f)
	if err != nil {
		con.fail(c, err)
		return
	}
	failed, err := con.db.FailedRecords(ctx, conn.ID, 1000)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.SyncLogView{ConsolePage: con.page(c), CRM: in, Conn: conn, Outcome: f.Outcome, Record: f.RecordID,
		Paged: f.Before != 0, Failed: map[string]bool{}}
	for _, r := range failed {
		v.Failed[r.RecordID] = true
	}
	if len(entries) > syncLogPage {
		entries = entries[:syncLogPage]
		v.Older = syncLogURL(in.Provider, f.Outcome, f.RecordID, entries[len(entries)-1].ID)
	}
	v.Entries = entries
	v.Retry = map[int64]bool{}
	offered := map[string]bool{}
	for _, e := range entries { // newest first: each failed record's newest failure
		if e.Outcome == store.FailedOutcome && v.Failed[e.RecordID] && !offered[e.RecordID] {
			v.Retry[e.ID], offered[e.RecordID] = true, true
		}
	}
	if c.Query("done") == "retried" {
		n, _ := strconv.Atoi(c.Query("n"))
		v.Notice = retriedNotice(n)
	}
	web.Render(c, http.StatusOK, templates.SyncLog(v))
}

// syncOutcomes are the outcomes the log may be filtered by.
var syncOutcomes = []string{store.SyncedOutcome, store.RetryingOutcome, store.FailedOutcome, store.WaitingOutcome, "skipped"}

// syncLogFilter reads the log's filter from the query, refusing what no
// link of ours writes.
func syncLogFilter(c *gin.Context) (store.SyncLogFilter, error) {
	f := store.SyncLogFilter{Outcome: c.Query("outcome"), RecordID: strings.TrimSpace(c.Query("record"))}
	if f.Outcome != "" && !slices.Contains(syncOutcomes, f.Outcome) {
		return f, qwoty.Errorf(qwoty.CodeBadRequest, "Choose an outcome from the list.", "%q is not a sync outcome", f.Outcome)
	}
	if len(f.RecordID) > 255 {
		return f, qwoty.Errorf(qwoty.CodeBadRequest, "Paste the CRM record's id.", "a record id is at most 255 characters")
	}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return f, qwoty.Errorf(qwoty.CodeBadRequest, "Use the page links.", "before=%q is not a log entry", b)
		}
		f.Before = n
	}
	return f, nil
}

// syncLogURL is the log's address with a filter and a page.
func syncLogURL(p qwoty.Provider, outcome, record string, before int64) string {
	q := url.Values{}
	if outcome != "" {
		q.Set("outcome", outcome)
	}
	if record != "" {
		q.Set("record", record)
	}
	if before != 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	u := "/settings/integrations/" + string(p) + "/sync-log"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// syncRetry queues again the connection's failed records: one (record) or
// all of them, audited under the admin's email (store.RetrySync), then
// goes back to the log.
func (con *Console) syncRetry(c *gin.Context) {
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	record := strings.TrimSpace(c.PostForm("record"))
	if record == "" && c.PostForm("all") != "true" {
		con.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Use a Retry button of the sync log.", "name the record to retry, or all"))
		return
	}
	n, err := con.db.RetrySync(c.Request.Context(), conn.WorkspaceID, conn.ID, record, sessionOf(c).User.Email)
	if err != nil {
		con.fail(c, err)
		return
	}
	back := syncLogURL(in.Provider, "", "", 0)
	c.Redirect(http.StatusSeeOther, back+"?done=retried&n="+strconv.Itoa(n))
}

// retriedNotice says what a Retry queued.
func retriedNotice(n int) string {
	switch {
	case n <= 0:
		return "Nothing to retry: no record is failed now (it may have been retried or changed meanwhile)."
	case n == 1:
		return "1 record is queued again: it is pushed in a moment."
	}
	return fmt.Sprintf("%d records are queued again: they are pushed in a moment.", n)
}
