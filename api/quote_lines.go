package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
)

type quoteLinesInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"36"`
	Body struct {
		Version int         `json:"version,omitempty" minimum:"1" doc:"The version you changed; another is 409 version_conflict."`
		Revise  bool        `json:"revise,omitempty" doc:"Revise a quote that is not a draft first (as POST …/revise: its next revision, a draft, takes the lines); no effect on a draft."`
		Lines   []LineInput `json:"lines" maxItems:"2000" doc:"The quote's lines, all of them, in order; [] empties the quote."`
	}
}

func (a *API) quoteLines() {
	huma.Register(a.h, huma.Operation{OperationID: "replaceQuoteLines", Method: http.MethodPut, Path: "/quotes/{id}/lines", Tags: []string{"Quotes"},
		Summary: "Replace a quote's lines", MaxBodyBytes: MaxBodyBytes,
		Description: "Replaces every line of a draft; totals are computed again. A quote that is not a draft is 409 quote_locked, " +
			"unless revise is true: then a sent, viewed, rejected or expired quote is revised first, in the same change " +
			"(an accepted quote stays 409 invalid_status_transition). Makes a quote.updated event.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.replaceLines)
}

func (a *API) replaceLines(ctx context.Context, in *quoteLinesInput) (*QuoteOutput, error) {
	lines, err := parseLines(in.Body.Lines)
	if err != nil {
		return nil, err
	}
	q, err := a.db.UpdateAPIQuote(ctx, scope(ctx), in.ID, in.Body.Version, actor(KeyOf(ctx)), func(q *qwoty.Quote) error {
		if in.Body.Revise && q.Status != qwoty.StatusDraft {
			if err := q.Revise(); err != nil {
				return err
			}
		}
		return q.ReplaceLines(lines)
	}, nil)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, "")
}
