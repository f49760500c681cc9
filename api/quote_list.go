package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

type quoteListInput struct {
	Status        string    `query:"status" enum:"draft,sent,viewed,accepted,rejected,expired" doc:"Only quotes in this status."`
	CRMRecordID   string    `query:"crmRecordId" maxLength:"64" doc:"Only quotes on this CRM record."`
	WithoutRecord bool      `query:"withoutRecord" doc:"true: only quotes without a CRM record (made for a customer, their deal not made yet: see each one's deal). Not with crmRecordId."`
	CustomerID    string    `query:"customerId" maxLength:"36" doc:"Only quotes of this customer."`
	ExternalRef   string    `query:"externalRef" maxLength:"255" doc:"Only quotes with this external reference."`
	CreatedAfter  time.Time `query:"createdAfter" doc:"Only quotes created after this time (RFC 3339), oldest first: the reconciliation listing."`
	UpdatedAfter  time.Time `query:"updatedAfter" doc:"Only quotes changed after this time (RFC 3339); the listing is then ordered by last change."`
	ListParams
}

type quoteListOutput struct {
	Body struct {
		Data []Quote `json:"data" doc:"The page's quotes, without their lines."`
		Page
	}
}

func (a *API) quoteList() {
	huma.Register(a.h, huma.Operation{OperationID: "listQuotes", Method: http.MethodGet, Path: "/quotes", Tags: []string{"Quotes"},
		Summary: "List quotes",
		Description: "The live quotes of the key's CRM account, oldest first by creation (by last change with updatedAfter), " +
			"in pages of at most 200.",
		Security: Secured(qwoty.ScopeQuotesRead)}, a.listQuotes)
}

func (a *API) listQuotes(ctx context.Context, in *quoteListInput) (*quoteListOutput, error) {
	f := store.QuoteFilter{Status: qwoty.Status(in.Status), CustomerID: in.CustomerID, CreatedAfter: in.CreatedAfter,
		UpdatedAfter: in.UpdatedAfter, ByUpdated: !in.UpdatedAfter.IsZero(), Limit: in.limit()}
	var err error
	if f.RecordID, err = qwoty.ParseField("crmRecordId", in.CRMRecordID, 64); err != nil {
		return nil, err
	}
	if f.ExternalRef, err = qwoty.ParseExternalRef(in.ExternalRef); err != nil {
		return nil, err
	}
	if f.WithoutRecord = in.WithoutRecord; f.WithoutRecord && f.RecordID != "" {
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "withoutRecord", Message: "withoutRecord=true and crmRecordId select nothing together",
			Hint: "Give crmRecordId for the quotes of a record, or withoutRecord=true for the quotes without one."}
	}
	kind := cursorQuotesCreated
	if f.ByUpdated {
		kind = cursorQuotesUpdated
	}
	if f.After, err = decodeCursor(kind, in.Cursor); err != nil {
		return nil, err
	}
	qs, more, err := a.db.APIQuotes(ctx, scope(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &quoteListOutput{}
	out.Body.Data = make([]Quote, len(qs))
	for i := range qs {
		out.Body.Data[i] = quoteOut(&qs[i], false)
	}
	if err := a.withDeals(ctx, out.Body.Data); err != nil {
		return nil, err
	}
	out.Body.HasMore = more
	if more {
		last := qs[len(qs)-1]
		t := last.CreatedAt
		if f.ByUpdated {
			t = last.UpdatedAt
		}
		out.Body.NextCursor = encodeCursor(kind, t, last.ID)
	}
	return out, nil
}
