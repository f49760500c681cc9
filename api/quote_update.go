package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
)

type quoteUpdateInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"36"`
	Body struct {
		Version     int            `json:"version,omitempty" minimum:"1" doc:"The version you changed; another is 409 version_conflict. Leave out for last write wins."`
		Title       *string        `json:"title,omitempty" maxLength:"200"`
		Currency    *string        `json:"currency,omitempty" pattern:"^[A-Z]{3}$"`
		TaxRate     *string        `json:"taxRate,omitempty" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$"`
		TaxMode     string         `json:"taxMode,omitempty" enum:"quote,line" doc:"quote: one rate; line: each line's taxRate, the quote's when it has none."`
		Discount    *DiscountInput `json:"discount,omitempty" doc:"The quote-level discount; {\"kind\": \"none\"} removes it."`
		ExternalRef *string        `json:"externalRef,omitempty" maxLength:"255" doc:"system:type:id; \"\" clears it. Settable in every status."`
	}
}

func (a *API) quoteUpdate() {
	huma.Register(a.h, huma.Operation{OperationID: "updateQuote", Method: http.MethodPatch, Path: "/quotes/{id}", Tags: []string{"Quotes"},
		Summary: "Change a quote's terms or external reference", MaxBodyBytes: MaxBodyBytes,
		Description: "Title, currency, tax rate, tax mode and quote discount change on a draft only (409 quote_locked otherwise); the external reference " +
			"in any status. Fields left out keep their value. Makes a quote.updated event when something changed.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.updateQuote)
}

func (a *API) updateQuote(ctx context.Context, in *quoteUpdateInput) (*QuoteOutput, error) {
	b := in.Body
	var ref *string
	if b.ExternalRef != nil {
		r, err := qwoty.ParseExternalRef(*b.ExternalRef)
		if err != nil {
			return nil, err
		}
		ref = &r
	}
	discount, err := parseDiscount(b.Discount)
	if err != nil {
		return nil, err
	}
	var change func(q *qwoty.Quote) error
	if b.Title != nil || b.Currency != nil || b.TaxRate != nil || b.TaxMode != "" || discount != nil {
		var tax *string = b.TaxRate
		change = func(q *qwoty.Quote) error {
			t := qwoty.Terms{Title: q.Title, Currency: q.Currency, TaxRate: q.TaxRate, TaxMode: qwoty.TaxMode(b.TaxMode), Discount: discount}
			if b.Title != nil {
				t.Title = *b.Title
			}
			if b.Currency != nil {
				t.Currency = *b.Currency
			}
			if tax != nil {
				r, err := qwoty.ParsePercent("tax_rate", *tax)
				if err != nil {
					return err
				}
				t.TaxRate = r
			}
			return q.SetTerms(t)
		}
	}
	q, err := a.db.UpdateAPIQuote(ctx, scope(ctx), in.ID, b.Version, actor(KeyOf(ctx)), change, ref)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, "")
}
