package pipedrive

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Pipedrive describes its deal and organization fields for the admin's
// field mappings through the Fields API v2 (GET /api/v2/dealFields and
// /api/v2/organizationFields, Cost 10 a page, cursor-paged, 500 a page at
// most). The v1 endpoints (/v1/dealFields) are older and cost twice as
// much; the v2 ones are those Pipedrive points to now.
//
// v2 has no flag for writability: v1's edit_flag (which the brief of this
// work took for it) became is_custom_field, it only ever said whether the
// field was made by a person. So a custom field is writable, and a built-in
// one is when the v2 update of its object (PATCH /api/v2/deals/{id},
// /organizations/{id}) takes it; the rest (add_time, weighted_value, ...)
// are Pipedrive's to compute.

var _ crm.Describer = (*Adapter)(nil)

// fieldPaths are the Fields API's lists of Qwoty's mapping objects.
var fieldPaths = map[string]string{"deal": "/api/v2/dealFields", "customer": "/api/v2/organizationFields"}

// writableStandard are the built-in fields the v2 updates take.
var writableStandard = map[string]map[string]bool{
	"deal": {"title": true, "value": true, "stage_id": true, "status": true, "owner_id": true, "org_id": true, "person_id": true,
		"pipeline_id": true, "expected_close_date": true, "probability": true, "lost_reason": true, "visible_to": true,
		"label_ids": true, "close_time": true, "won_time": true, "lost_time": true},
	"customer": {"name": true, "owner_id": true, "address": true, "visible_to": true, "label_ids": true},
}

// fieldTypes translate Pipedrive's field_type into Qwoty's; the others
// (set: several options, daterange, time, timerange, address, user, org,
// people, ...) are TypeOther, which no mapping carries. A multiple-option
// set could hold one value, but writing it means an array of option ids and
// reading it several labels: left out.
var fieldTypes = map[string]qwoty.FieldType{
	"varchar": qwoty.TypeText, "varchar_auto": qwoty.TypeText, "text": qwoty.TypeText, "phone": qwoty.TypeText,
	"enum": qwoty.TypePicklist, "double": qwoty.TypeNumber, "int": qwoty.TypeNumber, "monetary": qwoty.TypeCurrency,
	"date": qwoty.TypeDate, "boolean": qwoty.TypeBoolean,
	// A deal's status: open, won or lost (the options' ids).
	"status": qwoty.TypePicklist,
	// A deal's stage: described as the stage map's values (see Fields).
	"stage": qwoty.TypePicklist,
}

// customCode is a custom field's code: "randomly generated 40-character
// hashes".
var customCode = regexp.MustCompile(`^[0-9a-f]{40}$`)

// apiField is a field as the Fields API v2 answers it.
type apiField struct {
	Code    string `json:"field_code"`
	Name    string `json:"field_name"`
	Type    string `json:"field_type"`
	Custom  bool   `json:"is_custom_field"`
	Options []struct {
		ID    any    `json:"id"` // a number for custom fields, a string for built-in ones
		Label string `json:"label"`
	} `json:"options"`
}

// optionID is an option's id as text.
func optionID(id any) string {
	switch v := id.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// Fields implements crm.Describer. The deal's stage_id is described as a
// picklist whose options are the stage map's values ("open", "won",
// "lost", and "stage:<id>" for each stage, read from GET /api/v2/stages),
// so that a status mapping's value map speaks as the sync settings' stage
// map and the push and the pull do: one Pipedrive field for a deal's
// status and stage, as the push writes them.
func (a *Adapter) Fields(ctx context.Context, s crm.Session, b crm.Budget, object string) ([]qwoty.CRMField, error) {
	path, ok := fieldPaths[object]
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Map deal or customer fields.", "no object %q", object)
	}
	p := &pusher{y: &Syncer{http: a.o.HTTP}, s: s, b: b}
	raw, err := p.fieldList(ctx, path)
	if err != nil {
		return nil, err
	}
	out := make([]qwoty.CRMField, 0, len(raw))
	for _, f := range raw {
		t, ok := fieldTypes[f.Type]
		if !ok {
			t = qwoty.TypeOther
		}
		custom := f.Custom || customCode.MatchString(f.Code)
		cf := qwoty.CRMField{Name: f.Code, Label: f.Name, Type: t, Custom: custom,
			Writable: custom || writableStandard[object][f.Code]}
		switch {
		case f.Type == "stage" && object == "deal":
			if cf.Options, err = p.stageOptions(ctx); err != nil {
				return nil, err
			}
			cf.Label = f.Name + " (or status: open, won, lost)"
		case f.Type == "status":
			for _, o := range f.Options {
				if id := optionID(o.ID); id != "" && id != "deleted" {
					cf.Options = append(cf.Options, id)
				}
			}
		case t == qwoty.TypePicklist:
			for _, o := range f.Options {
				cf.Options = append(cf.Options, o.Label)
			}
		}
		out = append(out, cf)
	}
	return out, nil
}

// StandardField implements crm.Describer. An organization has no email
// field (its persons have them), so customer.email has no standard
// mapping; nor has quote.created (a deal's add_time is Pipedrive's).
func (a *Adapter) StandardField(key string) string {
	return map[string]string{"customer.name": "name", "quote.total": "value", "quote.status": "stage_id"}[key]
}

// fieldList reads every field of a Fields API list, 500 a page.
func (p *pusher) fieldList(ctx context.Context, path string) ([]apiField, error) {
	var all []apiField
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []apiField
		var next string
		if err := p.do(ctx, request{method: http.MethodGet, path: path, query: q, cost: costList, next: &next}, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}

// textField finds the custom text field name of an object (its fields
// listed at listPath, made at addPath; title names the object, what says
// what Qwoty keeps in it) and returns its code: "" when there is none and
// create is false, else it makes it. Pipedrive does not keep field names
// unique: two runs that both found none (two order jobs at once, two
// instances) each make one. So the first field of the name, as Pipedrive
// lists them (oldest first), is the one, and a run that made a field lists
// them again and takes that first one: racing runs agree on one field,
// and a field made by an attempt whose answer was lost is found by its
// name the next time.
func (p *pusher) textField(ctx context.Context, listPath, addPath, title, name, what string, create bool) (string, error) {
	find := func() (string, error) {
		list, err := p.fieldList(ctx, listPath)
		if err != nil {
			return "", err
		}
		for _, f := range list {
			if !f.Custom || f.Name != name {
				continue
			}
			switch f.Type {
			case "varchar", "varchar_auto", "text":
				return f.Code, nil
			}
			return "", crm.Rejected(fmt.Errorf("the Pipedrive %s field %q is of type %s, where Qwoty %s as text: rename or delete it, Qwoty makes its own",
				title, name, f.Type, what))
		}
		return "", nil
	}
	code, err := find()
	if err != nil || code != "" || !create {
		return code, err
	}
	var made struct {
		Key string `json:"key"`
	}
	err = p.do(ctx, request{method: http.MethodPost, path: addPath, body: map[string]any{"name": name, "field_type": "varchar"},
		cost: costAddField}, &made)
	if err != nil {
		return "", fmt.Errorf("make the %s field %q: %w", title, name, err)
	}
	if made.Key == "" {
		return "", fmt.Errorf("Pipedrive's answer to the %s field's create names no key", title)
	}
	if code, err = find(); err != nil || code != "" {
		return code, err
	}
	return made.Key, nil
}

// stageOptions are the stage map's values: the deal's statuses, then
// "stage:<id>" for every stage of every pipeline.
func (p *pusher) stageOptions(ctx context.Context) ([]string, error) {
	opts := []string{StageOpen, StageWon, StageLost}
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []struct {
			ID int64 `json:"id"`
		}
		var next string
		if err := p.do(ctx, request{method: http.MethodGet, path: "/api/v2/stages", query: q, cost: costStages, next: &next}, &page); err != nil {
			return nil, err
		}
		for _, st := range page {
			opts = append(opts, StagePrefix+strconv.FormatInt(st.ID, 10))
		}
		if next == "" {
			return opts, nil
		}
		cursor = next
	}
}
