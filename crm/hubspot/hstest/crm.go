package hstest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// objectTypes are the CRM objects the emulator serves, with the scope that
// reads them and the properties a read without "properties" returns.
var objectTypes = map[string]struct {
	scope    string
	defaults []string
}{
	"deals":      {"crm.objects.deals.read", []string{"amount", "closedate", "dealname", "dealstage", "pipeline"}},
	"companies":  {"crm.objects.companies.read", []string{"domain", "name"}},
	"line_items": {"crm.objects.line_items.read", []string{"name", "quantity", "price", "amount", "hs_sku"}},
	"orders":     {OrderReadScope, []string{"hs_order_name", "hs_currency_code", "hs_total_price", "hs_pipeline", "hs_pipeline_stage"}},
}

// createdStamp dates every record, in HubSpot's millisecond form: the
// emulator keeps no history.
const createdStamp = "2026-01-15T09:30:00.000Z"

// readObject is GET /crm/v3/objects/{type}/{id}.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request) {
	typ, id := orderType(r.PathValue("type")), r.PathValue("id")
	ot, known := objectTypes[typ]
	s.calls.Add("read:" + typ)
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	if !s.limit(w, a.Grant.user.portal) {
		return
	}
	if !known || (typ == "orders" && a.Grant.user.portal.NoOrders) {
		noOrders(w, r.PathValue("type"))
		return
	}
	if !slices.Contains(a.Grant.scopes, ot.scope) {
		missingScopes(w, ot.scope)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	// idProperty names a property with unique values that id is a value
	// of (companies and deals here).
	var ie *inputError
	if typ == "companies" || typ == "deals" {
		id, ie = a.Grant.user.portal.byIDProperty(typ, q.Get("idProperty"), id)
	}
	props, assoc, found := s.record(a.Grant.user.portal, typ, id)
	s.mu.Unlock()
	if ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	if !found {
		// Assumed category: the v3 objects API answers a bare "resource
		// not found" with a 404.
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	body := map[string]any{
		"id": id, "properties": selectProperties(props, splitList(q["properties"]), ot.defaults, id),
		"createdAt": createdStamp, "updatedAt": createdStamp, "archived": false,
	}
	// Associations asked for and present are listed; an empty list is left
	// out (assumed, as the v3 API is observed to do).
	associations := map[string]any{}
	for _, to := range splitList(q["associations"]) {
		if list := assoc[to]; len(list) > 0 {
			associations[to] = map[string]any{"results": list}
		}
	}
	if len(associations) > 0 {
		body["associations"] = associations
	}
	writeJSON(w, http.StatusOK, body)
}

// record returns a record's stored properties and its associations by
// target type. s.mu is held.
func (s *Server) record(p *portal, typ, id string) (map[string]string, map[string][]map[string]string, bool) {
	switch typ {
	case "deals":
		d, ok := p.deals[id]
		if !ok {
			return nil, nil, false
		}
		props := map[string]string{"dealname": d.Name, "amount": d.Amount, "deal_currency_code": d.Currency,
			"dealstage": d.Stage, "pipeline": "default", "closedate": d.CloseDate}
		maps.Copy(props, p.dealExtra[id])
		return props, map[string][]map[string]string{"companies": companyAssociations(d.CompanyIDs), "line_items": p.dealLineItems(id)}, true
	case "companies":
		c, ok := p.companies[id]
		if !ok {
			return nil, nil, false
		}
		props := maps.Clone(c.Properties)
		if props == nil {
			props = map[string]string{}
		}
		props["name"] = c.Name
		return props, nil, true
	case "products":
		pr, ok := p.products[id]
		if !ok {
			return nil, nil, false
		}
		return maps.Clone(pr.Properties), nil, true
	case "contacts":
		c, ok := p.contacts[id]
		if !ok {
			return nil, nil, false
		}
		return maps.Clone(c.Properties), nil, true
	case "orders":
		o := p.orders[id]
		if o == nil {
			return nil, nil, false
		}
		return maps.Clone(o.Properties), o.associations(), true
	case "line_items":
		li := p.lineItems[id]
		if li == nil || li.archived {
			return nil, nil, false
		}
		props := li.json(nil)["properties"].(map[string]any)
		out := map[string]string{}
		for k, v := range props {
			out[k], _ = v.(string)
		}
		var assoc map[string][]map[string]string
		if li.deal != "" {
			assoc = map[string][]map[string]string{"deals": {{"id": li.deal, "type": "line_item_to_deal"}}}
		}
		return out, assoc, true
	}
	return nil, nil, false
}

// companyAssociations lists a deal's companies as the v3 objects API does:
// every company as "deal_to_company_unlabeled", and the primary one also as
// "deal_to_company", in id order, so that the primary one need not come
// first.
func companyAssociations(ids []string) []map[string]string {
	var out []map[string]string
	for i, id := range ids {
		out = append(out, map[string]string{"id": id, "type": "deal_to_company_unlabeled"})
		if i == 0 {
			out = append(out, map[string]string{"id": id, "type": "deal_to_company"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i]["id"]) != len(out[j]["id"]) {
			return len(out[i]["id"]) < len(out[j]["id"])
		}
		return out[i]["id"] < out[j]["id"]
	})
	return out
}

// selectProperties returns the properties asked for (the type's defaults
// when none are), unset ones as null, unknown names ignored, and the three
// every read carries: createdate, hs_lastmodifieddate, hs_object_id.
func selectProperties(stored map[string]string, asked, defaults []string, id string) map[string]any {
	if len(asked) == 0 {
		asked = defaults
	}
	out := map[string]any{}
	for _, name := range asked {
		v, known := stored[name]
		if !known && !slices.Contains(defaults, name) {
			continue
		}
		if v == "" {
			out[name] = nil
		} else {
			out[name] = v
		}
	}
	out["createdate"], out["hs_lastmodifieddate"], out["hs_object_id"] = createdStamp, createdStamp, id
	return out
}

// splitList reads a list query parameter, comma-separated, repeated, or both.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// bearer returns the live access token of an API request, or answers 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (emulator.Access[grant], bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		tok = ""
	}
	a, state := s.tokens.Authenticate(r, strings.TrimSpace(tok))
	switch state {
	case emulator.Unknown, emulator.Revoked:
		apiError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication.")
		return a, false
	case emulator.Expired:
		// Wording assumed from HubSpot's observed answer.
		apiError(w, http.StatusUnauthorized, "EXPIRED_AUTHENTICATION",
			fmt.Sprintf("The OAuth token used to make this call expired %d second(s) ago.", int64(s.Now().Sub(a.Expires)/time.Second)))
		return a, false
	}
	return a, true
}

// apiError answers HubSpot's documented error shape.
func apiError(w http.ResponseWriter, status int, category, message string) {
	body := map[string]any{"status": "error", "message": message, "correlationId": emulator.UUID()}
	if category != "" {
		body["category"] = category
	}
	writeJSON(w, status, body)
}
