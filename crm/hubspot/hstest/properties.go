package hstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
)

// The properties API: POST /crm/properties/{version}/{objectType} creates a
// custom property, GET .../{objectType}/{propertyName} reads one. A property
// created with hasUniqueValue holds values no two records share, which makes
// it usable as an upsert's idProperty.

// Property is a property's definition: a custom one, or (in
// builtinProperties) one of HubSpot's own.
type Property struct {
	Name           string           `json:"name"`
	Label          string           `json:"label"`
	Type           string           `json:"type"`
	FieldType      string           `json:"fieldType"`
	GroupName      string           `json:"groupName"`
	Description    string           `json:"description,omitempty"`
	HasUniqueValue bool             `json:"hasUniqueValue"`
	Options        []PropertyOption `json:"options,omitempty"`
	// Calculated: HubSpot computes its value (a calculation, a rollup);
	// it is read-only.
	Calculated bool `json:"calculated,omitempty"`
	// ReadOnly is modificationMetadata.readOnlyValue.
	ReadOnly bool `json:"-"`
	// Hidden properties are not shown in HubSpot's UI.
	Hidden bool `json:"hidden,omitempty"`
	// ShowCurrencySymbol: a number shown as money.
	ShowCurrencySymbol bool `json:"showCurrencySymbol,omitempty"`
	// HubSpotDefined: one of HubSpot's default properties.
	HubSpotDefined bool `json:"-"`
	// Archived: deleted in HubSpot's settings; archived properties are
	// listed only with archived=true and take no values.
	Archived bool `json:"-"`
}

// PropertyOption is one option of an enumeration property.
type PropertyOption struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// propertyScopes are the scopes, any one of which lets an app create
// properties of an object type. HubSpot has no crm.schemas.line_items.write;
// the create endpoint lists one of several schema scopes (its reference:
// "This API requires one of the following scopes"). Which of them HubSpot
// accepts for line items is assumed here: crm.schemas.deals.write, or the
// legacy e-commerce scope.
var propertyScopes = map[string][]string{
	"line_items": {"crm.schemas.deals.write", "e-commerce"},
	"deals":      {"crm.schemas.deals.write"},
	"companies":  {"crm.schemas.companies.write"},
}

// propertyReadScopes read them.
var propertyReadScopes = map[string][]string{
	"line_items": {"crm.schemas.line_items.read", "e-commerce"},
	"deals":      {"crm.schemas.deals.read"},
	"companies":  {"crm.schemas.companies.read"},
}

// propertyName: internal names are lower-case letters, digits and
// underscores, starting with a letter; hs_ is HubSpot's own prefix.
var propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)

var propertyTypes = []string{"string", "number", "date", "datetime", "enumeration", "bool"}

// createProperty is POST /crm/properties/{version}/{objectType}.
func (s *Server) createProperty(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	s.calls.Add("property:create")
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	scopes, known := propertyScopes[typ]
	if !known {
		apiError(w, http.StatusNotFound, "", "Unable to infer object type from: "+typ)
		return
	}
	if !anyOf(a.Grant.scopes, scopes) {
		missingScopes(w, scopes...)
		return
	}
	var def Property
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&def); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	switch {
	case !propertyName.MatchString(def.Name) || len(def.Name) >= 3 && def.Name[:3] == "hs_":
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Invalid property name %q", def.Name))
		return
	case def.Label == "" || def.GroupName == "" || def.FieldType == "":
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "label, groupName, type and fieldType are required")
		return
	case !slices.Contains(propertyTypes, def.Type):
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Invalid property type %q", def.Type))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, builtin := lineItemProps[def.Name]
	if _, exists := p.property(typ, def.Name); exists || typ == "line_items" && builtin {
		// The status is documented for a duplicate; the wording is assumed.
		apiError(w, http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("A property named '%s' already exists.", def.Name))
		return
	}
	if p.properties[typ] == nil {
		p.properties[typ] = map[string]Property{}
	}
	p.properties[typ][def.Name] = def
	writeJSON(w, http.StatusCreated, propertyJSON(def))
}

// readProperty is GET /crm/properties/{version}/{objectType}/{propertyName}.
func (s *Server) readProperty(w http.ResponseWriter, r *http.Request) {
	typ, name := r.PathValue("type"), r.PathValue("name")
	s.calls.Add("property:read")
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
	s.mu.Lock()
	def, ok := p.property(typ, name)
	s.mu.Unlock()
	if !ok || def.Archived {
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s", name))
		return
	}
	writeJSON(w, http.StatusOK, propertyJSON(def))
}

func propertyJSON(def Property) map[string]any {
	options := make([]map[string]any, 0, len(def.Options))
	for i, o := range def.Options {
		options = append(options, map[string]any{"label": o.Label, "value": o.Value, "displayOrder": i, "hidden": false})
	}
	out := map[string]any{
		"name": def.Name, "label": def.Label, "type": def.Type, "fieldType": def.FieldType, "groupName": def.GroupName,
		"description": def.Description, "hasUniqueValue": def.HasUniqueValue, "hidden": def.Hidden, "formField": false,
		"calculated": def.Calculated, "externalOptions": false, "hubspotDefined": def.HubSpotDefined, "archived": def.Archived,
		"createdAt": createdStamp, "updatedAt": createdStamp, "options": options,
		"modificationMetadata": map[string]any{"archivable": !def.HubSpotDefined, "readOnlyDefinition": def.HubSpotDefined,
			"readOnlyValue": def.ReadOnly || def.Calculated},
	}
	if def.Type == "number" {
		out["showCurrencySymbol"] = def.ShowCurrencySymbol
	}
	if def.Archived {
		out["archivedAt"] = createdStamp
	}
	return out
}

// PutProperty defines a custom property of a portal's object type, as an
// admin would in HubSpot's settings.
func (s *Server) PutProperty(portalID int64, objectType string, def Property) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	if p.properties[objectType] == nil {
		p.properties[objectType] = map[string]Property{}
	}
	p.properties[objectType][def.Name] = def
}

// CustomProperty returns a custom property of a portal's object type.
func (s *Server) CustomProperty(portalID int64, objectType, name string) (Property, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	def, ok := s.mustPortal(portalID).properties[objectType][name]
	return def, ok
}

func anyOf(granted, wanted []string) bool {
	for _, w := range wanted {
		if slices.Contains(granted, w) {
			return true
		}
	}
	return false
}
