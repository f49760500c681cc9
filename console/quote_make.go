package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// Quotes made in the console for a customer, outside any CRM record
// (docs/deals.md, "From the console"): admins and members make one for an
// existing customer or a new one, edit the draft, send it by email and
// revise it; viewers read. Qwoty makes the quote's deal in the CRM when it
// reaches the connection's deal status; from then on the quote is on that
// deal and is changed in its card, so these pages refuse it
// (quote_on_record).

const (
	// formLinesMax is the most lines the console's form takes (the API
	// takes a quote's whole qwoty.MaxLines).
	formLinesMax = 200
	// formBlankRows are the empty rows a form shows, and "More lines" adds.
	formBlankRows = 5
	// formCustomersMax bounds the customers the form lists.
	formCustomersMax = 200
	// formCatalogueMax bounds the SKUs the form suggests (any SKU of the
	// catalogue is taken when typed).
	formCatalogueMax = 500
)

// consoleActor is who a console user is on a quote's history.
func consoleActor(u *qwoty.User) string { return "console:" + u.Email }

// activeCRMs are the workspace's active connections whose CRM this server
// serves, in the workspace's order (the newest first).
func (con *Console) activeCRMs(c *gin.Context) ([]templates.CRMChoice, map[qwoty.Provider]*qwoty.Connection, error) {
	conns, err := con.db.WorkspaceConnections(c.Request.Context(), sessionOf(c).User.WorkspaceID)
	if err != nil {
		return nil, nil, err
	}
	var out []templates.CRMChoice
	by := map[qwoty.Provider]*qwoty.Connection{}
	for _, cn := range conns {
		a, ok := con.crms.Lookup(string(cn.Provider))
		if !ok || cn.Status == qwoty.ConnectionDisconnected || by[cn.Provider] != nil {
			continue
		}
		by[cn.Provider] = cn
		out = append(out, templates.CRMChoice{Provider: cn.Provider, Name: a.Info().Name})
	}
	return out, by, nil
}

// newQuoteForm is the form of a new quote for the CRM the query or form
// names (the first active one by default), its customers found by search.
func (con *Console) newQuoteForm(c *gin.Context, provider, search string) (templates.QuoteFormView, store.Scope, error) {
	v := templates.QuoteFormView{ConsolePage: con.page(c), CustomersMax: formCustomersMax, MaxLines: formLinesMax}
	crms, by, err := con.activeCRMs(c)
	if err != nil {
		return v, store.Scope{}, err
	}
	if len(crms) == 0 {
		return v, store.Scope{}, qwoty.Errorf(qwoty.CodeNotFound, "Connect a CRM under Settings → Integrations first: a quote's deal is made in it.",
			"this workspace has no connected CRM to make a quote for")
	}
	if provider == "" {
		provider = string(crms[0].Provider)
	}
	conn := by[qwoty.Provider(provider)]
	if conn == nil {
		return v, store.Scope{}, &qwoty.Error{Code: qwoty.CodeValidation, Field: "crm", Message: "The CRM " + strconv.Quote(cut(provider, 40)) + " is not connected to this workspace.",
			Hint: "Choose one of the connected CRMs in the list."}
	}
	if len(search) > 255 {
		return v, store.Scope{}, badFilter("customer_q", "Search with a shorter text: part of a name, an email or a domain.", "customer_q is at most 255 characters")
	}
	s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID}
	if v.Customers, err = con.db.ConsoleCustomers(c.Request.Context(), s, search, formCustomersMax); err != nil {
		return v, s, err
	}
	if v.Catalogue, err = con.db.CatalogSKUs(c.Request.Context(), s, formCatalogueMax); err != nil {
		return v, s, err
	}
	v.CRMs, v.CRM, v.Search = crms, provider, search
	return v, s, nil
}

// quoteNewShow is the form of a new quote for a customer.
func (con *Console) quoteNewShow(c *gin.Context) {
	v, _, err := con.newQuoteForm(c, strings.TrimSpace(c.Query("crm")), strings.TrimSpace(c.Query("customer_q")))
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Ref = newFormRef()
	v.Currency = qwoty.CurrencyFrom("")
	v.TaxRate = "0"
	v.Lines = make([]templates.LineForm, formBlankRows)
	web.Render(c, http.StatusOK, templates.QuoteForm(v))
}

// newFormRef is a new form's reference: the quote it makes carries it
// (qwoty-console:quote:<ref>) and so does a new customer it makes, so the
// same form sent twice makes each once.
func newFormRef() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24)
	return hex.EncodeToString(b)
}

// formRefOK reports whether ref is one newFormRef made (the form's own
// field, sent back).
func formRefOK(ref string) bool {
	if len(ref) != 32 {
		return false
	}
	_, err := hex.DecodeString(ref)
	return err == nil && strings.ToLower(ref) == ref
}

// quoteForm is what the quote form's terms and lines say, as typed.
type quoteForm struct {
	Title, Currency, TaxRate    string
	DiscountKind, DiscountValue string
	Lines                       []templates.LineForm
}

// readQuoteForm reads the form's terms and its line rows (parallel
// fields, one value per row).
func readQuoteForm(c *gin.Context) (quoteForm, error) {
	f := c.Request.PostForm
	q := quoteForm{Title: strings.TrimSpace(f.Get("title")), Currency: strings.ToUpper(strings.TrimSpace(f.Get("currency"))),
		TaxRate: strings.TrimSpace(f.Get("tax_rate")), DiscountKind: strings.TrimSpace(f.Get("discount_kind")),
		DiscountValue: strings.TrimSpace(f.Get("discount_value"))}
	sku, desc, qty, price, disc := f["sku"], f["description"], f["quantity"], f["unit_price"], f["discount"]
	n := max(len(sku), len(desc), len(qty), len(price), len(disc))
	if n > formLinesMax {
		return q, &qwoty.Error{Code: qwoty.CodeValidation, Field: "sku", Message: "The form has " + strconv.Itoa(n) + " line rows; it takes " + strconv.Itoa(formLinesMax) + " at most.",
			Hint: "Make a larger quote through the API (PUT /api/v1/quotes/{id}/lines takes 2,000 lines)."}
	}
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	for i := range n {
		q.Lines = append(q.Lines, templates.LineForm{SKU: at(sku, i), Description: at(desc, i), Quantity: at(qty, i), UnitPrice: at(price, i),
			Discount: at(disc, i), ProductID: at(f["product_id"], i), TaxRate: at(f["line_tax"], i)})
	}
	return q, nil
}

// parsedForm is the form read as the domain takes it.
type parsedForm struct {
	currency string
	lines    []qwoty.LineItem
	tax      decimal.Decimal
	discount qwoty.QuoteDiscount
}

// parse reads the form of scope s: its currency, then its lines (those
// naming a catalogue product by its SKU completed from it), tax rate and
// discount. The title, and the discount against the lines, are the
// domain's to check when the quote is made or changed.
func (con *Console) parse(ctx context.Context, s store.Scope, form quoteForm) (parsedForm, error) {
	var p parsedForm
	var err error
	if p.currency, err = qwoty.ParseCurrency(form.Currency); err != nil {
		return p, err
	}
	form.Currency = p.currency
	if err := con.fromCatalogue(ctx, s, &form); err != nil {
		return p, err
	}
	if p.lines, err = form.lines(); err != nil {
		return p, err
	}
	if p.tax, err = qwoty.ParsePercent("tax_rate", form.TaxRate); err != nil {
		return p, err
	}
	p.discount, err = qwoty.ParseDiscount(form.DiscountKind, form.DiscountValue)
	return p, err
}

// fromCatalogue completes the rows that name a product of the CRM's
// catalogue by its SKU (any case): the line is linked to the product, and
// a description or unit price left empty is the product's name or its
// price in the quote's currency; one without such a price must have its
// price typed. A SKU no product (or several) has stays a free line's.
func (con *Console) fromCatalogue(ctx context.Context, s store.Scope, form *quoteForm) error {
	var skus []string
	for _, r := range form.Lines {
		if r.SKU != "" && !r.Blank() {
			skus = append(skus, r.SKU)
		}
	}
	if len(skus) == 0 {
		return nil
	}
	picks, err := con.db.CatalogBySKU(ctx, s, form.Currency, skus)
	if err != nil {
		return err
	}
	form.Lines = slices.Clone(form.Lines) // the rows shown again stay as typed
	for i := range form.Lines {
		r := &form.Lines[i]
		p, ok := picks[strings.ToLower(r.SKU)]
		if !ok || r.Blank() {
			continue
		}
		r.ProductID = p.ProductID
		if r.Description == "" {
			r.Description = p.Name
		}
		if r.UnitPrice == "" {
			if !p.Priced {
				return &qwoty.Error{Code: qwoty.CodeValidation, Field: "unit_price",
					Message: "Line " + strconv.Itoa(i+1) + ": " + strconv.Quote(cut(r.SKU, 40)) + " has no " + form.Currency + " price in the catalogue.",
					Hint:    "Type the line's unit price, or quote in a currency the product has a price in."}
			}
			r.UnitPrice = p.UnitPrice.String()
		}
	}
	return nil
}

// lines are the form's rows as the domain's lines: an empty row is left
// out; an error names the row ("Line 3: …").
func (q quoteForm) lines() ([]qwoty.LineItem, error) {
	var out []qwoty.LineItem
	for i, r := range q.Lines {
		if r.Blank() {
			continue
		}
		l, err := qwoty.ParseLine(qwoty.LineInput{SKU: r.SKU, Description: r.Description, Quantity: r.Quantity, UnitPrice: r.UnitPrice,
			DiscountPercent: r.Discount, ProductID: r.ProductID, TaxRate: r.TaxRate})
		if err != nil {
			e := *qwoty.AsError(err)
			e.Message = "Line " + strconv.Itoa(i+1) + ": " + e.Message
			return nil, &e
		}
		out = append(out, l)
	}
	return out, nil
}

// withRows puts the form's terms and rows into v, with empty rows to
// type in (more of them when asked), never past formLinesMax.
func (q quoteForm) withRows(v *templates.QuoteFormView, more bool) {
	v.Title, v.Currency, v.TaxRate, v.DiscountKind, v.DiscountValue = q.Title, q.Currency, q.TaxRate, q.DiscountKind, q.DiscountValue
	v.Lines = q.Lines
	for len(v.Lines) > 0 && v.Lines[len(v.Lines)-1].Blank() {
		v.Lines = v.Lines[:len(v.Lines)-1]
	}
	blank := formBlankRows
	if more {
		blank = len(q.Lines) - len(v.Lines) + formBlankRows
	}
	for i := 0; i < blank && len(v.Lines) < formLinesMax; i++ {
		v.Lines = append(v.Lines, templates.LineForm{})
	}
}

// formRefusal reports whether err refuses what the form says (a 4xx
// other than not found or forbidden): the form is shown again as typed,
// with err in p, under the status it returns.
func formRefusal(err error, p *templates.ConsolePage) (int, bool) {
	e := qwoty.AsError(err)
	if e == nil {
		return 0, false
	}
	status := qwoty.HTTPStatus(e.Code)
	if status < 400 || status >= 500 || status == http.StatusNotFound || status == http.StatusForbidden || status == http.StatusUnauthorized {
		return 0, false
	}
	p.Error = formError(e)
	return status, true
}

// quoteCreate makes the quote: the customer chosen (or made, keyed by
// the form's reference), then the quote with its lines, once per form.
// "More lines" shows the form again with more rows, nothing made.
func (con *Console) quoteCreate(c *gin.Context) {
	user := sessionOf(c).User
	v, s, err := con.newQuoteForm(c, strings.TrimSpace(c.PostForm("crm")), strings.TrimSpace(c.PostForm("customer_q")))
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Ref, v.CustomerID = c.PostForm("ref"), strings.TrimSpace(c.PostForm("customer_id"))
	v.NewName, v.NewEmail, v.NewDomain = strings.TrimSpace(c.PostForm("new_name")), strings.TrimSpace(c.PostForm("new_email")), strings.TrimSpace(c.PostForm("new_domain"))
	form, err := readQuoteForm(c)
	if err == nil && !formRefOK(v.Ref) {
		err = &qwoty.Error{Code: qwoty.CodeValidation, Field: "ref", Message: "This form has lost its reference.", Hint: "Open New quote again and fill the form there."}
	}
	con.submitQuoteForm(c, &v, form, err, "quote-made", func() (string, error) {
		q, err := con.makeQuote(c, s, v, form, consoleActor(user))
		if err != nil {
			return "", err
		}
		return q.ID, nil
	})
}

// submitQuoteForm ends a post of the quote form read into form (err: why
// it could not be read): "More lines" shows it again with more rows;
// otherwise save saves it and the quote's page follows, with done's
// notice. A refusal shows the form again as typed.
func (con *Console) submitQuoteForm(c *gin.Context, v *templates.QuoteFormView, form quoteForm, err error, done string, save func() (string, error)) {
	more := c.PostForm("more") != ""
	form.withRows(v, more)
	if err == nil && more {
		web.Render(c, http.StatusOK, templates.QuoteForm(*v))
		return
	}
	id := ""
	if err == nil {
		id, err = save()
	}
	if status, ok := formRefusal(err, &v.ConsolePage); ok {
		web.Render(c, status, templates.QuoteForm(*v))
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/quotes/"+id+"?done="+done)
}

// makeQuote checks the form whole, then makes its customer (when new)
// and its quote.
func (con *Console) makeQuote(c *gin.Context, s store.Scope, v templates.QuoteFormView, form quoteForm, by string) (*qwoty.Quote, error) {
	ctx := c.Request.Context()
	p, err := con.parse(ctx, s, form)
	if err != nil {
		return nil, err
	}
	var customer *qwoty.Customer
	switch {
	case v.NewName != "" && v.CustomerID != "":
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "new_name", Message: "The form names a customer twice: one from the list and a new one.",
			Hint: "Keep one: set the list back to Choose…, or clear the new customer's name."}
	case v.NewName != "":
		in := store.CustomerInput{}
		name, err := qwoty.ParseField("new_name", v.NewName, 200)
		if err != nil {
			return nil, err
		}
		email := ""
		if v.NewEmail != "" {
			if email, err = qwoty.ParseEmail(v.NewEmail); err != nil {
				return nil, fieldAs(err, "new_email")
			}
		}
		domain, err := qwoty.ParseDomain(v.NewDomain)
		if err != nil {
			return nil, fieldAs(err, "new_domain")
		}
		ref := "qwoty-console:customer:" + v.Ref
		in.Name, in.Email, in.Domain, in.ExternalRef = &name, &email, &domain, &ref
		if customer, _, err = con.db.UpsertAPICustomer(ctx, s, in); err != nil {
			return nil, err
		}
	case v.CustomerID != "":
		customer, err = con.db.APICustomer(ctx, s, v.CustomerID)
		if qwoty.ErrorCode(err) == qwoty.CodeNotFound {
			return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "customer_id", Message: "That customer is not one of this CRM account's.",
				Hint: "Choose a customer in the list, or name a new one."}
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "customer_id", Message: "The quote needs a customer.",
			Hint: "Choose a customer in the list, or name a new one."}
	}
	title := form.Title
	if title == "" {
		title = qwoty.TitleFrom(customer.Name)
	}
	q, _, err := con.db.CreateQuoteOnce(ctx, s, store.NewQuote{CustomerID: customer.ID, AccountID: customer.CRMAccountID, Title: title,
		Currency: p.currency, TaxRate: p.tax, Discount: &p.discount, CreatedBy: by, Lines: p.lines, ExternalRef: "qwoty-console:quote:" + v.Ref})
	return q, err
}

// fieldAs is err naming the form's field instead of the API's.
func fieldAs(err error, field string) error {
	if e := qwoty.AsError(err); e != nil {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// consoleQuote is quote :id of the workspace, for a page that changes it:
// one on a CRM record is refused (its card changes it).
func (con *Console) consoleQuote(c *gin.Context) (*store.QuoteRow, store.Scope, error) {
	ws := sessionOf(c).User.WorkspaceID
	q, err := con.db.WorkspaceQuote(c.Request.Context(), ws, c.Param("id"))
	if err != nil {
		return nil, store.Scope{}, err
	}
	if q.CRMRecordID != "" {
		return nil, store.Scope{}, qwoty.E(qwoty.CodeQuoteOnRecord, "%s is on a CRM deal: it is edited and sent from the card on that deal.", q.Number)
	}
	return q, store.Scope{WorkspaceID: ws, ConnectionID: q.ConnectionID}, nil
}

// onRecordSince is err, or quote_on_record when the quote was not found
// because its deal was made while the form was open (the change is
// scoped to the quotes without a record).
func (con *Console) onRecordSince(c *gin.Context, err error) error {
	if qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		return err
	}
	if _, _, again := con.consoleQuote(c); again != nil {
		return again
	}
	return err
}

// editForm is the edit form of draft q, of scope s.
func (con *Console) editForm(c *gin.Context, s store.Scope, q *store.QuoteRow) (templates.QuoteFormView, error) {
	v := templates.QuoteFormView{ConsolePage: con.page(c), QuoteID: q.ID, Number: q.Number, Version: q.Version, Customer: q.CustomerName,
		MaxLines: formLinesMax}
	var err error
	v.Catalogue, err = con.db.CatalogSKUs(c.Request.Context(), s, formCatalogueMax)
	return v, err
}

// quoteEditShow is the form of a draft without a record.
func (con *Console) quoteEditShow(c *gin.Context) {
	q, s, err := con.consoleQuote(c)
	if err == nil {
		err = q.CheckEditable()
	}
	var v templates.QuoteFormView
	if err == nil {
		v, err = con.editForm(c, s, q)
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	form := quoteForm{Title: q.Title, Currency: q.Currency, TaxRate: q.TaxRate.String(), DiscountKind: string(q.Discount.Kind)}
	switch q.Discount.Kind {
	case qwoty.DiscountPercent:
		form.DiscountValue = q.Discount.Value.String()
	case qwoty.DiscountAmount:
		form.DiscountValue = qwoty.InputAmount(q.Discount.Value, q.Currency)
	}
	for _, l := range q.Lines {
		form.Lines = append(form.Lines, templates.LineForm{SKU: l.SKU, Description: l.Description, Quantity: l.Quantity.String(),
			UnitPrice: l.UnitPrice.String(), Discount: l.DiscountPercent.String(), ProductID: l.ProductID, TaxRate: lineTax(l)})
	}
	form.withRows(&v, false)
	web.Render(c, http.StatusOK, templates.QuoteForm(v))
}

// lineTax is a line's own tax rate as the form keeps it ("" for none).
func lineTax(l qwoty.LineItem) string {
	if l.TaxRate.Valid {
		return l.TaxRate.Decimal.String()
	}
	return ""
}

// quoteEditSave saves the draft: its terms, then its lines replaced
// whole, as of the version the form was shown at (another is 409
// version_conflict, the form shown again as typed).
func (con *Console) quoteEditSave(c *gin.Context) {
	q, s, err := con.consoleQuote(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v, err := con.editForm(c, s, q)
	if err != nil {
		con.fail(c, err)
		return
	}
	form, err := readQuoteForm(c)
	con.submitQuoteForm(c, &v, form, err, "quote-saved", func() (string, error) {
		return q.ID, con.saveDraft(c, s, q.ID, form)
	})
}

// saveDraft checks the form and changes the draft through the domain
// (SetTerms, then AddLine for each line: the card's and the API's rules).
func (con *Console) saveDraft(c *gin.Context, s store.Scope, id string, form quoteForm) error {
	version, err := qwoty.ParseVersion(c.PostForm("version"))
	if err != nil {
		return err
	}
	p, err := con.parse(c.Request.Context(), s, form)
	if err != nil {
		return err
	}
	_, err = con.db.UpdateQuote(c.Request.Context(), s, id, version, consoleActor(sessionOf(c).User), func(q *qwoty.Quote) error {
		// The lines first: the discount is checked against them.
		if err := q.ReplaceLines(p.lines); err != nil {
			return err
		}
		return q.SetTerms(qwoty.Terms{Title: form.Title, Currency: p.currency, TaxRate: p.tax, Discount: &p.discount})
	})
	return con.onRecordSince(c, err)
}

// sendForm is the send form of quote q, for its customer.
func (con *Console) sendForm(c *gin.Context, q *store.QuoteRow) templates.QuoteSendView {
	return templates.QuoteSendView{ConsolePage: con.page(c), Max: qwoty.MaxRecipients,
		Quote: templates.QuoteRowRef{ID: q.ID, Number: q.Number, Title: q.Title, Version: q.Version}}
}

// quoteSendShow is the send form: the customer's email, the workspace's
// subject and a default message, all to change.
func (con *Console) quoteSendShow(c *gin.Context) {
	ctx := c.Request.Context()
	user := sessionOf(c).User
	q, s, err := con.consoleQuote(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := con.sendForm(c, q)
	if q.CustomerID != "" {
		cu, err := con.db.APICustomer(ctx, s, q.CustomerID)
		if err != nil {
			con.fail(c, err)
			return
		}
		v.To = cu.Email
	}
	ws, err := con.db.WorkspaceName(ctx, user.WorkspaceID)
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Subject, v.Message = notify.QuoteSubject(ws, q.Number, q.Title), qwoty.DefaultSendMessage(q.Number, user.Name)
	web.Render(c, http.StatusOK, templates.QuoteSend(v))
}

// quoteSend sends the quote (store.SendQuote: the quote sent, its link,
// the send recorded and its email queued, in one transaction); a draft
// becomes sent, which may make its deal.
func (con *Console) quoteSend(c *gin.Context) {
	user := sessionOf(c).User
	q, s, err := con.consoleQuote(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := con.sendForm(c, q)
	v.To, v.Subject, v.Message = c.PostForm("to"), c.PostForm("subject"), c.PostForm("message")
	checked, err := qwoty.CheckSend(qwoty.SendForm{Typed: v.To, Subject: v.Subject, Message: v.Message})
	var version int
	if err == nil {
		version, err = qwoty.ParseVersion(c.PostForm("version"))
	}
	if err == nil {
		sender := cmp.Or(user.Name, user.Email)
		in := store.SendInput{SentBy: sender, Recipients: checked.Recipients, Subject: checked.Subject, Message: checked.Message}
		_, _, err = con.db.SendQuote(c.Request.Context(), s, q.ID, version, consoleActor(user), in, con.now())
		err = con.onRecordSince(c, err)
	}
	if status, ok := formRefusal(err, &v.ConsolePage); ok {
		web.Render(c, status, templates.QuoteSend(v))
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/quotes/"+q.ID+"?done=quote-sent")
}

// quoteRevise makes the next revision of a sent, viewed, rejected or
// expired quote a draft (qwoty.Quote.Revise), then opens its form.
func (con *Console) quoteRevise(c *gin.Context) {
	q, s, err := con.consoleQuote(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	version, err := qwoty.ParseVersion(c.PostForm("version"))
	if err == nil {
		_, err = con.db.UpdateQuote(c.Request.Context(), s, q.ID, version, consoleActor(sessionOf(c).User), func(q *qwoty.Quote) error { return q.Revise() })
		err = con.onRecordSince(c, err)
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/quotes/"+q.ID+"/edit")
}

// quoteDeleteConfirm asks before deleting a draft without a record.
func (con *Console) quoteDeleteConfirm(c *gin.Context) {
	q, _, err := con.consoleQuote(c)
	if err == nil {
		err = q.CheckEditable()
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.QuoteDelete(templates.QuoteDeleteView{ConsolePage: con.page(c),
		Quote: templates.QuoteRowRef{ID: q.ID, Number: q.Number, Title: q.Title, Version: q.Version}, Customer: q.CustomerName}))
}

// quoteDelete deletes a draft without a record (store.DeleteQuote: its
// deal, not started, goes with it). A quote sent is kept: its customer
// has its link.
func (con *Console) quoteDelete(c *gin.Context) {
	q, s, err := con.consoleQuote(c)
	if err == nil {
		err = q.CheckEditable()
	}
	var version int
	if err == nil {
		version, err = qwoty.ParseVersion(c.PostForm("version"))
	}
	if err == nil {
		err = con.onRecordSince(c, con.db.DeleteQuote(c.Request.Context(), s, q.ID, version, consoleActor(sessionOf(c).User)))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/quotes?done=quote-deleted")
}
