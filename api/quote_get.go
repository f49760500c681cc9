package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
)

// quoteIDInput names a quote in the path.
type quoteIDInput struct {
	ID string `path:"id" maxLength:"36" doc:"The quote's id."`
}

func (a *API) quoteGet() {
	huma.Register(a.h, huma.Operation{OperationID: "getQuote", Method: http.MethodGet, Path: "/quotes/{id}", Tags: []string{"Quotes"},
		Summary: "Get a quote", Description: "A quote with its lines, totals, status, version and sync state.",
		Security: Secured(qwoty.ScopeQuotesRead)}, a.getQuote)
}

func (a *API) getQuote(ctx context.Context, in *quoteIDInput) (*QuoteOutput, error) {
	q, err := a.db.APIQuote(ctx, scope(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, "")
}
