package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// The admin's mapped fields (crm.Deal.Fields) are written on the
// opportunity in the deal's own update. The engine formats each value as
// text for the field's type; JSON wants numbers and checkboxes as numbers
// and booleans, so the push reads the Opportunity's field types from the
// describe (cached per connection for typesTTL, read again at once for a
// field it does not name) and converts them. A field the describe does not
// know is sent as text: Salesforce refuses it (INVALID_FIELD) with its own
// words, which fail the deal.

// syncWritten are the opportunity's fields sync writes by its own rules
// (the stage from the status, the Amount only while it has no products,
// the currency and price book its lines need): a mapping onto them (the
// standard quote.total → Amount, quote.status → StageName) is carried by
// those rules, not written a second time.
var syncWritten = []string{"id", "stagename", "amount", "currencyisocode", "pricebook2id"}

// mapped returns a deal's mapped fields that this file writes, by name.
func mapped(d crm.Deal) []string {
	var out []string
	for name := range d.Fields {
		if !slices.Contains(syncWritten, strings.ToLower(name)) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// prepareFields converts the mapped fields of the ready deals into their
// JSON values (dealCtx.fields) and returns the deals still ready: a value
// that is not of its field's type fails its deal, a describe that fails
// fails the deals that have mapped fields.
func (p *push) prepareFields(ctx context.Context, ready []int) []int {
	var names []string
	for _, i := range ready {
		names = append(names, mapped(p.deals[i])...)
	}
	if len(names) == 0 {
		return ready
	}
	types, ok := knownTypes(p.conn.ID, names, p.s.now())
	if !ok {
		fs, err := p.describe(ctx, objOpportunity)
		if err != nil {
			err = p.callError(ctx, err)
			var wait *crm.WaitError
			if errors.As(err, &wait) {
				p.failRest(err)
				return nil
			}
			var rest []int
			for _, i := range ready {
				if len(mapped(p.deals[i])) > 0 {
					p.finish(i, fmt.Errorf("salesforce: describe Opportunity for the mapped fields: %w", err))
				} else {
					rest = append(rest, i)
				}
			}
			return rest
		}
		rememberTypes(p.conn.ID, fs, p.s.now())
		types, _ = knownTypes(p.conn.ID, nil, p.s.now())
	}
	var out []int
	for _, i := range ready {
		vals, err := mappedValues(p.deals[i], types)
		if err != nil {
			p.finish(i, crm.Rejected(err))
			continue
		}
		p.ctxs[i].fields = vals
		out = append(out, i)
	}
	return out
}

// mappedValues converts a deal's mapped values by their fields' describe
// types: "" clears the field (null), a number goes as a JSON number, a
// checkbox as a boolean, anything else as the text.
func mappedValues(d crm.Deal, types map[string]string) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range mapped(d) {
		v := d.Fields[name]
		if v == "" {
			out[name] = nil
			continue
		}
		switch types[strings.ToLower(name)] {
		case "boolean":
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("the mapped value %q for the opportunity's checkbox %s is neither true nor false", v, name)
			}
			out[name] = b
		case "double", "int", "long", "percent", "currency":
			n, err := decimal.NewFromString(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("the mapped value %q for the opportunity's number field %s is not a number", v, name)
			}
			out[name] = json.Number(n.String())
		default:
			out[name] = v
		}
	}
	return out, nil
}

// fieldsHash are the parts of the opportunity's hash its mapped values
// add: none without mappings, so that a deal's hash is what it was before
// mappings existed.
func fieldsHash(d crm.Deal) []string {
	var out []string
	for _, name := range mapped(d) {
		out = append(out, name+"="+d.Fields[name])
	}
	return out
}

// fieldRefusals are the refusals of a record that say a field is not what
// the push took it for.
var fieldRefusals = map[string]bool{"INVALID_FIELD": true, "INVALID_FIELD_FOR_INSERT_UPDATE": true, "INVALID_TYPE_ON_FIELD_IN_RECORD": true}
