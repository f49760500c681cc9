package pdtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// The Fields API v2 (developers.pipedrive.com/docs/api/v1/DealFields, the
// v2 endpoints; announced in the changelog's "Introducing new Fields API
// v2"): GET /api/v2/dealFields and GET /api/v2/organizationFields, Cost 10
// each, cursor-paged like the v2 lists (limit 100 by default, at most 500).
// A field is {field_code, field_name, field_type, options, subfields,
// is_custom_field, is_optional_response_field}; a custom field's code is a
// 40-character hash, an option is {id, label} (ids are integers for custom
// fields, strings for built-in ones). v2 says nothing of a field's
// writability: the v1 edit_flag became is_custom_field.
//
// A v2 deal (and organization) carries its custom fields' values in its
// custom_fields object, keyed by those hashes, every custom field of the
// company there (null without a value); a PATCH writes them there: a
// single option (enum) by its option id, a multiple option field (set) as
// an array of ids, a monetary field as {value, currency}, null clearing
// any. The
// migration guide: "For multi-option fields (field type set), use null to
// clear the selection — sending an empty array [] is not supported".
//
// Assumed: a PATCH naming a custom field the company does not have (deleted,
// or never made) is refused with 400 rather than ignored, as a value of the
// wrong type is; the messages of those 400s; GET /api/v2/stages (Cost 5 in
// third-party copies of the v2 OpenAPI document) lists every stage of every
// pipeline, cursor-paged.

// Field is a deal or organization field of a company.
type Field struct {
	// Code is the field_code: a standard field's name ("title"), a custom
	// field's 40-character hash (AddField makes one when empty).
	Code string
	Name string
	// Type is Pipedrive's field_type: varchar, varchar_auto, text, phone,
	// double, int, monetary, date, enum, set, address, user, org, people,
	// stage, status, ...
	Type string
	// Options are an enum's or a set's options.
	Options []FieldOption
	Custom  bool
}

// FieldOption is an option of an enum or set field.
type FieldOption struct {
	ID    int64
	Label string
}

// Field objects.
const (
	DealFields = "deal"
	OrgFields  = "organization"
)

// The default custom fields every company starts with.
const (
	FieldQuoteNumber = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" // varchar "Quote number"
	FieldPlan        = "b2c3d4e5f60718293a4b5c6d7e8f901234567890" // enum "Plan": Basic 11, Pro 12, Enterprise 13
	FieldQuotedTotal = "c3d4e5f60718293a4b5c6d7e8f90123456789012" // monetary "Quoted total"
	FieldValidUntil  = "d4e5f60718293a4b5c6d7e8f9012345678901234" // date "Quote valid until"
	FieldSeats       = "e5f60718293a4b5c6d7e8f901234567890123456" // double "Seats"
	FieldTags        = "f60718293a4b5c6d7e8f90123456789012345678" // set "Tags"
	FieldSegment     = "0718293a4b5c6d7e8f9012345678901234567890" // organization enum "Segment"
)

// standardDealFields are the built-in deal fields the emulator shows.
// weighted_value, add_time and update_time are Pipedrive's to compute.
var standardDealFields = []Field{
	{Code: "title", Name: "Title", Type: "varchar"},
	{Code: "value", Name: "Value", Type: "monetary"},
	{Code: "weighted_value", Name: "Weighted value", Type: "monetary"},
	{Code: "stage_id", Name: "Stage", Type: "stage"},
	{Code: "status", Name: "Status", Type: "status"},
	{Code: "owner_id", Name: "Owner", Type: "user"},
	{Code: "org_id", Name: "Organization", Type: "org"},
	{Code: "person_id", Name: "Contact person", Type: "people"},
	{Code: "expected_close_date", Name: "Expected close date", Type: "date"},
	{Code: "probability", Name: "Probability", Type: "double"},
	{Code: "lost_reason", Name: "Lost reason", Type: "varchar"},
	{Code: "add_time", Name: "Deal created", Type: "date"},
	{Code: "update_time", Name: "Update time", Type: "date"},
}

var standardOrgFields = []Field{
	{Code: "name", Name: "Name", Type: "varchar"},
	{Code: "owner_id", Name: "Owner", Type: "user"},
	{Code: "address", Name: "Address", Type: "address"},
	{Code: "add_time", Name: "Organization created", Type: "date"},
	{Code: "update_time", Name: "Update time", Type: "date"},
}

func defaultCustomDealFields() []Field {
	return []Field{
		{Code: FieldQuoteNumber, Name: "Quote number", Type: "varchar", Custom: true},
		{Code: FieldPlan, Name: "Plan", Type: "enum", Custom: true,
			Options: []FieldOption{{11, "Basic"}, {12, "Pro"}, {13, "Enterprise"}}},
		{Code: FieldQuotedTotal, Name: "Quoted total", Type: "monetary", Custom: true},
		{Code: FieldValidUntil, Name: "Quote valid until", Type: "date", Custom: true},
		{Code: FieldSeats, Name: "Seats", Type: "double", Custom: true},
		{Code: FieldTags, Name: "Tags", Type: "set", Custom: true, Options: []FieldOption{{21, "VIP"}, {22, "Renewal"}}},
	}
}

func defaultCustomOrgFields() []Field {
	return []Field{{Code: FieldSegment, Name: "Segment", Type: "enum", Custom: true,
		Options: []FieldOption{{31, "SMB"}, {32, "Enterprise"}}}}
}

// fieldsOf returns a company's fields of an object, the defaults made on
// first use. s.mu is held.
func (c *company) fieldsOf(object string) []Field {
	if c.fields == nil {
		c.fields = map[string][]Field{
			DealFields: append(slices.Clone(standardDealFields), defaultCustomDealFields()...),
			OrgFields:  append(slices.Clone(standardOrgFields), defaultCustomOrgFields()...),
		}
		c.custom = map[int64]map[string]json.RawMessage{}
	}
	return c.fields[object]
}

// AddField adds a custom field to a company's deal or organization fields
// (a person adding it in Settings) and returns its code, a fresh hash unless
// f names one.
func (s *Server) AddField(companyID int64, object string, f Field) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	fs := c.fieldsOf(object)
	if f.Code == "" {
		f.Code = emulator.RandomHex(20)
	}
	f.Custom = true
	c.fields[object] = append(fs, f)
	return f.Code
}

// DeleteField deletes a field of a company: it is listed no more, and a
// deal's value of it is gone.
func (s *Server) DeleteField(companyID int64, object, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	fs := c.fieldsOf(object)
	c.fields[object] = slices.DeleteFunc(slices.Clone(fs), func(f Field) bool { return f.Code == code })
	if object == DealFields {
		for _, vs := range c.custom {
			delete(vs, code)
		}
	}
}

// SetDealCustomField sets a deal's custom field value as a person would
// in Pipedrive (value as its JSON, "null" clearing it) and dates the
// deal's change at.
func (s *Server) SetDealCustomField(companyID, dealID int64, code, value string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	c.fieldsOf(DealFields)
	if c.custom == nil {
		c.custom = map[int64]map[string]json.RawMessage{}
	}
	if c.custom[dealID] == nil {
		c.custom[dealID] = map[string]json.RawMessage{}
	}
	c.custom[dealID][code] = json.RawMessage(value)
	if d, ok := c.deals[dealID]; ok {
		d.Updated = at
		c.deals[dealID] = d
	}
}

// DealCustomFields returns a deal's custom field values as its JSON shows
// them (a number as json.Number).
func (s *Server) DealCustomFields(companyID, dealID int64) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCompany(companyID)
	c.fieldsOf(DealFields)
	out := map[string]any{}
	for k, raw := range c.custom[dealID] {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		_ = d.Decode(&v)
		out[k] = v
	}
	return out
}

// fieldJSON is a field as the Fields API v2 shows it.
func fieldJSON(f Field) map[string]any {
	var opts, subs any
	if len(f.Options) > 0 {
		os := []any{}
		for _, o := range f.Options {
			os = append(os, map[string]any{"id": o.ID, "label": o.Label, "color": nil,
				"add_time": created.Format(time.RFC3339), "update_time": nil})
		}
		opts = os
	}
	if f.Code == "status" {
		opts = []any{map[string]any{"id": "open", "label": "Open"}, map[string]any{"id": "won", "label": "Won"},
			map[string]any{"id": "lost", "label": "Lost"}, map[string]any{"id": "deleted", "label": "Deleted"}}
	}
	if f.Type == "monetary" {
		subs = []any{map[string]any{"field_code": "value", "field_name": "Amount of " + f.Name, "field_type": "double"},
			map[string]any{"field_code": "currency", "field_name": "Currency of " + f.Name, "field_type": "varchar"}}
	}
	return map[string]any{"field_code": f.Code, "field_name": f.Name, "description": "", "field_type": f.Type,
		"options": opts, "subfields": subs, "is_custom_field": f.Custom, "is_optional_response_field": false}
}

// listFields answers GET /api/v2/dealFields and organizationFields.
func (s *Server) listFields(object string, scopes ...string) func(http.ResponseWriter, *http.Request, *user) {
	return func(w http.ResponseWriter, r *http.Request, u *user) {
		if !s.granted(w, scopes...) {
			return
		}
		s.mu.Lock()
		var items []listed
		for i, f := range u.company.fieldsOf(object) {
			items = append(items, listed{id: int64(i), updated: created, json: fieldJSON(f)})
		}
		s.mu.Unlock()
		s.answerList(w, r, listSpec{sorts: []string{"id"}}, items)
	}
}

// listStages answers GET /api/v2/stages: every stage of every pipeline.
func (s *Server) listStages(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:read", "deals:full") {
		return
	}
	s.mu.Lock()
	var items []listed
	for _, p := range u.company.Pipelines {
		for i, st := range p.Stages {
			items = append(items, listed{id: st.ID, updated: created, json: map[string]any{"id": st.ID, "order_nr": i + 1,
				"name": st.Name, "pipeline_id": p.ID, "is_deleted": false, "deal_probability": 100,
				"add_time": created.Format(time.RFC3339), "update_time": created.Format(time.RFC3339)}})
		}
	}
	s.mu.Unlock()
	s.answerList(w, r, listSpec{sorts: []string{"id"}}, items)
}

// customJSON is a deal's custom_fields object: every custom field of the
// company, null when the deal has no value. s.mu is held.
func (c *company) customJSON(dealID int64) map[string]any {
	out := map[string]any{}
	for _, f := range c.fieldsOf(DealFields) {
		if !f.Custom {
			continue
		}
		if raw, ok := c.custom[dealID][f.Code]; ok {
			out[f.Code] = raw
		} else {
			out[f.Code] = nil
		}
	}
	return out
}

// checkCustom checks a PATCH's custom_fields object against the company's
// deal fields and returns the values to store (nil: cleared), or the 400's
// message. s.mu is held.
func (c *company) checkCustom(raw json.RawMessage) (map[string]json.RawMessage, string) {
	return c.checkCustomOf(DealFields, raw)
}

// checkCustomOf is checkCustom against the company's fields of object.
func (c *company) checkCustomOf(object string, raw json.RawMessage) (map[string]json.RawMessage, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, "body/custom_fields must be object"
	}
	fields := c.fieldsOf(object)
	out := map[string]json.RawMessage{}
	for code, v := range obj {
		i := slices.IndexFunc(fields, func(f Field) bool { return f.Custom && f.Code == code })
		if i < 0 {
			return nil, fmt.Sprintf("body/custom_fields/%s is not a custom field of %ss", code, object)
		}
		v = bytes.TrimSpace(v)
		if string(v) == "null" {
			out[code] = nil
			continue
		}
		if msg := checkValue(fields[i], v); msg != "" {
			return nil, "body/custom_fields/" + code + " " + msg
		}
		out[code] = v
	}
	return out, ""
}

// checkValue checks one custom field's value against its type.
func checkValue(f Field, v json.RawMessage) string {
	isNumber := func(v json.RawMessage) bool {
		var n json.Number
		return len(v) > 0 && v[0] != '"' && json.Unmarshal(v, &n) == nil
	}
	switch f.Type {
	case "varchar", "varchar_auto", "text", "phone":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "must be string"
		}
		if f.Type != "text" && len([]rune(s)) > 255 {
			return "must NOT have more than 255 characters"
		}
	case "double":
		if !isNumber(v) {
			return "must be number"
		}
	case "int":
		if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
			return "must be integer"
		}
	case "date":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "must be string"
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "must match format \"date\""
		}
	case "monetary":
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil || m == nil {
			return "must be object"
		}
		if !isNumber(m["value"]) {
			return "/value must be number"
		}
		if cur, ok := m["currency"]; ok {
			var s string
			if json.Unmarshal(cur, &s) != nil || len(s) != 3 {
				return "/currency must be a 3-letter currency code"
			}
		}
	case "enum":
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return "must be integer"
		}
		if !slices.ContainsFunc(f.Options, func(o FieldOption) bool { return o.ID == id }) {
			return "must be one of the field's option ids"
		}
	case "set":
		var ids []int64
		if json.Unmarshal(v, &ids) != nil {
			return "must be array of integers"
		}
		if len(ids) == 0 {
			return "must NOT have fewer than 1 items"
		}
		for _, id := range ids {
			if !slices.ContainsFunc(f.Options, func(o FieldOption) bool { return o.ID == id }) {
				return "must be the field's option ids"
			}
		}
	}
	return ""
}

// costAddField is a v1 write's cost in the rate-limiting table (10): the
// reference's own figure for "Add a new deal field" is assumed to match.
const costAddField = 10

// addDealField is POST /api/v1/dealFields, "Add a new deal field" (the
// custom fields guide: name and field_type are required; the field is made
// with a fresh 40-character key): the v1 answer, data {id, key, name,
// field_type, ...}. Two fields may share a name, as in Pipedrive. Assumed:
// the scope (deals:full), enum and set fields' options left out (refused
// here), the 400s' messages, a 200 answer.
func (s *Server) addDealField(w http.ResponseWriter, r *http.Request, u *user) {
	s.addField(w, r, u, DealFields, "deals:full")
}

// addOrgField is POST /api/v1/organizationFields, "Add a new organization
// field": as addDealField, with contacts:full (assumed).
func (s *Server) addOrgField(w http.ResponseWriter, r *http.Request, u *user) {
	s.addField(w, r, u, OrgFields, "contacts:full")
}

// addField adds a custom field of kind (DealFields, OrgFields), as the v1 "Add a new ... field"
// endpoints do.
func (s *Server) addField(w http.ResponseWriter, r *http.Request, u *user, kind, scope string) {
	if !s.granted(w, scope) {
		return
	}
	obj, ok := object(w, r)
	if !ok {
		return
	}
	c := &checker{path: "body"}
	name, _ := c.text(obj, "name", true)
	typ, _ := c.oneOf(obj, "field_type", "varchar", "varchar_auto", "text", "double", "monetary", "date", "int", "phone")
	if c.refused(w) {
		return
	}
	switch {
	case strings.TrimSpace(name) == "":
		apiError(w, http.StatusBadRequest, "body/name must NOT be empty")
		return
	case typ == "":
		apiError(w, http.StatusBadRequest, "body must have required property 'field_type'")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	comp := u.company
	fs := comp.fieldsOf(kind)
	f := Field{Code: emulator.RandomHex(20), Name: name, Type: typ, Custom: true}
	comp.fields[kind] = append(fs, f)
	success(w, map[string]any{"id": 12000 + len(fs), "key": f.Code, "name": f.Name, "field_type": f.Type,
		"order_nr": len(fs), "add_time": s.Now().UTC().Format(time.DateTime), "update_time": s.Now().UTC().Format(time.DateTime),
		"active_flag": true, "edit_flag": true, "add_visible_flag": true, "mandatory_flag": false, "important_flag": false,
		"bulk_edit_allowed": true, "searchable_flag": false, "filtering_allowed": true, "sortable_flag": true})
}

// FieldsNamed returns the codes of a company's custom fields of an object
// named name, in their order.
func (s *Server) FieldsNamed(companyID int64, object, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range s.mustCompany(companyID).fieldsOf(object) {
		if f.Custom && f.Name == name {
			out = append(out, f.Code)
		}
	}
	return out
}
