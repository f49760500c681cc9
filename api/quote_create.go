package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// IdempotencyHeader is every write's Idempotency-Key (see idempotency.go).
type IdempotencyHeader struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the write safe to retry: the same key and body within 24 hours get the first answer again (Idempotent-Replayed: true); the same key with another body is 422 idempotency_key_reused."`
}

type quoteCreateInput struct {
	IdempotencyHeader
	Body struct {
		CRMRecordID string         `json:"crmRecordId,omitempty" maxLength:"64" doc:"The CRM record (Opportunity, deal) to make the quote on. Left out: the quote is made for customerId, without a record, and Qwoty makes its deal in the CRM when the quote reaches the status the admin chose (docs/deals.md)."`
		Title       *string        `json:"title,omitempty" maxLength:"200" doc:"Default: the record's name, when Qwoty has pulled the record."`
		Currency    string         `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217. Default: the record's currency, else the organization's default currency."`
		TaxRate     string         `json:"taxRate,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"Percent, 0 to 100, default 0."`
		TaxMode     string         `json:"taxMode,omitempty" enum:"quote,line" doc:"Default quote: one rate; line: each line's taxRate, the quote's when it has none."`
		Discount    *DiscountInput `json:"discount,omitempty" doc:"A quote-level discount; default none."`
		CustomerID  string         `json:"customerId,omitempty" maxLength:"36" doc:"Default: the record's account, when Qwoty knows it. Required without crmRecordId (422 record_or_customer): the customer the quote, and later its deal, is for."`
		ExternalRef string         `json:"externalRef,omitempty" maxLength:"255" doc:"system:type:id."`
		Lines       []LineInput    `json:"lines,omitempty" maxItems:"2000" doc:"The quote's lines; none makes an empty draft."`
	}
}

func (a *API) quoteCreate() {
	huma.Register(a.h, huma.Operation{OperationID: "createQuote", Method: http.MethodPost, Path: "/quotes", Tags: []string{"Quotes"},
		Summary: "Create a quote", DefaultStatus: http.StatusCreated, MaxBodyBytes: MaxBodyBytes,
		Description: "A draft quote on a CRM record, with its lines in the same call, or empty and prefilled from the record. " +
			"Without crmRecordId, a quote for customerId without a record (neither: 422 record_or_customer): its deal is made " +
			"in the CRM when it reaches the connection's deal status (docs/deals.md). Makes a quote.created event.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.createQuote)
}

func (a *API) createQuote(ctx context.Context, in *quoteCreateInput) (*QuoteOutput, error) {
	k := KeyOf(ctx)
	s := scope(ctx)
	b := in.Body
	var err error
	if s.RecordID, err = qwoty.ParseField("crmRecordId", b.CRMRecordID, 64); err != nil {
		return nil, err
	}
	if s.RecordID == "" && b.CustomerID == "" {
		return nil, qwoty.E(qwoty.CodeRecordOrCustomer, "A quote needs a CRM record (crmRecordId) or a customer (customerId).")
	}
	ref, err := qwoty.ParseExternalRef(b.ExternalRef)
	if err != nil {
		return nil, err
	}
	lines, err := parseLines(b.Lines)
	if err != nil {
		return nil, err
	}
	tax, err := qwoty.ParsePercent("tax_rate", b.TaxRate)
	if err != nil {
		return nil, err
	}
	discount, err := parseDiscount(b.Discount)
	if err != nil {
		return nil, err
	}
	var n store.NewQuote
	if s.RecordID == "" {
		// A quote for a customer, without a record: the customer is
		// the key's connection's, and names the quote by default.
		c, err := a.db.APICustomer(ctx, s, b.CustomerID)
		if qwoty.ErrorCode(err) == qwoty.CodeNotFound {
			return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "customerId", Message: qwoty.AsError(err).Message,
				Hint: "Give the id of a customer of this CRM account (GET /api/v1/customers); make it first with PUT /api/v1/customers.", Err: err}
		}
		if err != nil {
			return nil, err
		}
		n = store.NewQuote{CustomerID: c.ID, AccountID: c.CRMAccountID, Title: qwoty.TitleFrom(c.Name), Currency: qwoty.CurrencyFrom("")}
	} else {
		// The record's defaults, as the card prefills a quote.
		rec, _, err := a.db.RecordDefaultsOf(ctx, s)
		if err != nil {
			return nil, err
		}
		n = store.NewQuote{AccountID: rec.AccountID, Title: qwoty.TitleFrom(rec.Name), Currency: qwoty.CurrencyFrom(rec.Currency)}
		if b.CustomerID != "" {
			if n.AccountID, err = a.db.CustomerAccount(ctx, s, b.CustomerID); err != nil {
				return nil, err
			}
			n.CustomerID = b.CustomerID
		}
	}
	n.TaxRate, n.CreatedBy, n.Lines = tax, actor(k), lines
	if b.Title != nil {
		n.Title = *b.Title
	}
	if b.Currency != "" {
		n.Currency = b.Currency
	}
	n.ExternalRef, n.TaxMode, n.Discount = ref, qwoty.TaxMode(b.TaxMode), discount
	q, err := a.db.CreateQuote(ctx, s, n)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, Base+"/quotes/"+q.ID)
}
