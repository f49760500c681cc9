package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

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
	if v.Health == qwoty.HealthHealthy {
		switch {
		case h.BrokenMapping != "":
			v.Health = qwoty.HealthWarning
			v.Reason = "A field mapping stopped working (" + h.BrokenMapping + "): fix it in the field mappings."
		case h.OpenConflicts > 0:
			v.Health = qwoty.HealthWarning
			v.Reason = strconv.Itoa(h.OpenConflicts) + " conflicts wait for an admin to pick a value, under Conflicts."
			if h.OpenConflicts == 1 {
				v.Reason = "1 conflict waits for an admin to pick a value, under Conflicts."
			}
		}
	}
	return v, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// syncLogShow is a connection's sync log, newest first, filtered, a page
// at a time (keyset: before/after a row, never an offset). Admins and
// members read it; only admins get Retry.
func (con *Console) syncLogShow(c *gin.Context) {
	ctx := c.Request.Context()
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	q, f, err := syncLogFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	page, err := con.db.SyncLogPaged(ctx, conn.WorkspaceID, conn.ID, f, syncLogPage)
	if err != nil {
		con.fail(c, err)
		return
	}
	p := con.page(c)
	v := templates.SyncLogView{ConsolePage: p, CRM: in, Conn: conn, Outcome: q.Outcome, Record: q.Record,
		Object: q.Object, Direction: q.Direction, Run: q.Run, From: q.From, To: q.To,
		Filtered: q.filtered(), Paged: f.Before != 0 || f.After != 0, Failed: map[string]bool{}, Retry: map[int64]bool{},
		CanRetry: p.CanManage(), Entries: page.Entries, Export: q.url(in.Provider, "sync-log/export.csv", 0, 0)}
	if p.CanManage() {
		failed, err := con.db.FailedRecords(ctx, conn.ID, 1000)
		if err != nil {
			con.fail(c, err)
			return
		}
		for _, r := range failed {
			v.Failed[r.RecordID] = true
		}
		offered := map[string]bool{}
		for _, e := range page.Entries { // newest first: each failed record's newest failure
			if e.Outcome == store.FailedOutcome && v.Failed[e.RecordID] && !offered[e.RecordID] {
				v.Retry[e.ID], offered[e.RecordID] = true, true
			}
		}
	}
	if n := len(page.Entries); n > 0 {
		if page.Older {
			v.Older = q.url(in.Provider, "sync-log", page.Entries[n-1].ID, 0)
		}
		if page.Newer {
			v.Newer = q.url(in.Provider, "sync-log", 0, page.Entries[0].ID)
		}
	}
	if v.Paged {
		v.Newest = q.url(in.Provider, "sync-log", 0, 0)
	}
	if c.Query("done") == "retried" {
		n, _ := strconv.Atoi(c.Query("n"))
		v.Notice = retriedNotice(n)
	}
	web.Render(c, http.StatusOK, templates.SyncLog(v))
}

// syncOutcomes are the outcomes the log may be filtered by.
var syncOutcomes = []string{store.SyncedOutcome, store.RetryingOutcome, store.FailedOutcome, store.WaitingOutcome, "skipped"}

// syncDirections are the log's directions.
var syncDirections = []string{"push", "pull"}

// logQuery is the log's filter as the query string writes it, kept to
// write the page links, the export's and Retry's forms.
type logQuery struct {
	Outcome, Record, Object, Direction, Run, From, To string
}

func (q logQuery) filtered() bool { return q != logQuery{} }

// url is the log's address (page, export) under the filter, with a cursor.
func (q logQuery) url(p qwoty.Provider, page string, before, after int64) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"from", q.From}, {"to", q.To}, {"outcome", q.Outcome}, {"direction", q.Direction},
		{"object", q.Object}, {"record", q.Record}, {"run", q.Run}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if before != 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if after != 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	u := "/settings/integrations/" + string(p) + "/" + page
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// The log's date filter: whole UTC days, from the first to the last
// included.
const logDate = "2006-01-02"

// badFilter is a filter value refused (filter_invalid, 400).
func badFilter(field, hint, format string, args ...any) error {
	e := qwoty.Errorf(qwoty.CodeFilterInvalid, hint, format, args...)
	e.Field = field
	return e
}

// syncLogFilter reads the log's filter from the query (a form's fields
// for Retry), refusing what no link or form of ours writes.
func syncLogFilter(c *gin.Context) (logQuery, store.SyncLogFilter, error) {
	get := func(k string) string {
		if c.Request.Method == http.MethodPost {
			return strings.TrimSpace(c.PostForm(k))
		}
		return strings.TrimSpace(c.Query(k))
	}
	q := logQuery{Outcome: get("outcome"), Record: get("record"), Object: get("object"), Direction: get("direction"),
		Run: get("run"), From: get("from"), To: get("to")}
	f := store.SyncLogFilter{Outcome: q.Outcome, RecordID: q.Record, CRMObject: q.Object, Direction: q.Direction, RunID: q.Run}
	if f.Outcome != "" && !slices.Contains(syncOutcomes, f.Outcome) {
		return q, f, badFilter("outcome", "Choose an outcome from the list.", "%q is not a sync outcome", f.Outcome)
	}
	if f.Direction != "" && !slices.Contains(syncDirections, f.Direction) {
		return q, f, badFilter("direction", "Choose push or pull.", "%q is not a direction: push or pull", f.Direction)
	}
	if len(f.RecordID) > 255 {
		return q, f, badFilter("record", "Paste the CRM record's id.", "a record id is at most 255 characters")
	}
	if len(f.CRMObject) > 255 {
		return q, f, badFilter("object", "Type the CRM object's name, such as Opportunity or deals.", "an object name is at most 255 characters")
	}
	if f.RunID != "" {
		if !uuidForm.MatchString(f.RunID) {
			return q, f, badFilter("run", "Use the link of the run.", "run %q is not a run's id", cut(f.RunID, 60))
		}
		f.RunID = strings.ToLower(f.RunID)
	}
	for _, d := range []struct {
		field, val string
		to         *time.Time
		next       bool
	}{{"from", q.From, &f.From, false}, {"to", q.To, &f.To, true}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse(logDate, d.val)
		if err != nil {
			return q, f, badFilter(d.field, "Write the date as YYYY-MM-DD, or pick it in the form.", "%s=%q is not a date", d.field, cut(d.val, 40))
		}
		if d.next { // the last day is included: up to the next midnight
			t = t.AddDate(0, 0, 1)
		}
		*d.to = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return q, f, badFilter("to", "Choose a to date on or after the from date.", "the to date %s is before the from date %s", q.To, q.From)
	}
	for _, k := range []struct {
		name string
		to   *int64
	}{{"before", &f.Before}, {"after", &f.After}} {
		b := get(k.name)
		if b == "" {
			continue
		}
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return q, f, badFilter(k.name, "Use the page links.", "%s=%q is not a log entry", k.name, cut(b, 40))
		}
		*k.to = n
	}
	if f.Before != 0 && f.After != 0 {
		return q, f, badFilter("after", "Use the page links.", "a page is before an entry or after one, not both")
	}
	return q, f, nil
}

// uuidForm is a run's id as its links write it.
var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// cut shortens what a refusal quotes back.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Bounds of the log's bulk actions (docs/sync.md).
const (
	// retryMatchingMax is how many records one "Retry failed matching"
	// queues; a bigger backlog takes several clicks, each a short
	// statement.
	retryMatchingMax = 10_000
	// exportMaxRows is how many rows one CSV export holds; a filter that
	// matches more is refused (export_too_large), not silently cut.
	exportMaxRows = 100_000
)

// syncRetry queues again the connection's failed records: one (record),
// or every failed record with an entry under the log's filter (all=true
// with the filter's fields; at most retryMatchingMax), audited under the
// admin's email, then goes back to the log under the same filter.
func (con *Console) syncRetry(c *gin.Context) {
	a := adapterOf(c)
	in := a.Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	by := sessionOf(c).User.Email
	var n int
	// The form carries the log's filter, to go back to the same view (and,
	// for all, to choose the records).
	q, f, err := syncLogFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	if c.PostForm("all") == "true" {
		n, err = con.db.RetryMatching(c.Request.Context(), conn.WorkspaceID, conn.ID, f, retryMatchingMax, by)
	} else {
		// One record (a row's Retry names it in "record"; the other filter
		// fields bring the admin back to the same view).
		record := f.RecordID
		q.Record = ""
		if record == "" || len(record) > 255 {
			con.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Use a Retry button of the sync log.", "name the record to retry, or all"))
			return
		}
		n, err = con.db.RetrySync(c.Request.Context(), conn.WorkspaceID, conn.ID, record, by)
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	back := q.url(in.Provider, "sync-log", 0, 0)
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, back+sep+"done=retried&n="+strconv.Itoa(n))
}

// retriedNotice says what a Retry queued.
func retriedNotice(n int) string {
	switch {
	case n <= 0:
		return "Nothing to retry: no record is failed now (it may have been retried or changed meanwhile)."
	case n == 1:
		return "1 record is queued again: it is pushed in a moment."
	case n >= retryMatchingMax:
		return fmt.Sprintf("%d records are queued again (the most one Retry queues): retry again for the rest once they are pushed.", n)
	}
	return fmt.Sprintf("%d records are queued again: they are pushed in a moment.", n)
}

// syncLogExport streams the rows under the log's filter as CSV, newest
// first, at most exportMaxRows (a filter matching more is refused before
// anything is sent). Reading, so members may export too.
func (con *Console) syncLogExport(c *gin.Context) {
	ctx := c.Request.Context()
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	_, f, err := syncLogFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	n, err := con.db.CountSyncLog(ctx, conn.WorkspaceID, conn.ID, f, exportMaxRows)
	if err != nil {
		con.fail(c, err)
		return
	}
	if n > exportMaxRows {
		con.fail(c, qwoty.Errorf(qwoty.CodeExportTooLarge, "Narrow the filter (a shorter date range, an outcome, an object) and export each part.",
			"the filter matches more than %d rows, the most one export holds", exportMaxRows))
		return
	}
	name := fmt.Sprintf("qwoty-sync-log-%s-%s.csv", in.Provider, con.now().UTC().Format("20060102-150405"))
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Status(http.StatusOK)
	w := newLogCSV(c.Writer)
	err = con.db.EachSyncLog(ctx, conn.WorkspaceID, conn.ID, f, exportMaxRows, w.row)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		// The status is sent: cut the response, so that the download
		// fails rather than ends as a shorter, valid-looking file.
		con.log.WarnContext(ctx, "sync log export cut", "request_id", web.RequestID(c), "connection", conn.ID, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
}
