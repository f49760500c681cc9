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

// The workspace's orders (docs/orders.md, "The console"): every user of
// the workspace reads them; admins and members mark an open order that
// Qwoty owns fulfilled or cancelled; viewers only read. Filters by status,
// CRM record and creation dates, and a search by the order's or the
// quote's number or the customer.

// ordersPage is the rows a page of the list shows.
const ordersPage = 50

// ordersFilter reads the list's filter from the query.
func ordersFilter(c *gin.Context) (templates.OrdersQuery, store.WorkspaceOrderFilter, error) {
	get := func(k string) string { return strings.TrimSpace(c.Query(k)) }
	q := templates.OrdersQuery{Status: get("status"), Record: get("record"), From: get("from"), To: get("to"), Search: get("q")}
	f := store.WorkspaceOrderFilter{Record: q.Record, Search: q.Search, Limit: ordersPage}
	if q.Status != "" {
		st, ok := qwoty.ParseOrderStatus(q.Status)
		if !ok {
			return q, f, badFilter("status", "Choose a status from the list.", "%q is not an order status", cut(q.Status, 40))
		}
		f.Status = st
	}
	w, err := readListWindow(c, q.From, q.To, []listText{
		{"record", q.Record, "Paste the CRM record's id."},
		{"q", q.Search, "Search with a shorter text: part of an order's or a quote's number, or a customer's name."},
	})
	if err != nil {
		return q, f, err
	}
	f.From, f.To, f.AfterAt, f.AfterID = w.From, w.To, w.AfterAt, w.AfterID
	q.Filtered = q.Status != "" || q.Record != "" || q.From != "" || q.To != "" || q.Search != ""
	return q, f, nil
}

// ordersShow is the workspace's order list.
func (con *Console) ordersShow(c *gin.Context) {
	q, f, err := ordersFilter(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	rows, more, err := con.db.WorkspaceOrders(c.Request.Context(), sessionOf(c).User.WorkspaceID, f)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := templates.OrdersView{ConsolePage: con.page(c), Query: q, Rows: rows, Titles: map[qwoty.Provider]string{}}
	for _, a := range con.crms.All() {
		v.Titles[a.Info().Provider] = a.Info().Name
	}
	if more {
		last := rows[len(rows)-1]
		next := url.Values{}
		for k, val := range map[string]string{"status": q.Status, "record": q.Record, "from": q.From, "to": q.To, "q": q.Search} {
			if val != "" {
				next.Set(k, val)
			}
		}
		next.Set("after", last.CreatedAt.UTC().Format(time.RFC3339Nano)+"_"+last.ID)
		v.Older = "/orders?" + next.Encode()
	}
	if f.AfterID != "" {
		v.Newest = "/orders"
	}
	web.Render(c, http.StatusOK, templates.Orders(v))
}

// orderShow is one order of the workspace: its lines and totals, the
// quote it came from, where it stands with the CRM, and its history.
func (con *Console) orderShow(c *gin.Context) {
	ctx := c.Request.Context()
	ws := sessionOf(c).User.WorkspaceID
	o, err := con.db.WorkspaceOrder(ctx, ws, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return
	}
	h, err := con.db.OrderAudit(ctx, ws, o.Number, quoteHistoryMax)
	if err != nil {
		con.fail(c, err)
		return
	}
	sync, err := con.db.OrderSync(ctx, &o.Order)
	if err != nil {
		con.fail(c, err)
		return
	}
	sess := sessionOf(c)
	v := templates.OrderView{ConsolePage: con.page(c), Row: *o, History: h, Sync: sync, Accounts: map[qwoty.Provider]string{},
		CanChange: sess.User.Role.CanManageIntegrations() || sess.User.Role == qwoty.RoleMember}
	for _, a := range con.crms.All() {
		in := a.Info()
		v.Accounts[in.Provider] = in.Account
		if in.Provider == o.Provider {
			v.CRMName = in.Name
		}
	}
	web.Render(c, http.StatusOK, templates.OrderConsole(v))
}

// orderStatus marks an open order fulfilled or cancelled (admins and
// members), as of the version the page showed, and goes back to the page.
func (con *Console) orderStatus(c *gin.Context) {
	ctx := c.Request.Context()
	sess := sessionOf(c)
	next, ok := qwoty.ParseOrderStatus(c.PostForm("status"))
	if !ok || next == qwoty.OrderOpen {
		con.fail(c, &qwoty.Error{Code: qwoty.CodeValidation, Field: "status", Message: "an order is marked fulfilled or cancelled",
			Hint: "Use the order page's buttons."})
		return
	}
	version, err := qwoty.ParseVersion(c.PostForm("version"))
	if err != nil {
		con.fail(c, err)
		return
	}
	o, err := con.db.WorkspaceOrder(ctx, sess.User.WorkspaceID, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return
	}
	if _, err := con.db.SetOrderStatus(ctx, sess.User.WorkspaceID, o.ConnectionID, o.ID, version, next, sess.User.Email); err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/orders/"+o.ID+"?done=order-"+string(next))
}
