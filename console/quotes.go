package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The workspace's quotes (docs/admin-guide.md, "Quotes"): every user of
// the workspace reads them; filters by status, owner, CRM record (or none:
// the quotes made for a customer, their deal not made yet) and creation
// dates, and a search by number, title or customer. A quote without a
// record shows where its deal stands (docs/deals.md); an admin retries a
// failed one.

// quotesPage is the rows a page of the list shows.
const quotesPage = 50

// quoteHistoryMax bounds the history a quote's page shows.
const quoteHistoryMax = 200

// quotesFilter reads the list's filter from the query.
func quotesFilter(c *gin.Context) (templates.QuotesQuery, store.WorkspaceQuoteFilter, error) {
	get := func(k string) string { return strings.TrimSpace(c.Query(k)) }
	q := templates.QuotesQuery{Status: get("status"), Owner: get("owner"), Record: get("record"), From: get("from"), To: get("to"), Search: get("q"),
		WithoutDeal: get("without_deal") == "true"}
	f := store.WorkspaceQuoteFilter{Owner: q.Owner, Record: q.Record, Search: q.Search, WithoutRecord: q.WithoutDeal, Limit: quotesPage}
	if q.Status != "" {
		st, ok := qwoty.ParseStatus(q.Status)
		if !ok {
			return q, f, badFilter("status", "Choose a status from the list.", "%q is not a quote status", cut(q.Status, 40))
		}
		f.Status = st
	}
	w, err := readListWindow(c, q.From, q.To, []listText{
		{"owner", q.Owner, "Paste the CRM user's id."},
		{"record", q.Record, "Paste the CRM record's id."},
		{"q", q.Search, "Search with a shorter text: part of a number, a title or a customer's name."},
	})
	if err != nil {
		return q, f, err
	}
	f.From, f.To, f.AfterAt, f.AfterID = w.From, w.To, w.AfterAt, w.AfterID
	q.Filtered = q.Status != "" || q.Owner != "" || q.Record != "" || q.From != "" || q.To != "" || q.Search != "" || q.WithoutDeal
	return q, f, nil
}

// quotesShow is the workspace's quote list.
func (con *Console) quotesShow(c *gin.Context) {
	q, f, err := quotesFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	ws := sessionOf(c).User.WorkspaceID
	rows, more, err := con.db.WorkspaceQuotes(ctx, ws, f)
	if err != nil {
		con.fail(c, err)
		return
	}
	var noRecord []string
	for _, r := range rows {
		if r.CRMRecordID == "" {
			noRecord = append(noRecord, r.ID)
		}
	}
	deals, err := con.db.DealStatesOf(ctx, ws, noRecord)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.QuotesView{ConsolePage: con.page(c), Query: q, Rows: rows, Titles: map[qwoty.Provider]string{}, Deals: deals}
	for _, a := range con.crms.All() {
		v.Titles[a.Info().Provider] = a.Info().Name
	}
	if more {
		last := rows[len(rows)-1]
		next := url.Values{}
		for k, val := range map[string]string{"status": q.Status, "owner": q.Owner, "record": q.Record, "from": q.From, "to": q.To, "q": q.Search} {
			if val != "" {
				next.Set(k, val)
			}
		}
		if q.WithoutDeal {
			next.Set("without_deal", "true")
		}
		next.Set("after", last.CreatedAt.UTC().Format(time.RFC3339Nano)+"_"+last.ID)
		v.Older = "/quotes?" + next.Encode()
	}
	if f.AfterID != "" {
		v.Newest = "/quotes"
	}
	web.Render(c, http.StatusOK, templates.Quotes(v))
}

// quoteShow is one quote of the workspace: its lines and totals, where it
// stands with the CRM, and its history.
func (con *Console) quoteShow(c *gin.Context) {
	ctx := c.Request.Context()
	ws := sessionOf(c).User.WorkspaceID
	q, err := con.db.WorkspaceQuote(ctx, ws, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return
	}
	h, err := con.db.QuoteAudit(ctx, ws, q.Number, quoteHistoryMax)
	if err != nil {
		con.fail(c, err)
		return
	}
	s := store.Scope{WorkspaceID: ws, ConnectionID: q.ConnectionID, RecordID: q.CRMRecordID}
	versions, err := con.db.QuoteVersions(ctx, s, q.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	customer, err := con.db.QuoteHistory(ctx, s, q.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	order, err := con.db.QuoteOrder(ctx, s, q.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.QuoteView{ConsolePage: con.page(c), Row: *q, History: h, Versions: versions, Customer: *customer,
		Order: order, Accounts: map[qwoty.Provider]string{}}
	if q.CRMRecordID == "" {
		deals, err := con.db.DealStatesOf(ctx, ws, []string{q.ID})
		if err != nil {
			con.fail(c, err)
			return
		}
		v.Deal = deals[q.ID]
	}
	for _, a := range con.crms.All() {
		in := a.Info()
		v.Accounts[in.Provider] = in.Account
		if in.Provider == q.Provider {
			v.CRMName = in.Name
		}
	}
	web.Render(c, http.StatusOK, templates.QuoteConsole(v))
}

// quoteRetryDeal makes a failed deal of a quote without a CRM record be
// made again (store.RetryDeal, audited there), then shows the quote. A
// quote of another workspace is not found; one whose deal is not failed
// (made meanwhile, or retried by another admin) is said so.
func (con *Console) quoteRetryDeal(c *gin.Context) {
	ctx := c.Request.Context()
	sess := sessionOf(c)
	q, err := con.db.WorkspaceQuote(ctx, sess.User.WorkspaceID, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return
	}
	ok, err := con.db.RetryDeal(ctx, sess.User.WorkspaceID, q.ID, sess.User.Email)
	if err != nil {
		con.fail(c, err)
		return
	}
	done := "deal-retried"
	if !ok {
		done = "deal-not-failed"
	}
	c.Redirect(http.StatusSeeOther, "/quotes/"+q.ID+"?done="+done)
}

// listText is a text filter of a console list: its query field, value and
// the hint when it is too long.
type listText struct{ field, val, hint string }

// listWindow is what the console's lists (quotes, orders) share in their
// filters: a creation-day range and the page after (the Older link).
type listWindow struct {
	From, To time.Time
	AfterAt  time.Time
	AfterID  string
}

// readListWindow checks a list's texts (255 characters at most) and reads
// its date range (from, to: YYYY-MM-DD, to not before from) and its page
// (after: the Older link's time_id).
func readListWindow(c *gin.Context, from, to string, texts []listText) (listWindow, error) {
	var w listWindow
	for _, v := range texts {
		if len(v.val) > 255 {
			return w, badFilter(v.field, v.hint, "%s is at most 255 characters", v.field)
		}
	}
	for _, d := range []struct {
		field, val string
		to         *time.Time
	}{{"from", from, &w.From}, {"to", to, &w.To}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse(logDate, d.val)
		if err != nil {
			return w, badFilter(d.field, "Write the date as YYYY-MM-DD, or pick it in the form.", "%s=%q is not a date", d.field, cut(d.val, 40))
		}
		*d.to = t
	}
	if !w.From.IsZero() && !w.To.IsZero() && w.To.Before(w.From) {
		return w, badFilter("to", "Choose a to date on or after the from date.", "the to date %s is before the from date %s", to, from)
	}
	if a := strings.TrimSpace(c.Query("after")); a != "" {
		at, id, ok := strings.Cut(a, "_")
		t, err := time.Parse(time.RFC3339Nano, at)
		if !ok || err != nil || !uuidForm.MatchString(id) {
			return w, badFilter("after", "Use the page's Older link.", "%q is not a page of the list", cut(a, 80))
		}
		w.AfterAt, w.AfterID = t, strings.ToLower(id)
	}
	return w, nil
}
