package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
)

type quoteStatusInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"36"`
	Body struct {
		Status  string `json:"status" enum:"draft,sent,viewed,accepted,rejected,expired"`
		Version int    `json:"version,omitempty" minimum:"1" doc:"The version you moved; another is 409 version_conflict."`
	}
}

func (a *API) quoteStatus() {
	huma.Register(a.h, huma.Operation{OperationID: "setQuoteStatus", Method: http.MethodPost, Path: "/quotes/{id}/status", Tags: []string{"Quotes"},
		Summary: "Move a quote to another status",
		Description: "Along the lifecycle: draft → sent; sent → viewed, accepted, rejected, expired or back to draft; viewed → " +
			"accepted, rejected, expired or draft; rejected and expired → draft; accepted is final. Another move is 409 " +
			"invalid_status_transition; a quote is sent with at least one line. Sending freezes the revision sent " +
			"(GET …/versions) and sets validUntil when it has none. Back to draft is a revision (the same as POST …/revise): " +
			"the next revision becomes the draft. Makes the status's event (quote.sent, …) or quote.updated for a move back to draft.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.setStatus)
}

func (a *API) setStatus(ctx context.Context, in *quoteStatusInput) (*QuoteOutput, error) {
	to, err := qwoty.ParseStatusInput(in.Body.Status)
	if err != nil {
		return nil, err
	}
	q, err := a.db.UpdateAPIQuote(ctx, scope(ctx), in.ID, in.Body.Version, actor(KeyOf(ctx)), func(q *qwoty.Quote) error {
		return q.Transition(to)
	}, nil)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, "")
}
