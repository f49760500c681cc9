package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Customer is a customer (the CRM's account) as the API shows it.
type Customer struct {
	ID           string    `json:"id"`
	CRMAccountID string    `json:"crmAccountId" doc:"The CRM account's id (Salesforce Account, HubSpot company, Pipedrive organization): the upsert key. \"\" for a customer Qwoty knows before the CRM does, until the deal of one of its quotes links it (docs/deals.md)."`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Phone        string    `json:"phone"`
	Address      Address   `json:"address"`
	ExternalRef  string    `json:"externalRef,omitempty" doc:"system:type:id; the upsert key of a customer without crmAccountId."`
	Domain       string    `json:"domain,omitempty" doc:"Its web domain, normalised (acme.com): what the \"domain\" account match looks for in the CRM."`
	CRMDeleted   bool      `json:"crmDeleted" doc:"The account was deleted in the CRM."`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Links        Links     `json:"links"`
}

// Address is a customer's postal address.
type Address struct {
	Street     string `json:"street"`
	City       string `json:"city"`
	PostalCode string `json:"postalCode"`
	Region     string `json:"region"`
	Country    string `json:"country"`
}

func customerOut(c *qwoty.Customer) Customer {
	return Customer{ID: c.ID, CRMAccountID: c.CRMAccountID, Name: c.Name, Email: c.Email, Phone: c.Phone,
		Address:     Address{Street: c.Street, City: c.City, PostalCode: c.PostalCode, Region: c.Region, Country: c.Country},
		ExternalRef: c.ExternalRef, Domain: c.Domain, CRMDeleted: c.Deleted, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		Links: Links{Self: Base + "/customers/" + c.ID}}
}

type customerOutput struct {
	Status int
	Body   Customer
}

type customerListInput struct {
	CRMAccountID string    `query:"crmAccountId" maxLength:"64"`
	Email        string    `query:"email" maxLength:"254" doc:"Only customers with this email (any case)."`
	ExternalRef  string    `query:"externalRef" maxLength:"255"`
	UpdatedAfter time.Time `query:"updatedAfter" doc:"Only customers changed after this time (RFC 3339); ordered by last change."`
	ListParams
}

type customerListOutput struct {
	Body struct {
		Data []Customer `json:"data"`
		Page
	}
}

type customerUpsertInput struct {
	IdempotencyHeader
	Body struct {
		CRMAccountID string  `json:"crmAccountId,omitempty" maxLength:"64" doc:"The key: the customer with this account id is created or changed. Left out: a customer the CRM does not have yet, keyed by externalRef (then required); its account is found or made when one of its quotes makes its deal (docs/deals.md)."`
		Name         *string `json:"name,omitempty" maxLength:"200"`
		Email        *string `json:"email,omitempty" maxLength:"254"`
		Phone        *string `json:"phone,omitempty" maxLength:"64"`
		Street       *string `json:"street,omitempty" maxLength:"500"`
		City         *string `json:"city,omitempty" maxLength:"200"`
		PostalCode   *string `json:"postalCode,omitempty" maxLength:"32"`
		Region       *string `json:"region,omitempty" maxLength:"200"`
		Country      *string `json:"country,omitempty" maxLength:"200"`
		ExternalRef  *string `json:"externalRef,omitempty" maxLength:"255" doc:"system:type:id; \"\" clears it. The key when crmAccountId is left out."`
		Domain       *string `json:"domain,omitempty" maxLength:"255" doc:"Its web domain, a URL or an email address (https://www.Acme.com/about, jane@acme.com): kept as acme.com; \"\" clears it."`
	}
}

func (a *API) customers() {
	tags := []string{"Customers"}
	huma.Register(a.h, huma.Operation{OperationID: "listCustomers", Method: http.MethodGet, Path: "/customers", Tags: tags,
		Summary: "List customers", Description: "The CRM account's customers (its accounts), oldest first by creation, or by last change with updatedAfter.",
		Security: Secured(qwoty.ScopeCustomersRead)}, a.listCustomers)
	huma.Register(a.h, huma.Operation{OperationID: "getCustomer", Method: http.MethodGet, Path: "/customers/{id}", Tags: tags,
		Summary: "Get a customer", Security: Secured(qwoty.ScopeCustomersRead)}, a.getCustomer)
	huma.Register(a.h, huma.Operation{OperationID: "upsertCustomer", Method: http.MethodPut, Path: "/customers", Tags: tags,
		Summary: "Create or update a customer by its CRM account id (or, without one, its external reference)", MaxBodyBytes: MaxBodyBytes,
		Description: "Keyed by crmAccountId; a customer the CRM does not have yet is keyed by externalRef instead (docs/deals.md). " +
			"Idempotent: fields left out keep their value; a call that changes nothing writes nothing and makes no event, " +
			"so it is safe on every CRM change. 201 when created (customer.created), 200 otherwise (customer.updated when changed).",
		Security: Secured(qwoty.ScopeCustomersWrite)}, a.upsertCustomer)
	documentCreated(a.h, "/customers")
}

// documentCreated adds to an upsert at path (PUT) its other answer, 201
// Created, with the same body as its 200.
func documentCreated(h huma.API, path string) {
	op := h.OpenAPI().Paths[path].Put
	ok := op.Responses["200"]
	op.Responses["201"] = &huma.Response{Description: "Created", Content: ok.Content, Headers: ok.Headers}
}

func (a *API) listCustomers(ctx context.Context, in *customerListInput) (*customerListOutput, error) {
	f := store.CustomerFilter{AccountID: in.CRMAccountID, UpdatedAfter: in.UpdatedAfter, ByUpdated: !in.UpdatedAfter.IsZero(), Limit: in.limit()}
	var err error
	if f.ExternalRef, err = qwoty.ParseExternalRef(in.ExternalRef); err != nil {
		return nil, err
	}
	if in.Email != "" {
		if f.Email, err = qwoty.ParseContactEmail(in.Email); err != nil {
			return nil, err
		}
	}
	if err := qwoty.CheckText("crmAccountId", in.CRMAccountID); err != nil {
		return nil, err
	}
	kind := cursorCustomersCreated
	if f.ByUpdated {
		kind = cursorCustomersUpdated
	}
	if f.After, err = decodeCursor(kind, in.Cursor); err != nil {
		return nil, err
	}
	cs, more, err := a.db.APICustomers(ctx, scope(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &customerListOutput{}
	out.Body.Data = make([]Customer, len(cs))
	for i := range cs {
		out.Body.Data[i] = customerOut(&cs[i])
	}
	if out.Body.HasMore = more; more {
		last := cs[len(cs)-1]
		t := last.CreatedAt
		if f.ByUpdated {
			t = last.UpdatedAt
		}
		out.Body.NextCursor = encodeCursor(kind, t, last.ID)
	}
	return out, nil
}

type customerIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

func (a *API) getCustomer(ctx context.Context, in *customerIDInput) (*customerOutput, error) {
	c, err := a.db.APICustomer(ctx, scope(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &customerOutput{Status: http.StatusOK, Body: customerOut(c)}, nil
}

func (a *API) upsertCustomer(ctx context.Context, in *customerUpsertInput) (*customerOutput, error) {
	b := in.Body
	acct, err := qwoty.ParseField("crmAccountId", b.CRMAccountID, 64)
	if err != nil {
		return nil, err
	}
	if acct == "" && (b.ExternalRef == nil || *b.ExternalRef == "") {
		// Without either, every call would make another customer.
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "externalRef", Message: "a customer without crmAccountId needs an externalRef",
			Hint: "Give the CRM account's id, or, for a customer the CRM does not have yet, your system's reference (externalRef): it is the key customers are upserted by."}
	}
	u := store.CustomerInput{CRMAccountID: acct}
	for _, f := range []struct {
		name string
		in   *string
		out  **string
		max  int
	}{{"name", b.Name, &u.Name, 200}, {"phone", b.Phone, &u.Phone, 64}, {"street", b.Street, &u.Street, 500},
		{"city", b.City, &u.City, 200}, {"postalCode", b.PostalCode, &u.PostalCode, 32}, {"region", b.Region, &u.Region, 200},
		{"country", b.Country, &u.Country, 200}} {
		if f.in == nil {
			continue
		}
		v, err := qwoty.ParseField(f.name, *f.in, f.max)
		if err != nil {
			return nil, err
		}
		*f.out = &v
	}
	if b.Email != nil {
		e := ""
		if *b.Email != "" {
			if e, err = qwoty.ParseEmail(*b.Email); err != nil {
				return nil, err
			}
		}
		u.Email = &e
	}
	if b.ExternalRef != nil {
		r, err := qwoty.ParseExternalRef(*b.ExternalRef)
		if err != nil {
			return nil, err
		}
		u.ExternalRef = &r
	}
	if b.Domain != nil {
		d, err := qwoty.ParseDomain(*b.Domain)
		if err != nil {
			return nil, err
		}
		u.Domain = &d
	}
	c, created, err := a.db.UpsertAPICustomer(ctx, scope(ctx), u)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &customerOutput{Status: status, Body: customerOut(c)}, nil
}
