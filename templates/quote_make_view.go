package templates

import "github.com/qwoty/companion/qwoty"

// QuoteFormView is the console's form of a quote made for a customer,
// without a CRM record (docs/deals.md): new, or a draft edited.
type QuoteFormView struct {
	ConsolePage
	// QuoteID, Number and Version name the draft edited ("" for a new
	// quote); Customer is its customer, fixed once the quote is made.
	QuoteID, Number string
	Version         int
	Customer        string
	// Ref is a new quote's form's own reference: the same form sent twice
	// makes one quote.
	Ref string
	// CRMs are the workspace's active connections; CRM is the one the
	// quote is for (its provider).
	CRMs []CRMChoice
	CRM  string
	// Search is the customer search; Customers the customers it found
	// (at most CustomersMax), CustomerID the one chosen.
	Search       string
	Customers    []qwoty.Customer
	CustomersMax int
	CustomerID   string
	// NewName, NewEmail and NewDomain make a new customer instead.
	NewName, NewEmail, NewDomain string
	Title, Currency, TaxRate     string
	// DiscountKind (none, percent, amount) and DiscountValue are the
	// quote-level discount as typed.
	DiscountKind, DiscountValue string
	Lines                       []LineForm
	// MaxLines is the most lines the form takes.
	MaxLines int
	// Catalogue are the CRM's products the SKU fields suggest.
	Catalogue []qwoty.CatalogItem
}

// Editing reports whether the form edits a draft.
func (v QuoteFormView) Editing() bool { return v.QuoteID != "" }

// CRMChoice is one CRM a console quote may be made for.
type CRMChoice struct {
	Provider qwoty.Provider
	Name     string
}

// LineForm is one line of the form, as typed.
type LineForm struct {
	SKU, Description, Quantity, UnitPrice, Discount string
	// ProductID and TaxRate are kept, not edited: the line's CRM product
	// and own tax rate, set through the API.
	ProductID, TaxRate string
}

// Blank reports whether the row's typed fields are all empty (a row
// cleared is left out, whatever it kept).
func (l LineForm) Blank() bool {
	return l.SKU == "" && l.Description == "" && l.Quantity == "" && l.UnitPrice == "" && l.Discount == ""
}

// QuoteSendView is the console's send form of a quote without a record.
type QuoteSendView struct {
	ConsolePage
	Quote   QuoteRowRef
	To      string
	Subject string
	Message string
	Max     int
}

// QuoteRowRef names the quote a console form is about.
type QuoteRowRef struct {
	ID, Number, Title string
	Version           int
}

// quoteFormTitle heads the form.
func quoteFormTitle(v QuoteFormView) string {
	if v.Editing() {
		return "Edit " + v.Number
	}
	return "New quote"
}

// quoteFormAction is where the form posts.
func quoteFormAction(v QuoteFormView) string {
	if v.Editing() {
		return "/quotes/" + v.QuoteID + "/edit"
	}
	return "/quotes/new"
}

// titlePlaceholder says what an empty title becomes.
func titlePlaceholder(v QuoteFormView) string {
	if v.Editing() {
		return ""
	}
	return "The customer's name"
}

// customerLabel is a customer in the form's list: the name, then its
// email or domain to tell namesakes apart.
func customerLabel(name, email, domain string) string {
	switch {
	case email != "":
		return name + " · " + email
	case domain != "":
		return name + " · " + domain
	}
	return name
}

// canSend reports whether the quote may be sent now: a draft, sent or
// viewed quote with lines.
func canSend(v QuoteView) bool {
	s := v.Row.Status
	return len(v.Row.Lines) > 0 && (s == qwoty.StatusDraft || s == qwoty.StatusSent || s == qwoty.StatusViewed)
}

// QuoteDeleteView asks before a draft without a record is deleted.
type QuoteDeleteView struct {
	ConsolePage
	Quote    QuoteRowRef
	Customer string
}
