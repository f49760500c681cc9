package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/qwoty/companion/crm"
)

// refPropertyKey names the qwoty_ref property in the schema links.
const refPropertyKey = "line_items." + RefProperty

// lineItemGroup is the line items' default property group (assumed name:
// "lineiteminformation", where HubSpot files line item properties).
const lineItemGroup = "lineiteminformation"

// ensureRefProperty makes the line item property qwoty_ref, with unique
// values, once per portal: the links remember it, so a push pays nothing
// for it afterwards. A property already there (made by an earlier push
// whose answer was lost, 409) is read back to check its values are unique.
func (p *push) ensureRefProperty(ctx context.Context) error {
	known, err := p.links.Find(ctx, linkSchema, []string{refPropertyKey})
	if err != nil {
		return fmt.Errorf("read the schema links: %w", err)
	}
	if _, ok := known[refPropertyKey]; ok {
		return nil
	}
	err = p.call(ctx, http.MethodPost, lineItemPropertiesPath, refPropertyDef(), nil)
	var ae *crm.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		var got struct {
			HasUniqueValue bool `json:"hasUniqueValue"`
		}
		if err = p.call(ctx, http.MethodGet, lineItemPropertiesPath+"/"+RefProperty, nil, &got); err == nil && !got.HasUniqueValue {
			return crm.Rejected(fmt.Errorf("the line item property %s exists in HubSpot without unique values, so Qwoty cannot find its line items by it: "+
				"delete it in HubSpot (Settings → Properties → Line items) and retry, Qwoty makes it again", RefProperty))
		}
	}
	if err != nil {
		return fmt.Errorf("make the line item property %s: %w", RefProperty, callError(err))
	}
	if err := p.links.Save(ctx, []crm.RefLink{{Object: linkSchema, Ref: refPropertyKey, CRMID: RefProperty, Hash: "unique"}}); err != nil {
		return fmt.Errorf("record the line item property %s: %w", RefProperty, err)
	}
	return nil
}

// refPropertyDef is the qwoty_ref property's definition: a text property
// with unique values.
func refPropertyDef() map[string]any {
	return map[string]any{
		"name": RefProperty, "label": "Qwoty reference", "type": "string", "fieldType": "text", "groupName": lineItemGroup,
		"hasUniqueValue": true,
		"description":    "Set by Qwoty on the line items it writes; Qwoty changes only the line items that carry it.",
	}
}

func errNotAnswered(what string) error {
	return fmt.Errorf("HubSpot's answer does not name %s", what)
}
