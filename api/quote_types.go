package api

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Money is a decimal string ("1234.50"): amounts carry their currency's
// decimals, quantities, prices and percentages up to 4.
const decimalPattern = `^-?[0-9]+(\.[0-9]+)?$`

// Quote is a quote as the API shows it.
type Quote struct {
	ID          string     `json:"id" doc:"The quote's id."`
	Number      string     `json:"number" doc:"Its number in the workspace, like Q-00042."`
	Title       string     `json:"title"`
	Status      string     `json:"status" enum:"draft,sent,viewed,accepted,rejected,expired"`
	Version     int        `json:"version" doc:"Goes up by one with every change of its lines, terms or status."`
	Revision    int        `json:"revision" doc:"The revision the customer knows: a sent revision is frozen (GET …/versions); revising makes the next one a draft."`
	ValidUntil  string     `json:"validUntil,omitempty" format:"date" doc:"The last day the quote can be accepted (YYYY-MM-DD); set when it is sent, from the workspace's validity in days. It expires the day after (UTC)."`
	CRMRecordID string     `json:"crmRecordId" doc:"The CRM record (Opportunity, deal) the quote is made on; \"\" for a quote made for a customer until its deal is made (deal)."`
	CustomerID  string     `json:"customerId,omitempty" doc:"Its customer (the record's account), when known."`
	Currency    string     `json:"currency" doc:"ISO 4217 code."`
	TaxRate     string     `json:"taxRate" doc:"Percent: every line's (taxMode quote), or a line's without its own (taxMode line)."`
	TaxMode     string     `json:"taxMode" enum:"quote,line" doc:"quote: one rate for the quote; line: each line's taxRate, the quote's when it has none."`
	Discount    Discount   `json:"discount" doc:"The quote-level discount, taken after the lines' discounts."`
	Rounding    string     `json:"rounding" enum:"line-half-up,line-half-even,document-half-up,document-half-even" doc:"The rounding policy the quote is priced with (docs/money.md): its workspace's when it was made."`
	Totals      Totals     `json:"totals"`
	Primary     bool       `json:"primary" doc:"The record's primary quote: its total, status and lines are the CRM record's."`
	ExternalRef string     `json:"externalRef,omitempty" doc:"system:type:id, when set."`
	Sync        SyncState  `json:"sync"`
	Deal        *DealState `json:"deal" doc:"For a quote without a CRM record (crmRecordId \"\"): where the making of its deal stands; null for a quote on a record (docs/deals.md)."`
	CreatedBy   string     `json:"createdBy" doc:"The CRM user, or api-key:<name> for a quote made through the API."`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	Lines       []Line     `json:"lines,omitempty" doc:"Its lines, in order (a single quote's answer only; listings leave them out)."`
	Links       Links      `json:"links"`
}

// Discount is a quote-level discount.
type Discount struct {
	Kind  string `json:"kind" enum:"none,percent,amount" doc:"none, a percent of the subtotal after the lines' discounts, or an amount in the quote's currency."`
	Value string `json:"value" doc:"The percent (0 to 100) or the amount; \"0\" for none."`
}

// DiscountInput is a quote-level discount a client sets.
type DiscountInput struct {
	Kind  string `json:"kind" enum:"none,percent,amount"`
	Value string `json:"value,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"A percent from 0 to 100, or an amount of at most the currency's decimals and at most the subtotal after the lines' discounts. Default 0."`
}

// Totals are a quote's amounts, computed by Qwoty from its lines
// (docs/money.md).
type Totals struct {
	Subtotal      string `json:"subtotal" doc:"Sum of line amounts (quantity × unit price)."`
	Discount      string `json:"discount" doc:"Sum of line discounts."`
	QuoteDiscount string `json:"quoteDiscount" doc:"What the quote-level discount came to."`
	Tax           string `json:"tax" doc:"On subtotal − discount − quoteDiscount, at the quote's rate or each line's."`
	Total         string `json:"total" doc:"subtotal − discount − quoteDiscount + tax."`
}

// SyncState is where a quote stands with the CRM.
type SyncState struct {
	State string     `json:"state" enum:"none,pending,synced,failed" doc:"none: not bound for the CRM."`
	At    *time.Time `json:"at,omitempty" doc:"When the record was last pushed."`
	Code  string     `json:"code,omitempty" doc:"The error code of a failed push."`
	Error string     `json:"error,omitempty"`
}

// DealState is where the making of a quote's CRM deal stands, for a quote
// made without a record (docs/deals.md).
type DealState struct {
	_     struct{} `nullable:"true"`
	State string   `json:"state" enum:"waiting,making,failed" doc:"waiting: the quote has not reached the connection's deal status (or deals are never made); making: the deal is being made (on a lost answer or a CRM refusal it is tried again); failed: given up, error says why (an admin retries it in the console)."`
	Code  string   `json:"code,omitempty" doc:"The error code of a failed (or retried) attempt."`
	Error string   `json:"error,omitempty" doc:"What the last attempt met, in words."`
}

// dealStateOf is the deal state of quote q, which has no record, from its
// deal_creations row (nil: never queued). A done row means the quote has
// moved onto its deal meanwhile: the quote read before it did still says
// "making".
func dealStateOf(d *store.DealCreation) *DealState {
	switch {
	case d == nil:
		return &DealState{State: "waiting"}
	case d.State == store.DealFailed:
		return &DealState{State: "failed", Code: string(d.Code), Error: d.Error}
	}
	return &DealState{State: "making", Code: string(d.Code), Error: d.Error}
}

// withDeals fills the deal state of the quotes of out without a record
// (one query for them all).
func (a *API) withDeals(ctx context.Context, out []Quote) error {
	var ids []string
	for _, q := range out {
		if q.CRMRecordID == "" {
			ids = append(ids, q.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	states, err := a.db.DealStatesOf(ctx, KeyOf(ctx).WorkspaceID, ids)
	if err != nil {
		return err
	}
	for i := range out {
		if out[i].CRMRecordID == "" {
			out[i].Deal = dealStateOf(states[out[i].ID])
		}
	}
	return nil
}

// quoteOutput is the answer of an operation on quote q: the quote with
// its lines and, when it has no record, its deal's state.
func (a *API) quoteOutput(ctx context.Context, q *qwoty.Quote, location string) (*QuoteOutput, error) {
	out := []Quote{quoteOut(q, true)}
	if err := a.withDeals(ctx, out); err != nil {
		return nil, err
	}
	return &QuoteOutput{Location: location, Body: out[0]}, nil
}

// Links are a resource's related URLs.
type Links struct {
	Self     string `json:"self"`
	Customer string `json:"customer,omitempty"`
}

// Line is a line of a quote.
type Line struct {
	ID              string `json:"id"`
	Position        int    `json:"position"`
	ProductID       string `json:"productId,omitempty" doc:"The catalogue item the line was taken from."`
	SKU             string `json:"sku"`
	Description     string `json:"description"`
	Quantity        string `json:"quantity"`
	UnitPrice       string `json:"unitPrice"`
	DiscountPercent string `json:"discountPercent"`
	Amount          string `json:"amount" doc:"quantity × unitPrice, rounded to the currency."`
	Discount        string `json:"discount"`
	Net             string `json:"net" doc:"amount − discount."`
	TaxRate         string `json:"taxRate,omitempty" doc:"The line's own tax rate, percent (taxMode line); left out: the quote's."`
	Tax             string `json:"tax" doc:"The tax the line came to (its share of the quote's tax when taxMode is quote)."`
}

// LineInput is a line a client sends.
type LineInput struct {
	ProductID       string `json:"productId,omitempty" maxLength:"64" doc:"A catalogue item's id; the line is pushed linked to that CRM product."`
	SKU             string `json:"sku,omitempty" maxLength:"64" doc:"A line needs a SKU or a description."`
	Description     string `json:"description,omitempty" maxLength:"1000"`
	Quantity        string `json:"quantity,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"Default 1; above 0, at most 4 decimals."`
	UnitPrice       string `json:"unitPrice,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"Default 0; at most 4 decimals."`
	DiscountPercent string `json:"discountPercent,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"0 to 100, default 0."`
	TaxRate         string `json:"taxRate,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"The line's own tax rate, 0 to 100, used when the quote's taxMode is line; left out: the quote's."`
}

// parseLines reads lines through the domain's own check of a line.
func parseLines(in []LineInput) ([]qwoty.LineItem, error) {
	out := make([]qwoty.LineItem, 0, len(in))
	for _, l := range in {
		li, err := qwoty.ParseLine(qwoty.LineInput{SKU: l.SKU, Description: l.Description, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, ProductID: l.ProductID, TaxRate: l.TaxRate})
		if err != nil {
			return nil, err
		}
		out = append(out, li)
	}
	return out, nil
}

// parseDiscount reads a quote-level discount a client sets (nil: not
// given).
func parseDiscount(in *DiscountInput) (*qwoty.QuoteDiscount, error) {
	if in == nil {
		return nil, nil
	}
	d, err := qwoty.ParseDiscount(in.Kind, in.Value)
	return &d, err
}

// figure renders a quantity, price or percentage: at least the currency's
// decimals, and every decimal it has.
func figure(d decimal.Decimal, currency string) string {
	s := d.String() // no trailing zeros
	places := 0
	if _, frac, ok := strings.Cut(s, "."); ok {
		places = len(frac)
	}
	if exp := qwoty.CurrencyExponent(currency); int32(places) < exp {
		return d.StringFixed(exp)
	}
	return s
}

func quoteOut(q *qwoty.Quote, withLines bool) Quote {
	cur := q.Currency
	out := Quote{ID: q.ID, Number: q.Number, Title: q.Title, Status: string(q.Status), Version: q.Version,
		CRMRecordID: q.CRMRecordID, CustomerID: q.CustomerID, Currency: cur, TaxRate: q.TaxRate.String(),
		TaxMode: string(cmp.Or(q.TaxMode, qwoty.TaxPerQuote)), Rounding: string(cmp.Or(q.Rounding, qwoty.RoundLineHalfUp)),
		Discount: Discount{Kind: string(cmp.Or(q.Discount.Kind, qwoty.DiscountNone)), Value: q.Discount.Value.String()},
		Totals: Totals{Subtotal: qwoty.FormatAmount(q.Totals.Subtotal, cur), Discount: qwoty.FormatAmount(q.Totals.Discount, cur),
			QuoteDiscount: qwoty.FormatAmount(q.Totals.QuoteDiscount, cur),
			Tax:           qwoty.FormatAmount(q.Totals.Tax, cur), Total: qwoty.FormatAmount(q.Totals.Total, cur)},
		Revision: q.Revision,
		Primary:  q.Primary, ExternalRef: q.ExternalRef, CreatedBy: q.CreatedBy,
		CreatedAt: q.CreatedAt.UTC(), UpdatedAt: q.UpdatedAt.UTC(),
		Sync:  SyncState{State: string(q.Sync.State), Code: string(q.Sync.Code), Error: q.Sync.Error},
		Links: Links{Self: Base + "/quotes/" + q.ID},
	}
	if q.ValidUntil != nil {
		out.ValidUntil = q.ValidUntil.UTC().Format(time.DateOnly)
	}
	if out.Sync.State == "" {
		out.Sync.State = "none"
	}
	if !q.Sync.At.IsZero() && q.Sync.At.Unix() > 0 {
		at := q.Sync.At.UTC()
		out.Sync.At = &at
	}
	if q.CustomerID != "" {
		out.Links.Customer = Base + "/customers/" + q.CustomerID
	}
	if withLines {
		out.Lines = make([]Line, len(q.Lines))
		for i, l := range q.Lines {
			out.Lines[i] = Line{ID: l.ID, Position: l.Position, ProductID: l.ProductID, SKU: l.SKU, Description: l.Description,
				Quantity: l.Quantity.String(), UnitPrice: figure(l.UnitPrice, cur), DiscountPercent: l.DiscountPercent.String(),
				Amount: qwoty.FormatAmount(l.Amount, cur), Discount: qwoty.FormatAmount(l.Discount, cur), Net: qwoty.FormatAmount(l.Net, cur),
				Tax: qwoty.FormatAmount(l.Tax, cur)}
			if l.TaxRate.Valid {
				out.Lines[i].TaxRate = l.TaxRate.Decimal.String()
			}
		}
	}
	return out
}

// QuoteOutput is the answer of an operation on one quote.
type QuoteOutput struct {
	Location string `header:"Location"`
	Body     Quote
}

// scope is the scope every read and write of the request is limited
// to: its key's workspace and CRM account.
func scope(ctx context.Context) store.Scope { return KeyOf(ctx).Scope() }

// actor is who the audit log and a new quote name for a key's writes.
func actor(k *store.APIKey) string { return "api-key:" + k.Name }
