package hstest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Reading all of an object type's properties (GET
// /crm/properties/{version}/{objectType}), which the admin's field mappings
// list, and the checks a deal update's values meet: a property must exist
// (PROPERTY_DOESNT_EXIST), take values (not read-only or calculated), and
// hold a value of its type (a number, an option of an enumeration, a date
// at midnight UTC in epoch milliseconds, as HubSpot's timestamp FAQ says).

// builtinProperties are HubSpot's own properties of deals and companies that
// the emulator serves: a few of each account's defaults, enough for the
// mappings' kinds (text, number, money, date, datetime, enumeration, a
// calculated one).
var builtinProperties = map[string][]Property{
	"deals": {
		{Name: "dealname", Label: "Deal Name", Type: "string", FieldType: "text"},
		{Name: "amount", Label: "Amount", Type: "number", FieldType: "number", ShowCurrencySymbol: true},
		{Name: "dealstage", Label: "Deal Stage", Type: "enumeration", FieldType: "select", Options: dealStageOptions()},
		{Name: "pipeline", Label: "Pipeline", Type: "enumeration", FieldType: "select", Options: []PropertyOption{{Label: "Sales Pipeline", Value: "default"}}},
		{Name: "closedate", Label: "Close Date", Type: "datetime", FieldType: "date"},
		{Name: "deal_currency_code", Label: "Currency", Type: "enumeration", FieldType: "select",
			Options: []PropertyOption{{Label: "Euro", Value: "EUR"}, {Label: "US Dollar", Value: "USD"}, {Label: "Pound Sterling", Value: "GBP"}}},
		{Name: "description", Label: "Deal Description", Type: "string", FieldType: "textarea"},
		// hs_forecast_amount is computed by HubSpot (amount × stage
		// probability): calculated, read-only.
		{Name: "hs_forecast_amount", Label: "Forecast amount", Type: "number", FieldType: "calculation_equation", Calculated: true, ShowCurrencySymbol: true},
		{Name: "createdate", Label: "Create Date", Type: "datetime", FieldType: "date", ReadOnly: true},
		{Name: "hs_lastmodifieddate", Label: "Last Modified Date", Type: "datetime", FieldType: "date", ReadOnly: true},
		{Name: "hs_object_id", Label: "Record ID", Type: "number", FieldType: "number", ReadOnly: true},
	},
	"companies": {
		{Name: "name", Label: "Company name", Type: "string", FieldType: "text"},
		{Name: "domain", Label: "Company Domain Name", Type: "string", FieldType: "text"},
		{Name: "phone", Label: "Phone Number", Type: "string", FieldType: "phonenumber"},
		{Name: "address", Label: "Street Address", Type: "string", FieldType: "text"},
		{Name: "city", Label: "City", Type: "string", FieldType: "text"},
		{Name: "zip", Label: "Postal Code", Type: "string", FieldType: "text"},
		{Name: "state", Label: "State/Region", Type: "string", FieldType: "text"},
		{Name: "country", Label: "Country/Region", Type: "string", FieldType: "text"},
		{Name: "description", Label: "Description", Type: "string", FieldType: "textarea"},
		{Name: "annualrevenue", Label: "Annual Revenue", Type: "number", FieldType: "number", ShowCurrencySymbol: true},
		{Name: "industry", Label: "Industry", Type: "enumeration", FieldType: "select",
			Options: []PropertyOption{{Label: "Computer Software", Value: "COMPUTER_SOFTWARE"}, {Label: "Retail", Value: "RETAIL"}}},
		{Name: "hs_is_target_account", Label: "Target Account", Type: "bool", FieldType: "booleancheckbox"},
		{Name: "createdate", Label: "Create Date", Type: "datetime", FieldType: "date", ReadOnly: true},
		{Name: "hs_object_id", Label: "Record ID", Type: "number", FieldType: "number", ReadOnly: true},
		// A hidden property HubSpot keeps for itself.
		{Name: "hs_analytics_source_data_1", Label: "Original Source Drill-Down 1", Type: "string", FieldType: "text", ReadOnly: true, Hidden: true},
	},
}

func init() {
	for typ, defs := range builtinProperties {
		for i := range defs {
			builtinProperties[typ][i].HubSpotDefined = true
			builtinProperties[typ][i].GroupName = strings.TrimSuffix(typ, "s") + "information"
		}
	}
}

func dealStageOptions() []PropertyOption {
	out := make([]PropertyOption, 0, len(DealStages))
	for _, st := range DealStages {
		out = append(out, PropertyOption{Label: st, Value: st})
	}
	return out
}

// property returns a property of an object type, HubSpot's own or a
// custom one (archived ones included). s.mu is held.
func (p *portal) property(typ, name string) (Property, bool) {
	if def, ok := p.properties[typ][name]; ok {
		return def, true
	}
	i := slices.IndexFunc(builtinProperties[typ], func(d Property) bool { return d.Name == name })
	if i < 0 {
		return Property{}, false
	}
	return builtinProperties[typ][i], true
}

// listProperties is GET /crm/properties/{version}/{objectType}: every
// property of the type, HubSpot's and custom ones; archived=true lists
// only the archived ones (the reference: "whether to return only results
// that have been archived").
func (s *Server) listProperties(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	s.calls.Add("property:list:" + typ)
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	scopes, known := propertyReadScopes[typ]
	if !known {
		apiError(w, http.StatusNotFound, "", "Unable to infer object type from: "+typ)
		return
	}
	if !anyOf(a.Grant.scopes, scopes) {
		missingScopes(w, scopes...)
		return
	}
	archived := r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	defs := slices.Clone(builtinProperties[typ])
	for _, name := range slices.Sorted(maps.Keys(p.properties[typ])) {
		defs = append(defs, p.properties[typ][name])
	}
	s.mu.Unlock()
	results := []map[string]any{}
	for _, def := range defs {
		if def.Archived == archived {
			results = append(results, propertyJSON(def))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// ArchiveProperty archives a custom property, as an admin deleting it in
// HubSpot's settings does; it reports whether there was one.
func (s *Server) ArchiveProperty(portalID int64, objectType, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	def, ok := p.properties[objectType][name]
	if !ok {
		return false
	}
	def.Archived = true
	p.properties[objectType][name] = def
	return true
}

// PropertyCalls counts the reads of all of an object type's properties.
func (s *Server) PropertyCalls(objectType string) int {
	return s.calls.Get("property:list:" + objectType)
}

// checkValue checks one value written to a property of typ. s.mu is held.
func (p *portal) checkValue(typ, name, v string) *inputError {
	def, ok := p.property(typ, name)
	switch {
	case !ok || def.Archived:
		return propertyError(name, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property \"%s\" does not exist", name))
	case def.ReadOnly || def.Calculated:
		// Assumed wording: read-only and calculated properties take no
		// values from the API.
		return propertyError(name, "READ_ONLY_VALUE", fmt.Sprintf("%s is a read only property; its value cannot be set.", name))
	case v == "":
		return nil // "" clears the property
	}
	switch def.Type {
	case "number":
		if _, err := decimal.NewFromString(v); err != nil {
			return propertyError(name, "INVALID_FLOAT", fmt.Sprintf("%s was not a valid number", v))
		}
	case "bool":
		if v != "true" && v != "false" {
			return propertyError(name, "INVALID_BOOLEAN", fmt.Sprintf("%s was not a valid boolean", v))
		}
	case "enumeration":
		values := make([]string, 0, len(def.Options))
		for _, o := range def.Options {
			values = append(values, o.Value)
		}
		// A multi-select (checkbox) holds options separated by semicolons.
		picked := []string{v}
		if def.FieldType == "checkbox" {
			picked = strings.Split(v, ";")
		}
		for _, x := range picked {
			if !slices.Contains(values, x) {
				// Assumed wording of an enumeration's refusal.
				return propertyError(name, "INVALID_OPTION",
					fmt.Sprintf("%s was not one of the allowed options: [%s]", x, strings.Join(values, ", ")))
			}
		}
	case "date", "datetime":
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			// The emulator takes epoch milliseconds only, the form the
			// timestamp FAQ documents; the wording is assumed.
			return propertyError(name, "INVALID_DATE", fmt.Sprintf("%s is not a valid date: expected a timestamp in milliseconds", v))
		}
		if t := time.UnixMilli(ms).UTC(); def.Type == "date" && !t.Equal(t.Truncate(24*time.Hour)) {
			// "If you try to set a value that is not midnight UTC, you
			// will receive an error" (timestamp FAQ); the wording is
			// assumed.
			return propertyError(name, "INVALID_DATE", fmt.Sprintf("%s is not at midnight UTC", v))
		}
	}
	return nil
}
