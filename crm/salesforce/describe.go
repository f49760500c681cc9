package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The fields of opportunities and accounts for the admin's field mappings,
// from the sObject Describe (GET /sobjects/{T}/describe), translated into
// Qwoty's field types. A push of mapped fields reads the same describe for
// the fields' types (push_fields.go).

const objAccount = "Account"

var _ crm.Describer = (*Adapter)(nil)

// describeObjects maps Qwoty's mapping objects to Salesforce's.
var describeObjects = map[string]string{"deal": objOpportunity, "customer": objAccount}

// fieldTypes translates describe's field types into Qwoty's; any other
// (reference, id, multipicklist, address, location, base64, ...) is
// qwoty.TypeOther, which no mapping carries. A multi-select picklist is
// other too: its value is a set, which no Qwoty field holds.
var fieldTypes = map[string]qwoty.FieldType{
	"string": qwoty.TypeText, "textarea": qwoty.TypeText, "phone": qwoty.TypeText, "url": qwoty.TypeText,
	"combobox": qwoty.TypeText, "email": qwoty.TypeEmail, "picklist": qwoty.TypePicklist,
	"double": qwoty.TypeNumber, "int": qwoty.TypeNumber, "long": qwoty.TypeNumber, "percent": qwoty.TypeNumber,
	"currency": qwoty.TypeCurrency, "date": qwoty.TypeDate, "datetime": qwoty.TypeDateTime, "boolean": qwoty.TypeBoolean,
}

// ownFields are the package's fields sync itself writes: never offered
// for a mapping, which would fight sync over them. The package's other
// fields (Qwoty__...) are the admin's to map like any custom field.
var ownFields = []string{refField, deletedField}

// sfField is one field of a describe answer.
type sfField struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Type       string `json:"type"`
	Custom     bool   `json:"custom"`
	Updateable bool   `json:"updateable"`
	Calculated bool   `json:"calculated"`
	Picklist   []struct {
		Value  string `json:"value"`
		Active bool   `json:"active"`
	} `json:"picklistValues"`
}

// describe reads an object's fields, taking a unit of the daily budget.
func (p *push) describe(ctx context.Context, object string) ([]sfField, error) {
	var out struct {
		Fields []sfField `json:"fields"`
	}
	if err := p.call(ctx, http.MethodGet, dataPath+"/sobjects/"+object+"/describe", nil, &out); err != nil {
		return nil, err
	}
	return out.Fields, nil
}

// Fields implements crm.Describer: the describe of the deal's Opportunity
// or the customer's Account.
func (a *Adapter) Fields(ctx context.Context, s crm.Session, b crm.Budget, object string) ([]qwoty.CRMField, error) {
	name, ok := describeObjects[object]
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Map deal or customer fields.", "no object %q", object)
	}
	p := newPush(&syncer{a: a, now: time.Now}, s, b, nil, nil)
	fs, err := p.describe(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("salesforce: describe %s: %w", name, err)
	}
	if name == objOpportunity {
		rememberTypes(s.Connection().ID, fs, time.Now())
	}
	out := make([]qwoty.CRMField, 0, len(fs))
	for _, f := range fs {
		if slices.Contains(ownFields, f.Name) {
			continue
		}
		out = append(out, translate(f))
	}
	return out, nil
}

// translate makes a describe's field a CRMField: its type translated, its
// active picklist values (an inactive value cannot be written), writable
// when the API may update it and Salesforce does not compute it.
func translate(f sfField) qwoty.CRMField {
	t, ok := fieldTypes[f.Type]
	if !ok {
		t = qwoty.TypeOther
	}
	c := qwoty.CRMField{Name: f.Name, Label: f.Label, Type: t, Writable: f.Updateable && !f.Calculated, Custom: f.Custom}
	if t == qwoty.TypePicklist {
		for _, v := range f.Picklist {
			if v.Active {
				c.Options = append(c.Options, v.Value)
			}
		}
	}
	return c
}

// StandardField implements crm.Describer. An Account has no standard
// email field (Salesforce keeps emails on contacts), and an Opportunity
// no field for a quote's creation date: those mappings are left out, and
// an admin maps a custom field to them.
func (a *Adapter) StandardField(key string) string {
	return map[string]string{"customer.name": "Name", "quote.total": "Amount", "quote.status": "StageName"}[key]
}

// typesTTL is how long a connection's Opportunity field types are trusted
// by pushes: an admin who changes a field's type sees the next push after
// it use the new one; a field not among them is described again at once.
const typesTTL = 10 * time.Minute

// oppTypes caches, per connection, the describe types of its
// Opportunity fields, for the push of mapped fields.
var oppTypes = struct {
	sync.Mutex
	m map[string]fieldSet
}{m: map[string]fieldSet{}}

type fieldSet struct {
	types map[string]string // API name in lower case → describe type
	at    time.Time
}

func rememberTypes(connID string, fs []sfField, now time.Time) {
	set := fieldSet{types: make(map[string]string, len(fs)), at: now}
	for _, f := range fs {
		set.types[strings.ToLower(f.Name)] = f.Type
	}
	oppTypes.Lock()
	defer oppTypes.Unlock()
	if _, ok := oppTypes.m[connID]; !ok && len(oppTypes.m) >= maxRemembered {
		clear(oppTypes.m)
	}
	oppTypes.m[connID] = set
}

// knownTypes returns a connection's cached types when they are fresh and
// name every field of names.
func knownTypes(connID string, names []string, now time.Time) (map[string]string, bool) {
	oppTypes.Lock()
	set, ok := oppTypes.m[connID]
	oppTypes.Unlock()
	if !ok || now.Sub(set.at) >= typesTTL {
		return nil, false
	}
	for _, n := range names {
		if _, ok := set.types[strings.ToLower(n)]; !ok {
			return nil, false
		}
	}
	return set.types, true
}

// forgetTypes drops a connection's cached types (a refusal that says a
// field is not what they say).
func forgetTypes(connID string) {
	oppTypes.Lock()
	delete(oppTypes.m, connID)
	oppTypes.Unlock()
}
