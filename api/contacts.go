package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Contact is a person of the CRM account, one per email.
type Contact struct {
	Email        string    `json:"email" doc:"Lower case; the upsert key."`
	CRMID        string    `json:"crmId" doc:"The CRM's id of the person (Contact, contact, person), when known."`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	CustomerID   string    `json:"customerId,omitempty" doc:"The customer (account) the contact works for, when linked."`
	ExternalRef  string    `json:"externalRef,omitempty"`
	CRMRecordIDs []string  `json:"crmRecordIds" doc:"The CRM records (deals) the contact is on, as last pulled."`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

func contactOut(c *qwoty.Contact) Contact {
	ids := c.RecordIDs
	if ids == nil {
		ids = []string{}
	}
	return Contact{Email: c.Email, CRMID: c.CRMID, Name: c.Name, Phone: c.Phone, CustomerID: c.CustomerID, ExternalRef: c.ExternalRef,
		CRMRecordIDs: ids, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

type contactListInput struct {
	Email        string    `query:"email" maxLength:"254" doc:"The contact with this email (any case): a list of one, or empty."`
	CustomerID   string    `query:"customerId" maxLength:"36"`
	ExternalRef  string    `query:"externalRef" maxLength:"255"`
	UpdatedAfter time.Time `query:"updatedAfter" doc:"Only contacts changed after this time (RFC 3339)."`
	ListParams
}

type contactListOutput struct {
	Body struct {
		Data []Contact `json:"data"`
		Page
	}
}

type contactUpsertInput struct {
	IdempotencyHeader
	Body struct {
		Email       string  `json:"email" minLength:"3" maxLength:"254" doc:"The key: the contact with this email (any case) is created or changed."`
		Name        *string `json:"name,omitempty" maxLength:"200"`
		Phone       *string `json:"phone,omitempty" maxLength:"64"`
		CRMID       *string `json:"crmId,omitempty" maxLength:"64"`
		CustomerID  *string `json:"customerId,omitempty" maxLength:"36" doc:"Link to a customer of the same CRM account; \"\" unlinks."`
		ExternalRef *string `json:"externalRef,omitempty" maxLength:"255" doc:"system:type:id; \"\" clears it."`
	}
}

type contactOutput struct {
	Status int
	Body   Contact
}

func (a *API) contacts() {
	tags := []string{"Contacts"}
	huma.Register(a.h, huma.Operation{OperationID: "listContacts", Method: http.MethodGet, Path: "/contacts", Tags: tags,
		Summary: "List contacts, or find one by email", Description: "Ordered by last change (updatedAt, then email).",
		Security: Secured(qwoty.ScopeCustomersRead)}, a.listContacts)
	huma.Register(a.h, huma.Operation{OperationID: "upsertContact", Method: http.MethodPut, Path: "/contacts", Tags: tags,
		Summary: "Create or update a contact by email", MaxBodyBytes: MaxBodyBytes,
		Description: "Idempotent: fields left out keep their value; a call that changes nothing writes nothing. 201 when created, 200 otherwise.",
		Security:    Secured(qwoty.ScopeCustomersWrite)}, a.upsertContact)
	documentCreated(a.h, "/contacts")
}

func (a *API) listContacts(ctx context.Context, in *contactListInput) (*contactListOutput, error) {
	f := store.ContactFilter{CustomerID: in.CustomerID, UpdatedAfter: in.UpdatedAfter, Limit: in.limit()}
	var err error
	if in.Email != "" {
		if f.Email, err = qwoty.ParseContactEmail(in.Email); err != nil {
			return nil, err
		}
	}
	if f.ExternalRef, err = qwoty.ParseExternalRef(in.ExternalRef); err != nil {
		return nil, err
	}
	if f.After, err = decodeCursor(cursorContacts, in.Cursor); err != nil {
		return nil, err
	}
	cs, more, err := a.db.APIContacts(ctx, scope(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &contactListOutput{}
	out.Body.Data = make([]Contact, len(cs))
	for i := range cs {
		out.Body.Data[i] = contactOut(&cs[i])
	}
	if out.Body.HasMore = more; more {
		last := cs[len(cs)-1]
		out.Body.NextCursor = encodeCursor(cursorContacts, last.UpdatedAt, last.Email)
	}
	return out, nil
}

func (a *API) upsertContact(ctx context.Context, in *contactUpsertInput) (*contactOutput, error) {
	b := in.Body
	email, err := qwoty.ParseContactEmail(b.Email)
	if err != nil {
		return nil, err
	}
	u := store.ContactInput{Email: email, CustomerID: b.CustomerID}
	for _, f := range []struct {
		name string
		in   *string
		out  **string
		max  int
	}{{"name", b.Name, &u.Name, 200}, {"phone", b.Phone, &u.Phone, 64}, {"crmId", b.CRMID, &u.CRMID, 64}} {
		if f.in == nil {
			continue
		}
		v, err := qwoty.ParseField(f.name, *f.in, f.max)
		if err != nil {
			return nil, err
		}
		*f.out = &v
	}
	if b.ExternalRef != nil {
		r, err := qwoty.ParseExternalRef(*b.ExternalRef)
		if err != nil {
			return nil, err
		}
		u.ExternalRef = &r
	}
	c, created, err := a.db.UpsertAPIContact(ctx, scope(ctx), u)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &contactOutput{Status: status, Body: contactOut(c)}, nil
}
