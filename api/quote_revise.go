package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// A quote's revisions: revise (the next revision as a draft) and the
// frozen versions, each as it was sent.

type quoteReviseInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"36"`
	Body *struct {
		Version int `json:"version,omitempty" minimum:"1" doc:"The version you revised; another is 409 version_conflict."`
	} `required:"false"`
}

// QuoteVersion is one sent revision of a quote, frozen.
type QuoteVersion struct {
	Revision int       `json:"revision"`
	FrozenAt time.Time `json:"frozenAt" doc:"When the revision was sent (and frozen)."`
	FrozenBy string    `json:"frozenBy" doc:"Who sent it: a CRM user, or api-key:<name>."`
	Currency string    `json:"currency"`
	Total    string    `json:"total" doc:"The total offered in this revision."`
	SHA256   string    `json:"sha256" doc:"Hex SHA-256 of canonical, recorded when the revision was frozen."`
	Intact   bool      `json:"intact" doc:"Whether canonical still hashes to sha256 (checked on every read)."`
	// Canonical is the frozen bytes themselves, as a string, so that a
	// client can hash them again.
	Canonical string                `json:"canonical" doc:"The revision's canonical JSON exactly as frozen and hashed (its UTF-8 bytes hash to sha256)."`
	Snapshot  qwoty.VersionSnapshot `json:"snapshot" doc:"canonical, decoded: the quote as the customer was offered it (snake_case keys, amounts with the currency's decimals)."`
}

type quoteVersionsOutput struct {
	Body struct {
		Data []QuoteVersion `json:"data" doc:"The sent revisions, oldest first."`
	}
}

type quoteVersionInput struct {
	ID       string `path:"id" maxLength:"36" doc:"The quote's id."`
	Revision int    `path:"revision" minimum:"1" maximum:"1000000" doc:"The revision's number."`
}

type quoteVersionOutput struct{ Body QuoteVersion }

func (a *API) quoteRevise() {
	huma.Register(a.h, huma.Operation{OperationID: "reviseQuote", Method: http.MethodPost, Path: "/quotes/{id}/revise", Tags: []string{"Quotes"},
		Summary: "Revise a quote",
		Description: "Makes the next revision of a sent, viewed, rejected or expired quote a draft: revision + 1, its lines kept as the " +
			"starting point, validUntil cleared (the next send sets it). The revision sent stays frozen (GET …/versions). " +
			"The same move as status draft. An accepted quote is final and a draft has nothing to revise: 409 " +
			"invalid_status_transition. Makes a quote.updated event.",
		Security: Secured(qwoty.ScopeQuotesWrite)}, a.revise)
	huma.Register(a.h, huma.Operation{OperationID: "listQuoteVersions", Method: http.MethodGet, Path: "/quotes/{id}/versions", Tags: []string{"Quotes"},
		Summary:     "List a quote's sent revisions",
		Description: "Every revision that was sent, frozen as the customer got it, with its hash. A draft revision is not listed until it is sent.",
		Security:    Secured(qwoty.ScopeQuotesRead)}, a.versions)
	huma.Register(a.h, huma.Operation{OperationID: "getQuoteVersion", Method: http.MethodGet, Path: "/quotes/{id}/versions/{revision}", Tags: []string{"Quotes"},
		Summary: "Get one sent revision of a quote", Description: "404 not_found for a revision that was never sent.",
		Security: Secured(qwoty.ScopeQuotesRead)}, a.version)
}

func (a *API) revise(ctx context.Context, in *quoteReviseInput) (*QuoteOutput, error) {
	version := 0
	if in.Body != nil {
		version = in.Body.Version
	}
	q, err := a.db.UpdateAPIQuote(ctx, scope(ctx), in.ID, version, actor(KeyOf(ctx)), func(q *qwoty.Quote) error {
		return q.Revise()
	}, nil)
	if err != nil {
		return nil, err
	}
	return a.quoteOutput(ctx, q, "")
}

func (a *API) versions(ctx context.Context, in *quoteIDInput) (*quoteVersionsOutput, error) {
	vs, err := a.db.APIQuoteVersions(ctx, scope(ctx), in.ID, 0)
	if err != nil {
		return nil, err
	}
	out := &quoteVersionsOutput{}
	out.Body.Data = make([]QuoteVersion, len(vs))
	for i := range vs {
		out.Body.Data[i] = versionOut(&vs[i])
	}
	return out, nil
}

func (a *API) version(ctx context.Context, in *quoteVersionInput) (*quoteVersionOutput, error) {
	vs, err := a.db.APIQuoteVersions(ctx, scope(ctx), in.ID, in.Revision)
	if err != nil {
		return nil, err
	}
	return &quoteVersionOutput{Body: versionOut(&vs[0])}, nil
}

func versionOut(v *store.QuoteVersion) QuoteVersion {
	return QuoteVersion{Revision: v.Revision, FrozenAt: v.FrozenAt.UTC(), FrozenBy: v.FrozenBy, Currency: v.Currency,
		Total: qwoty.FormatAmount(v.Total, v.Currency), SHA256: v.SHA256, Intact: v.Intact, Canonical: string(v.JSON), Snapshot: v.Snapshot}
}
