package testcrm

import (
	"context"
	"net/http"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM describes its deal and company fields (GET
// /api/fields/{object}) for the admin's field mappings.

var _ crm.Describer = (*Adapter)(nil)

// mappingObjects maps Qwoty's mapping mappingObjects to the test CRM's.
var mappingObjects = map[string]string{"deal": "deal", "customer": "company"}

// fieldTypes translates the test CRM's field types into Qwoty's.
var fieldTypes = map[string]qwoty.FieldType{
	"text": qwoty.TypeText, "email": qwoty.TypeEmail, "number": qwoty.TypeNumber, "money": qwoty.TypeCurrency,
	"date": qwoty.TypeDate, "datetime": qwoty.TypeDateTime, "bool": qwoty.TypeBoolean, "select": qwoty.TypePicklist,
}

// Fields implements crm.Describer.
func (a *Adapter) Fields(ctx context.Context, s crm.Session, b crm.Budget, object string) ([]qwoty.CRMField, error) {
	o, ok := mappingObjects[object]
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Map deal or customer fields.", "no object %q", object)
	}
	if err := b.Take(ctx, "calls", 1); err != nil {
		return nil, err
	}
	var out struct {
		Fields []struct {
			Name     string   `json:"name"`
			Label    string   `json:"label"`
			Type     string   `json:"type"`
			Options  []string `json:"options"`
			ReadOnly bool     `json:"read_only"`
			Custom   bool     `json:"custom"`
		} `json:"fields"`
	}
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodGet, Base: s.Connection().InstanceURL,
			Path: "/api/fields/" + o, Token: token, Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}, &out)
	})
	if err != nil {
		return nil, err
	}
	fs := make([]qwoty.CRMField, 0, len(out.Fields))
	for _, f := range out.Fields {
		t, ok := fieldTypes[f.Type]
		if !ok {
			t = qwoty.TypeOther
		}
		fs = append(fs, qwoty.CRMField{Name: f.Name, Label: f.Label, Type: t, Options: f.Options, Writable: !f.ReadOnly, Custom: f.Custom})
	}
	return fs, nil
}

// StandardField implements crm.Describer.
func (a *Adapter) StandardField(key string) string {
	return map[string]string{"customer.name": "name", "customer.email": "email", "quote.total": "amount", "quote.status": "stage"}[key]
}
