package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// CatalogItem is a product of the catalogue with its prices.
type CatalogItem struct {
	ID          string  `json:"id" doc:"The CRM's product id, or qw-… for an item made through the API."`
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Active      bool    `json:"active"`
	ExternalRef string  `json:"externalRef,omitempty"`
	CRMDeleted  bool    `json:"crmDeleted" doc:"The product was deleted in the CRM."`
	Prices      []Price `json:"prices"`
	Links       Links   `json:"links"`
}

// Price is an item's price in one currency.
type Price struct {
	Currency  string `json:"currency"`
	UnitPrice string `json:"unitPrice"`
	Active    bool   `json:"active"`
}

// PriceInput is a price a client sets.
type PriceInput struct {
	Currency  string `json:"currency" pattern:"^[A-Z]{3}$"`
	UnitPrice string `json:"unitPrice" maxLength:"32" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"0 to 1,000,000,000,000, at most 4 decimals."`
	Active    *bool  `json:"active,omitempty" doc:"Default true."`
}

func itemOut(p *qwoty.CatalogProduct) CatalogItem {
	out := CatalogItem{ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Active: p.Active, ExternalRef: p.ExternalRef,
		CRMDeleted: p.Deleted, Prices: make([]Price, len(p.Prices)), Links: Links{Self: Base + "/catalog/items/" + p.ID}}
	for i, pr := range p.Prices {
		out.Prices[i] = Price{Currency: pr.Currency, UnitPrice: figure(pr.UnitPrice, pr.Currency), Active: pr.Active}
	}
	return out
}

type itemOutput struct {
	Location string `header:"Location"`
	Body     CatalogItem
}

type itemListInput struct {
	SKU         string `query:"sku" maxLength:"64"`
	ExternalRef string `query:"externalRef" maxLength:"255"`
	Active      string `query:"active" enum:"true,false" doc:"Only active (or inactive) items."`
	ListParams
}

type itemListOutput struct {
	Body struct {
		Data []CatalogItem `json:"data"`
		Page
	}
}

type itemIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

// itemFields are an item's writable fields.
type itemFields struct {
	SKU         *string      `json:"sku,omitempty" maxLength:"64"`
	Name        *string      `json:"name,omitempty" maxLength:"255"`
	Description *string      `json:"description,omitempty" maxLength:"4000"`
	Active      *bool        `json:"active,omitempty"`
	ExternalRef *string      `json:"externalRef,omitempty" maxLength:"255"`
	Prices      []PriceInput `json:"prices,omitempty" maxItems:"50" doc:"Prices to set, one per currency; currencies left out keep theirs."`
}

type itemCreateInput struct {
	IdempotencyHeader
	Body struct {
		ID          string       `json:"id,omitempty" maxLength:"64" doc:"The CRM's product id when the product exists in the CRM; default a new qw-… id (lines taken from such an item are pushed to the CRM without a product link)."`
		SKU         *string      `json:"sku,omitempty" maxLength:"64"`
		Name        *string      `json:"name,omitempty" maxLength:"255"`
		Description *string      `json:"description,omitempty" maxLength:"4000"`
		Active      *bool        `json:"active,omitempty"`
		ExternalRef *string      `json:"externalRef,omitempty" maxLength:"255"`
		Prices      []PriceInput `json:"prices,omitempty" maxItems:"50"`
	}
}

type itemUpdateInput struct {
	IdempotencyHeader
	ID   string `path:"id" maxLength:"64"`
	Body itemFields
}

func (a *API) catalog() {
	tags := []string{"Catalogue"}
	huma.Register(a.h, huma.Operation{OperationID: "listCatalogItems", Method: http.MethodGet, Path: "/catalog/items", Tags: tags,
		Summary: "List catalogue items", Description: "The CRM account's products with their prices, by id.",
		Security: Secured(qwoty.ScopeCatalogRead)}, a.listItems)
	huma.Register(a.h, huma.Operation{OperationID: "getCatalogItem", Method: http.MethodGet, Path: "/catalog/items/{id}", Tags: tags,
		Summary: "Get a catalogue item", Security: Secured(qwoty.ScopeCatalogRead)}, a.getItem)
	huma.Register(a.h, huma.Operation{OperationID: "createCatalogItem", Method: http.MethodPost, Path: "/catalog/items", Tags: tags,
		Summary: "Create a catalogue item", DefaultStatus: http.StatusCreated, MaxBodyBytes: MaxBodyBytes,
		Description: "An id the catalogue has already is 422 validation_failed (change it with PATCH).",
		Security:    Secured(qwoty.ScopeCatalogWrite)}, a.createItem)
	huma.Register(a.h, huma.Operation{OperationID: "updateCatalogItem", Method: http.MethodPatch, Path: "/catalog/items/{id}", Tags: tags,
		Summary: "Change a catalogue item", Description: "Fields left out keep their value. The CRM stays the source of truth: its next change of the product replaces what the API set.",
		MaxBodyBytes: MaxBodyBytes, Security: Secured(qwoty.ScopeCatalogWrite)}, a.updateItem)
}

func (a *API) listItems(ctx context.Context, in *itemListInput) (*itemListOutput, error) {
	f := store.CatalogFilter{Limit: in.limit()}
	var err error
	if f.SKU, err = qwoty.ParseField("sku", in.SKU, 64); err != nil {
		return nil, err
	}
	if f.ExternalRef, err = qwoty.ParseExternalRef(in.ExternalRef); err != nil {
		return nil, err
	}
	if in.Active != "" {
		v := in.Active == "true"
		f.Active = &v
	}
	c, err := decodeCursor(cursorCatalog, in.Cursor)
	if err != nil {
		return nil, err
	}
	if c != nil {
		f.After = c.ID
	}
	ps, more, err := a.db.APICatalogItems(ctx, scope(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &itemListOutput{}
	out.Body.Data = make([]CatalogItem, len(ps))
	for i := range ps {
		out.Body.Data[i] = itemOut(&ps[i])
	}
	if out.Body.HasMore = more; more {
		out.Body.NextCursor = encodeCursor(cursorCatalog, time.Time{}, ps[len(ps)-1].ID)
	}
	return out, nil
}

func (a *API) getItem(ctx context.Context, in *itemIDInput) (*itemOutput, error) {
	p, err := a.db.APICatalogItem(ctx, scope(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &itemOutput{Body: itemOut(p)}, nil
}

// parseItem checks an item's fields.
func parseItem(f itemFields) (store.CatalogInput, error) {
	in := store.CatalogInput{Active: f.Active}
	for _, x := range []struct {
		name string
		in   *string
		out  **string
		max  int
	}{{"sku", f.SKU, &in.SKU, 64}, {"name", f.Name, &in.Name, 255}, {"description", f.Description, &in.Description, 4000}} {
		if x.in == nil {
			continue
		}
		v, err := qwoty.ParseField(x.name, *x.in, x.max)
		if err != nil {
			return in, err
		}
		*x.out = &v
	}
	if f.ExternalRef != nil {
		r, err := qwoty.ParseExternalRef(*f.ExternalRef)
		if err != nil {
			return in, err
		}
		in.ExternalRef = &r
	}
	seen := map[string]bool{}
	for _, p := range f.Prices {
		pr, err := qwoty.ParseCatalogPrice(p.Currency, p.UnitPrice)
		if err != nil {
			return in, err
		}
		if seen[pr.Currency] {
			return in, &qwoty.Error{Code: qwoty.CodeValidation, Field: "prices", Message: "prices names " + pr.Currency + " twice",
				Hint: "Give one price per currency."}
		}
		seen[pr.Currency] = true
		pr.Active = p.Active == nil || *p.Active
		in.Prices = append(in.Prices, pr)
	}
	return in, nil
}

func (a *API) createItem(ctx context.Context, in *itemCreateInput) (*itemOutput, error) {
	b := in.Body
	u, err := parseItem(itemFields{SKU: b.SKU, Name: b.Name, Description: b.Description, Active: b.Active,
		ExternalRef: b.ExternalRef, Prices: b.Prices})
	if err != nil {
		return nil, err
	}
	id, err := qwoty.ParseField("id", in.Body.ID, 64)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = "qw-" + strings.ToLower(rand.Text())
	}
	p, err := a.db.CreateAPICatalogItem(ctx, scope(ctx), id, u)
	if err != nil {
		return nil, err
	}
	return &itemOutput{Location: Base + "/catalog/items/" + p.ID, Body: itemOut(p)}, nil
}

func (a *API) updateItem(ctx context.Context, in *itemUpdateInput) (*itemOutput, error) {
	u, err := parseItem(in.Body)
	if err != nil {
		return nil, err
	}
	p, err := a.db.UpdateAPICatalogItem(ctx, scope(ctx), in.ID, u)
	if err != nil {
		return nil, err
	}
	return &itemOutput{Body: itemOut(p)}, nil
}
