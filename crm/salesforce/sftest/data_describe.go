package sftest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The sObject Describe (GET /services/data/vXX.X/sobjects/{T}/describe),
// built from the emulator's own field definitions, and the custom fields an
// org's admin added, which tests add and remove as an admin does in Setup.
// What describe says of a field is what the DML rules enforce: a field it
// does not list is refused as INVALID_FIELD, one it lists as not
// updateable as INVALID_FIELD_FOR_INSERT_UPDATE (coerce).

// describeTypes are the describe names of the emulator's field types
// (the Object Reference's "Field Types", SOAP API Developer Guide).
var describeTypes = map[fieldType]string{
	tID: "id", tRef: "reference", tString: "string", tBool: "boolean", tCurrency: "currency", tDouble: "double",
	tPercent: "percent", tPicklist: "picklist", tDate: "date", tInt: "int", tDateTime: "datetime", tTextArea: "textarea",
	tEmail: "email", tPhone: "phone", tURL: "url", tMultiPicklist: "multipicklist", tBase64: "base64",
}

// defaultCustomFields are the custom fields every emulated org starts
// with: what an admin typically adds to opportunities and accounts, one of
// each kind a mapping meets (a read-only formula among them).
func defaultCustomFields() map[string][]*field {
	return map[string][]*field{
		"opportunity": {
			{Name: "Quote_Number__c", Label: "Quote Number", Type: tString, Length: 40, Create: true, Update: true, Custom: true},
			{Name: "Valid_Until__c", Label: "Valid Until", Type: tDate, Create: true, Update: true, Custom: true},
			{Name: "Discount_Approved__c", Label: "Discount Approved", Type: tBool, Create: true, Update: true, Custom: true},
			{Name: "Win_Score__c", Label: "Win Score", Type: tDouble, Scale: 2, Create: true, Update: true, Custom: true},
			{Name: "Contract_Value__c", Label: "Contract Value", Type: tCurrency, Scale: 2, Create: true, Update: true, Custom: true},
			{Name: "Region__c", Label: "Region", Type: tPicklist, Values: []string{"EMEA", "Americas", "APAC"}, Inactive: []string{"LATAM"},
				Create: true, Update: true, Custom: true},
			{Name: "Products_Of_Interest__c", Label: "Products of Interest", Type: tMultiPicklist, Values: []string{"Hardware", "Software", "Services"},
				Create: true, Update: true, Custom: true},
			{Name: "Margin__c", Label: "Margin", Type: tPercent, Scale: 2, Custom: true, Formula: true},
		},
		"account": {
			{Name: "Billing_Email__c", Label: "Billing Email", Type: tEmail, Length: 80, Create: true, Update: true, Custom: true},
			{Name: "Tier__c", Label: "Tier", Type: tPicklist, Values: []string{"Gold", "Silver", "Bronze"}, Create: true, Update: true, Custom: true},
		},
	}
}

// customFields returns the org's custom fields of o.
func (d *orgDB) customFields(o *object) []*field {
	if d.custom == nil {
		d.custom = defaultCustomFields()
	}
	return d.custom[strings.ToLower(o.Name)]
}

// fields are o's fields in this org: the standard ones, then the custom.
func (d *orgDB) fields(o *object) []*field {
	return append(slices.Clone(o.fields), d.customFields(o)...)
}

// field finds a field of o by name, case-insensitively, custom ones
// included; nil when the org has none.
func (d *orgDB) field(o *object, name string) *field {
	if f := o.field(name); f != nil {
		return f
	}
	for _, f := range d.customFields(o) {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// CustomField is a custom field a test adds to an object, as an admin
// does in Setup → Object Manager → Fields & Relationships.
type CustomField struct {
	// Name is the API name, ending in __c.
	Name  string
	Label string
	// Type is the describe type: string, textarea, email, phone, url,
	// picklist, multipicklist, double, int, percent, currency, date,
	// boolean.
	Type string
	// Values are a picklist's active values, Inactive its inactive ones.
	Values, Inactive []string
	Length           int
	Scale            int32
	// Formula: Salesforce computes it; no one writes it.
	Formula bool
}

// AddField adds a custom field to an object of an org, or replaces the
// one of that name (an admin changing its type).
func (s *Server) AddField(orgID, object string, cf CustomField) error {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if !d.visible(o) {
		return fmt.Errorf("sftest: no object %s in org %s", object, orgID)
	}
	if !strings.HasSuffix(cf.Name, "__c") {
		return fmt.Errorf("sftest: a custom field's name ends in __c, not %q", cf.Name)
	}
	if o.field(cf.Name) != nil {
		return fmt.Errorf("sftest: %s is a standard field of %s", cf.Name, o.Name)
	}
	var typ fieldType = -1
	for t, name := range describeTypes {
		if name == cf.Type && t != tID && t != tRef && t != tDateTime {
			typ = t
		}
	}
	if typ < 0 {
		return fmt.Errorf("sftest: no custom field type %q here", cf.Type)
	}
	f := &field{Name: cf.Name, Label: cf.Label, Type: typ, Values: cf.Values, Inactive: cf.Inactive, Length: cf.Length,
		Scale: cf.Scale, Create: !cf.Formula, Update: !cf.Formula, Custom: true, Formula: cf.Formula}
	d.customFields(o)
	key := strings.ToLower(o.Name)
	d.custom[key] = slices.DeleteFunc(d.custom[key], func(g *field) bool { return strings.EqualFold(g.Name, cf.Name) })
	d.custom[key] = append(d.custom[key], f)
	return nil
}

// RemoveField deletes a custom field of an object, with its values on
// every record (Salesforce keeps a deleted field aside for 15 days, but
// neither describe nor the API see it meanwhile). Standard fields cannot
// be deleted.
func (s *Server) RemoveField(orgID, object, name string) error {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if !d.visible(o) {
		return fmt.Errorf("sftest: no object %s in org %s", object, orgID)
	}
	if o.field(name) != nil {
		return fmt.Errorf("sftest: %s is a standard field of %s: it cannot be deleted", name, o.Name)
	}
	f := d.field(o, name)
	if f == nil {
		return fmt.Errorf("sftest: %s has no field %s", o.Name, name)
	}
	key := strings.ToLower(o.Name)
	d.custom[key] = slices.DeleteFunc(d.custom[key], func(g *field) bool { return g == f })
	tx := d.data.clone()
	for _, r := range tx.table(o) {
		delete(r, f.Name)
	}
	d.data = tx
	return nil
}

// label is a field's label: its own, or its name without the suffix.
func (f *field) label() string {
	if f.Label != "" {
		return f.Label
	}
	return strings.ReplaceAll(strings.TrimSuffix(f.Name, "__c"), "_", " ")
}

// describe answers GET /sobjects/{T}/describe: the object's properties and
// every field the org has on it, with the properties Salesforce's describe
// gives them (DescribeSObjectResult, Field).
func (d *orgDB) describe(o *object, version int) answer {
	var fields []map[string]any
	for _, f := range d.fields(o) {
		if !d.has(f) {
			continue
		}
		fields = append(fields, d.describeField(f))
	}
	return answer{status: http.StatusOK, body: map[string]any{
		"name": o.Name, "label": o.Label, "keyPrefix": o.Prefix, "custom": false, "queryable": true,
		"createable": o.Createable, "updateable": o.Updateable, "deletable": o.Deletable,
		"urls":   map[string]string{"describe": "/services/data/v" + strconv.Itoa(version) + ".0/sobjects/" + o.Name + "/describe"},
		"fields": fields,
	}}
}

func (d *orgDB) describeField(f *field) map[string]any {
	picklist := []map[string]any{}
	values := f.Values
	if f.Name == "CurrencyIsoCode" || f.Name == "IsoCode" || f.Name == "DefaultCurrencyIsoCode" {
		values = d.currencies
	}
	if f.Type == tPicklist || f.Type == tMultiPicklist {
		for _, v := range values {
			picklist = append(picklist, map[string]any{"value": v, "label": v, "active": true, "defaultValue": false, "validFor": nil})
		}
		for _, v := range f.Inactive {
			picklist = append(picklist, map[string]any{"value": v, "label": v, "active": false, "defaultValue": false, "validFor": nil})
		}
	}
	references := []string{}
	var relationship any
	if f.Type == tRef && f.Ref != "" {
		references = append(references, f.Ref)
		if f.Rel != "" {
			relationship = f.Rel
		}
	}
	precision := 0
	switch f.Type {
	case tCurrency, tDouble, tPercent:
		precision = 18
	case tInt:
		precision = 9
	}
	return map[string]any{
		"name": f.Name, "label": f.label(), "type": describeTypes[f.Type], "custom": f.Custom,
		"createable": f.Create, "updateable": f.Update, "calculated": f.Formula,
		"nillable": !f.Required && f.Type != tBool && f.Type != tID, "length": f.Length, "precision": precision, "scale": f.Scale,
		"picklistValues": picklist, "restrictedPicklist": f.Type == tPicklist && len(values) > 0,
		"referenceTo": references, "relationshipName": relationship,
		"externalId": f.ExtID, "unique": f.Unique, "caseSensitive": f.CaseSensitive,
	}
}
