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
		Revise  bool        `json:"revise,omitempty" doc:"Make a new version of a sent quote. Quote revisions do not exist yet: true is 409 quote_locked."`
		Lines   []LineInput `json:"lines" maxItems:"2000" doc:"The quote's lines, all of them, in order; [] empties the quote."`
	}
}

func (a *API) quoteLines() {
	huma.Register(a.h, huma.Operation{OperationID: "replaceQuoteLines", Method: http.MethodPut, Path: "/quotes/{id}/lines", Tags: []string{"Quotes"},
		Summary: "Replace a quote's lines", MaxBodyBytes: MaxBodyBytes,
		Description: "Replaces every line of a draft; totals are computed again. A quote that is not a draft is 409 quote_locked " +
			"(move it back to draft first); so is revise: true, until quote revisions exist. Makes a quote.updated event.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.replaceLines)
}

func (a *API) replaceLines(ctx context.Context, in *quoteLinesInput) (*QuoteOutput, error) {
	if in.Body.Revise {
		return nil, qwoty.Errorf(qwoty.CodeQuoteLocked,
			"Move the quote back to draft (POST /api/v1/quotes/{id}/status with status draft), then replace its lines without revise.",
			"revise: quote revisions (a new version of a sent quote) are not available yet")
	}
	lines, err := parseLines(in.Body.Lines)
	if err != nil {
		return nil, err
	}
	q, err := a.db.UpdateAPIQuote(ctx, scope(ctx), in.ID, in.Body.Version, actor(KeyOf(ctx)), func(q *qwoty.Quote) error {
		if err := q.CheckEditable(); err != nil {
			return err
		}
		q.Lines = q.Lines[:0]
		for _, l := range lines {
			if err := q.AddLine(l); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return &QuoteOutput{Body: quoteOut(q, true)}, nil
}
