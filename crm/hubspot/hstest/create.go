package hstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// Creating companies and deals one at a time, as the companies and deals
// guides describe it: POST /crm/objects/2026-03/{companies|deals} with a
// properties object and an associations array naming existing records;
// 201 with the record. A deal should have dealname and dealstage, and a
// pipeline when the account has several (the default pipeline otherwise);
// a company a name or a domain. Scopes: crm.objects.companies.write,
// crm.objects.deals.write.
//
// Assumed where the guides are silent: a deal without dealname or
// dealstage, or a company with neither name nor domain, is a 400
// VALIDATION_ERROR with a REQUIRED_FIELD entry; a value another record
// holds in a property with unique values is a 409 CONFLICT naming the
// existing record (as for line items); a deal's associations may name
// companies only, by the HUBSPOT_DEFINED types 5 (primary) and 341
// (unlabeled); a company's create takes none here.

// The deal to company association types.
const (
	DealToCompanyPrimary   = 5
	DealToCompanyUnlabeled = 341
)

// createRecord is POST /crm/objects/{version}/{type} for the types it
// serves; orders go to createOrder.
func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	scope, served := map[string]string{"companies": "crm.objects.companies.write", "deals": "crm.objects.deals.write"}[typ]
	if !served {
		s.createOrder(w, r)
		return
	}
	s.calls.Add("create:" + typ)
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) {
		return
	}
	if !scoped(w, a.Grant.scopes, scope) {
		return
	}
	var body struct {
		Properties   map[string]any    `json:"properties"`
		Associations []inputAssociated `json:"associations"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return
	}
	values := props(body.Properties)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if ie := p.checkValue(typ, name, values[name]); ie != nil {
			apiError(w, ie.status, ie.category, ie.message)
			return
		}
	}
	if ie := requiredOnCreate(typ, values); ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	if ie := p.recordConflict(typ, values); ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	companies, ie := p.companiesOf(typ, body.Associations)
	if ie != nil {
		apiError(w, ie.status, ie.category, ie.message)
		return
	}
	id := p.newID()
	switch typ {
	case "companies":
		c := Company{ID: id, Name: values["name"], Properties: values}
		delete(c.Properties, "name")
		p.companies[id] = c
	case "deals":
		d := Deal{ID: id, Name: values["dealname"], Amount: values["amount"], Currency: values["deal_currency_code"],
			Stage: values["dealstage"], CloseDate: values["closedate"], CompanyIDs: companies}
		extra := maps.Clone(values)
		for _, k := range []string{"dealname", "amount", "deal_currency_code", "dealstage", "closedate", "pipeline"} {
			delete(extra, k)
		}
		p.deals[id], p.dealExtra[id] = d, extra
	}
	now := s.Now()
	p.touch(typ, id, now)
	stored, _, _ := s.record(p, typ, id)
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "properties": stored, "createdAt": stamp(now), "updatedAt": stamp(now),
		"archived": false})
}

// requiredOnCreate refuses a create without what its type needs.
func requiredOnCreate(typ string, values map[string]string) *inputError {
	switch {
	case typ == "companies" && values["name"] == "" && values["domain"] == "":
		return propertyError("name", "REQUIRED_FIELD", "a company needs a name or a domain")
	case typ == "deals" && values["dealname"] == "":
		return propertyError("dealname", "REQUIRED_FIELD", "dealname is required")
	case typ == "deals" && values["dealstage"] == "":
		return propertyError("dealstage", "REQUIRED_FIELD", "dealstage is required")
	}
	return nil
}

// companiesOf reads a create's associations: a deal's companies, the
// primary one first; a company takes none. s.mu is held.
func (p *portal) companiesOf(typ string, assocs []inputAssociated) ([]string, *inputError) {
	var primary, others []string
	for _, as := range assocs {
		if typ != "deals" {
			return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
				message: "associations of a new " + typ + " record are not served by this emulator"}
		}
		if _, ok := p.companies[as.To.ID]; !ok {
			return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
				message: fmt.Sprintf("No company with ID %s exists to associate with", as.To.ID)}
		}
		if len(as.Types) == 0 {
			return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR", message: "an association needs its types"}
		}
		for _, t := range as.Types {
			switch {
			case t.AssociationCategory != "HUBSPOT_DEFINED":
				return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
					message: fmt.Sprintf("association category %q is not served by this emulator", t.AssociationCategory)}
			case t.AssociationTypeID == DealToCompanyPrimary:
				if len(primary) > 0 && primary[0] != as.To.ID {
					return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
						message: "a deal has one primary company"}
				}
				primary = []string{as.To.ID}
			case t.AssociationTypeID == DealToCompanyUnlabeled:
				others = append(others, as.To.ID)
			default:
				return nil, &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
					message: fmt.Sprintf("%d is not an association type from deal to company", t.AssociationTypeID)}
			}
		}
	}
	out := primary
	for _, id := range others {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// singular names one record of a type.
var singular = map[string]string{"companies": "company", "deals": "deal"}

// recordConflict refuses values another live record of typ holds in a
// property with unique values. s.mu is held.
func (p *portal) recordConflict(typ string, values map[string]string) *inputError {
	for name, def := range p.properties[typ] {
		if !def.HasUniqueValue || values[name] == "" {
			continue
		}
		if owner := p.recordByValue(typ, name, values[name]); owner != "" {
			return &inputError{status: http.StatusConflict, category: "CONFLICT",
				message: fmt.Sprintf("A %s record with %s=%s already exists. Existing ID: %s", singular[typ], name, values[name], owner)}
		}
	}
	return nil
}

// recordByValue is the live company or deal whose property prop holds
// value, "" for none. s.mu is held.
func (p *portal) recordByValue(typ, prop, value string) string {
	for _, id := range p.live(typ) {
		switch typ {
		case "companies":
			if p.companies[id].Properties[prop] == value {
				return id
			}
		case "deals":
			if p.dealExtra[id][prop] == value {
				return id
			}
		}
	}
	return ""
}

// byIDProperty resolves a read's idProperty (GET .../{id}?idProperty=):
// id is a value of that property, which must exist with unique values
// (assumed wordings); it returns the record's id, "" for none. s.mu is
// held.
func (p *portal) byIDProperty(typ, prop, value string) (string, *inputError) {
	if prop == "" || prop == "hs_object_id" {
		return value, nil
	}
	def, ok := p.properties[typ][prop]
	switch {
	case !ok || def.Archived:
		return "", &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
			message: fmt.Sprintf("Unable to find property %s to use as idProperty", prop)}
	case !def.HasUniqueValue:
		return "", &inputError{status: http.StatusBadRequest, category: "VALIDATION_ERROR",
			message: fmt.Sprintf("Property %s cannot be used as idProperty: its values are not unique (hasUniqueValue is false)", prop)}
	}
	return p.recordByValue(typ, prop, value), nil
}

// MadeRecord is a company or a deal carrying a value in a custom property
// (the one an integration made it with).
type MadeRecord struct {
	ID, Name, Value string
	// CompanyID is a deal's primary company.
	CompanyID string
}

// RecordsWith lists the live companies or deals of a portal whose property
// prop is set, by id.
func (s *Server) RecordsWith(portalID int64, typ, prop string) []MadeRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []MadeRecord
	for _, id := range p.live(typ) {
		switch typ {
		case "companies":
			if c := p.companies[id]; c.Properties[prop] != "" {
				out = append(out, MadeRecord{ID: id, Name: c.Name, Value: c.Properties[prop]})
			}
		case "deals":
			if v := p.dealExtra[id][prop]; v != "" {
				d := p.deals[id]
				m := MadeRecord{ID: id, Name: d.Name, Value: v}
				if len(d.CompanyIDs) > 0 {
					m.CompanyID = d.CompanyIDs[0]
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// CompanyProperties returns a company's stored properties (name
// included), nil when there is none.
func (s *Server) CompanyProperties(portalID int64, id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	props, _, ok := s.record(s.mustPortal(portalID), "companies", id)
	if !ok {
		return nil
	}
	return props
}
