package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The workspace's quote defaults: how long a sent quote is valid, the
// rounding policy new quotes are priced with, and the terms they start
// with. Every user reads them (a rep should know how long a quote stays
// valid); only admins change them.

// quoteDefaultsShow is the page: the form for an admin, the values read
// only for members and viewers.
func (con *Console) quoteDefaultsShow(c *gin.Context) {
	d, err := con.db.QuoteDefaults(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		con.fail(c, err)
		return
	}
	p := con.page(c)
	if c.Query("done") == "quote-defaults" {
		p.Notice = "The quote defaults are saved: quotes created or sent from now on take them."
	}
	web.Render(c, http.StatusOK, templates.QuoteDefaults(quoteDefaultsView(p, d)))
}

func quoteDefaultsView(p templates.ConsolePage, d store.QuoteDefaults) templates.QuoteDefaultsView {
	return templates.QuoteDefaultsView{ConsolePage: p, ValidDays: strconv.Itoa(d.ValidDays), Rounding: string(d.Rounding), Terms: d.Terms}
}

// quoteDefaultsSave checks the form whole (qwoty.CheckQuoteDefaults, after
// the days are read as a number), then saves it, audited. A refusal shows
// the form again as typed, the field named.
func (con *Console) quoteDefaultsSave(c *gin.Context) {
	ws := sessionOf(c).User.WorkspaceID
	d, err := readQuoteDefaults(c)
	if err == nil {
		err = con.db.SetQuoteDefaults(c.Request.Context(), ws, sessionOf(c).User.Email, d)
	}
	if e := qwoty.AsError(err); err != nil && e.Code == qwoty.CodeValidation {
		p := con.page(c)
		p.Error = formError(e)
		v := templates.QuoteDefaultsView{ConsolePage: p, ValidDays: c.PostForm("valid_days"), Rounding: c.PostForm("rounding"), Terms: c.PostForm("terms")}
		web.Render(c, qwoty.HTTPStatus(e.Code), templates.QuoteDefaults(v))
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, quoteDefaultsPath+"?done=quote-defaults")
}

// quoteDefaultsPath is the page's path.
const quoteDefaultsPath = "/settings/quotes"

// readQuoteDefaults reads the form; the days must be a whole number (the
// bounds are the domain's to check).
func readQuoteDefaults(c *gin.Context) (store.QuoteDefaults, error) {
	days, err := strconv.Atoi(strings.TrimSpace(c.PostForm("valid_days")))
	if err != nil {
		days = 0 // refused below, with the bounds in the message
	}
	// The textarea's line breaks come as CRLF: kept as LF.
	terms := strings.ReplaceAll(c.PostForm("terms"), "\r\n", "\n")
	d := store.QuoteDefaults{ValidDays: days, Rounding: qwoty.Rounding(c.PostForm("rounding")), Terms: terms}
	return d, qwoty.CheckQuoteDefaults(d.ValidDays, d.Rounding, d.Terms)
}
