package pipedrive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// The admin's mapped fields (crm.Deal.Fields, by field code, formatted as
// text) ride on the deal's own PATCH. A built-in field goes at the body's
// top level, a custom one (a 40-character hash) under custom_fields, as v2
// nests them. Values take the field's type: numbers as JSON numbers, a
// monetary field as {value, currency} (the quote's currency), a single
// option as its option id (found by the label the mapping holds), a date
// as "YYYY-MM-DD", "" as null (clearing it). The company's deal fields are
// read once a push (Cost 10), and only when a deal carries a custom field.

// standardWrites are how the built-in deal fields a mapping may write take
// their values: "stage" through the stage map's values (stage_id and
// status alike), "number", "date" or "text".
var standardWrites = map[string]struct{ kind string }{
	"stage_id": {"stage"}, "status": {"stage"}, "value": {"number"}, "probability": {"number"},
	"title": {"text"}, "lost_reason": {"text"}, "expected_close_date": {"date"},
}

// mappedFields adds the deal's mapped fields to body, the deal's PATCH.
func (w *dealWrite) mappedFields(ctx context.Context, body map[string]any) error {
	if len(w.d.Fields) == 0 {
		return nil
	}
	codes := make([]string, 0, len(w.d.Fields))
	for k := range w.d.Fields {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	custom := map[string]any{}
	for _, code := range codes {
		v := w.d.Fields[code]
		if customCode.MatchString(code) {
			defs, err := w.p.fieldDefs(ctx)
			if err != nil {
				return w.dealError(ctx, err)
			}
			f, ok := defs[code]
			if !ok {
				return crm.Rejected(fmt.Errorf("the mapped deal field %s is not in Pipedrive (deleted?): fix the field mapping", code))
			}
			val, err := customValue(f, v, w.d.Primary.Currency)
			if err != nil {
				return crm.Rejected(err)
			}
			custom[code] = val
			continue
		}
		if err := standardValue(body, code, v); err != nil {
			return crm.Rejected(err)
		}
	}
	if len(custom) > 0 {
		body["custom_fields"] = custom
	}
	return nil
}

// standardValue sets a built-in field of the deal's PATCH.
func standardValue(body map[string]any, code, v string) error {
	sw, ok := standardWrites[code]
	if !ok {
		return fmt.Errorf("the deal field %s cannot be written by a field mapping", code)
	}
	if v == "" {
		if code == "lost_reason" || code == "expected_close_date" || code == "probability" {
			body[code] = nil
		}
		return nil // a stage, a status, a title or a value is never cleared
	}
	switch sw.kind {
	case "stage":
		fs, err := stageFields(v)
		if err != nil {
			return err
		}
		for k, x := range fs {
			body[k] = x
		}
	case "number":
		n, err := number(code, v, false)
		if err != nil {
			return err
		}
		body[code] = n
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("the deal field %s takes a date (YYYY-MM-DD), not %q", code, v)
		}
		body[code] = v
	default:
		body[code] = v
	}
	return nil
}

// customValue is a custom field's value in the v2 write form.
func customValue(f apiField, v, currency string) (any, error) {
	if v == "" {
		return nil, nil // null clears it
	}
	switch f.Type {
	case "varchar", "varchar_auto", "text", "phone":
		return v, nil
	case "double":
		return number(f.Name, v, false)
	case "int":
		return number(f.Name, v, true)
	case "monetary":
		n, err := number(f.Name, v, false)
		if err != nil {
			return nil, err
		}
		m := map[string]any{"value": n}
		if currency != "" {
			m["currency"] = currency
		}
		return m, nil
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return nil, fmt.Errorf("the deal field %q takes a date (YYYY-MM-DD), not %q", f.Name, v)
		}
		return v, nil
	case "enum":
		for _, o := range f.Options {
			if strings.EqualFold(o.Label, v) {
				if id, err := strconv.ParseInt(optionID(o.ID), 10, 64); err == nil {
					return id, nil
				}
			}
		}
		return nil, fmt.Errorf("the deal field %q has no option %q", f.Name, v)
	}
	return nil, fmt.Errorf("the deal field %q is of Pipedrive's type %s, which a field mapping cannot write", f.Name, f.Type)
}

// number is v as a JSON number, exactly as written.
func number(name, v string, integer bool) (json.Number, error) {
	d, err := decimal.NewFromString(v)
	if err != nil || (integer && !d.IsInteger()) {
		return "", fmt.Errorf("the deal field %q takes a number, not %q", name, v)
	}
	return json.Number(d.String()), nil
}

// fieldDefs reads the company's deal fields once a push.
func (p *pusher) fieldDefs(ctx context.Context) (map[string]apiField, error) {
	p.fieldsMu.Lock()
	defer p.fieldsMu.Unlock()
	p.mu.Lock()
	defs := p.dealFields
	p.mu.Unlock()
	if defs != nil {
		return defs, nil
	}
	list, err := p.fieldList(ctx, fieldPaths["deal"])
	if err != nil {
		return nil, err
	}
	defs = make(map[string]apiField, len(list))
	for _, f := range list {
		defs[f.Code] = f
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dealFields == nil {
		p.dealFields = defs
	}
	return p.dealFields, nil
}
