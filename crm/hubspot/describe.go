package hubspot

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The admin's field mappings list a portal's deal and company properties
// through the properties API (GET /crm/v3/properties/{objectType}, "read
// all properties"), translated into Qwoty's field types.

var _ crm.Describer = (*Adapter)(nil)

// MappingScopes read the deals' and companies' property definitions (each
// named in the "read all properties" reference for its object type). A
// connection made before mappings lacks them; Fields then asks for a
// reconnection.
var MappingScopes = []string{"crm.schemas.deals.read", "crm.schemas.companies.read"}

// propertyObjects maps Qwoty's mapping objects to HubSpot's object types.
var propertyObjects = map[string]string{"deal": "deals", "customer": "companies"}

// propertiesPath lists an object type's properties.
const propertiesPath = "/crm/v3/properties/"

// hsProperty is what Fields reads of a property definition.
type hsProperty struct {
	Name      string `json:"name"`
	Label     string `json:"label"`
	Type      string `json:"type"`
	FieldType string `json:"fieldType"`
	Options   []struct {
		Value  string `json:"value"`
		Hidden bool   `json:"hidden"`
	} `json:"options"`
	Hidden               bool `json:"hidden"`
	Archived             bool `json:"archived"`
	Calculated           bool `json:"calculated"`
	HubSpotDefined       bool `json:"hubspotDefined"`
	ShowCurrencySymbol   bool `json:"showCurrencySymbol"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// Fields implements crm.Describer: one call, from the burst bucket. Hidden
// and archived properties are left out (an admin cannot see them in
// HubSpot, and an archived one takes no values).
func (a *Adapter) Fields(ctx context.Context, s crm.Session, b crm.Budget, object string) ([]qwoty.CRMField, error) {
	typ, ok := propertyObjects[object]
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Map deal or customer fields.", "no object %q", object)
	}
	var missing []string
	for _, sc := range MappingScopes {
		if !slices.Contains(s.Connection().Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		return nil, qwoty.E(qwoty.CodeSyncReconnect, "the HubSpot connection was not granted %s, which Qwoty needs to list the properties to map: reconnect HubSpot",
			strings.Join(missing, ", "))
	}
	var out struct {
		Results []hsProperty `json:"results"`
	}
	c := &caller{a: a, sess: s, budget: b}
	if err := c.call(ctx, burstBucket, http.MethodGet, propertiesPath+typ, nil, nil, &out); err != nil {
		return nil, err
	}
	fs := make([]qwoty.CRMField, 0, len(out.Results))
	for _, p := range out.Results {
		if p.Hidden || p.Archived {
			continue
		}
		fs = append(fs, fieldOf(p))
	}
	return fs, nil
}

// fieldOf translates a property definition. A property's type says what it
// holds and its fieldType how HubSpot shows it (the properties guide):
// string text, textarea and phonenumber are text (html and file are not);
// an enumeration shown as one choice (select, radio) is a picklist of its
// options, a multi-select (checkbox) is not; a number shown with a
// currency symbol is money; a calculated number is read-only. HubSpot has
// no email type (a contact's email is a string), so no property is email.
func fieldOf(p hsProperty) qwoty.CRMField {
	f := qwoty.CRMField{Name: p.Name, Label: p.Label, Type: qwoty.TypeOther,
		Writable: !p.ModificationMetadata.ReadOnlyValue && !p.Calculated, Custom: !p.HubSpotDefined}
	switch p.Type {
	case "string":
		if slices.Contains([]string{"text", "textarea", "phonenumber"}, p.FieldType) {
			f.Type = qwoty.TypeText
		}
	case "number":
		f.Type = qwoty.TypeNumber
		if p.ShowCurrencySymbol || p.Name == "amount" {
			f.Type = qwoty.TypeCurrency
		}
	case "date":
		f.Type = qwoty.TypeDate
	case "datetime":
		f.Type = qwoty.TypeDateTime
	case "bool":
		f.Type = qwoty.TypeBoolean
	case "enumeration":
		switch p.FieldType {
		case "select", "radio":
			f.Type = qwoty.TypePicklist
			for _, o := range p.Options {
				if !o.Hidden {
					f.Options = append(f.Options, o.Value)
				}
			}
		case "booleancheckbox":
			f.Type = qwoty.TypeBoolean
		}
	}
	return f
}

// StandardField implements crm.Describer. A company has no standard email
// property (HubSpot keeps emails on contacts), and a deal no date a quote's
// creation fits: an admin maps those onto a custom property.
func (a *Adapter) StandardField(key string) string {
	return map[string]string{"customer.name": "name", "quote.total": "amount", "quote.status": "dealstage"}[key]
}
