package pipedrive

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// What a pulled v2 entity becomes (docs/sync-pipedrive.md, "Pulling").

// apiOrg is an organization as v2 answers it. An organization has no email
// or phone of its own in Pipedrive (its persons do): the customer's are
// left empty.
type apiOrg struct {
	record
	Name    string `json:"name"`
	Deleted bool   `json:"is_deleted"`
	Address *struct {
		Value        string `json:"value"`
		StreetNumber string `json:"street_number"`
		Route        string `json:"route"`
		Locality     string `json:"locality"`
		PostalCode   string `json:"postal_code"`
		Region       string `json:"admin_area_level_1"`
		Country      string `json:"country"`
		Formatted    string `json:"formatted_address"`
	} `json:"address"`
}

func customerOf(m json.RawMessage) (crm.Pulled, error) {
	var o apiOrg
	if err := json.Unmarshal(m, &o); err != nil {
		return crm.Pulled{}, fmt.Errorf("pipedrive: an organization: %w", err)
	}
	c := &crm.PulledCustomer{Name: o.Name}
	fields := map[string]string{}
	if a := o.Address; a != nil {
		c.Street = strings.TrimSpace(strings.TrimSpace(a.StreetNumber + " " + a.Route))
		if c.Street == "" && a.Locality == "" && a.Country == "" {
			c.Street = a.Value // an address typed but not geocoded
		}
		c.City, c.PostalCode, c.Region, c.Country = a.Locality, a.PostalCode, a.Region, a.Country
		fields["address"] = a.Value
	}
	return crm.Pulled{Kind: crm.KindCustomer, ID: strconv.FormatInt(o.ID, 10), Modified: o.modified(),
		Deleted: o.Deleted, Customer: c, Fields: fields}, nil
}

// apiDeal is a deal as v2 answers it.
type apiDeal struct {
	record
	Title     string           `json:"title"`
	Value     *decimal.Decimal `json:"value"`
	Currency  string           `json:"currency"`
	StageID   int64            `json:"stage_id"`
	Status    string           `json:"status"`
	Deleted   bool             `json:"is_deleted"`
	CloseDate *string          `json:"expected_close_date"`
	OrgID     *int64           `json:"org_id"`
	PersonID  *int64           `json:"person_id"`
}

// dealOf maps a deal: its stage in the stage map's words ("won", "lost",
// or "stage:<id>" for an open deal), its person kept in Fields until
// contacts reads them.
func dealOf(m json.RawMessage) (crm.Pulled, error) {
	var d apiDeal
	if err := json.Unmarshal(m, &d); err != nil {
		return crm.Pulled{}, fmt.Errorf("pipedrive: a deal: %w", err)
	}
	pd := &crm.PulledDeal{Name: d.Title, Amount: d.Value, Currency: d.Currency}
	switch d.Status {
	case StageWon, StageLost:
		pd.Stage = d.Status
	default:
		if d.StageID > 0 {
			pd.Stage = StagePrefix + strconv.FormatInt(d.StageID, 10)
		}
	}
	if d.CloseDate != nil {
		pd.CloseDate = *d.CloseDate
	}
	fields := map[string]string{"status": d.Status}
	if d.OrgID != nil && *d.OrgID > 0 {
		pd.AccountID = strconv.FormatInt(*d.OrgID, 10)
	}
	if d.PersonID != nil && *d.PersonID > 0 {
		fields["person_id"] = strconv.FormatInt(*d.PersonID, 10)
	}
	modified := d.modified()
	return crm.Pulled{Kind: crm.KindDeal, ID: strconv.FormatInt(d.ID, 10), Modified: modified,
		Deleted: d.Deleted || d.Status == "deleted", Deal: pd, Fields: fields}, nil
}

// apiPerson is a person as v2 answers them.
type apiPerson struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Emails []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary"`
	} `json:"emails"`
	Phones []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary"`
	} `json:"phones"`
}

// contactOf is a person as a deal's contact: the primary email and phone
// (the first when none is marked).
func contactOf(m json.RawMessage) (crm.PulledContact, error) {
	var p apiPerson
	if err := json.Unmarshal(m, &p); err != nil {
		return crm.PulledContact{}, fmt.Errorf("pipedrive: a person: %w", err)
	}
	c := crm.PulledContact{ID: strconv.FormatInt(p.ID, 10), Name: p.Name}
	for i, e := range p.Emails {
		if e.Primary || i == 0 && c.Email == "" {
			c.Email = e.Value
		}
	}
	for i, ph := range p.Phones {
		if ph.Primary || i == 0 && c.Phone == "" {
			c.Phone = ph.Value
		}
	}
	return c, nil
}

// apiProduct is a product as v2 answers it: its prices an array, one per
// currency.
type apiProduct struct {
	record
	Name        string  `json:"name"`
	Code        *string `json:"code"`
	Description *string `json:"description"`
	Deleted     bool    `json:"is_deleted"`
	Prices      []struct {
		Currency string          `json:"currency"`
		Price    decimal.Decimal `json:"price"`
	} `json:"prices"`
}

// productOf maps a product: its code is the SKU; a deleted product is
// inactive (v2 has no active flag of its own).
func productOf(m json.RawMessage) (crm.Pulled, error) {
	var p apiProduct
	if err := json.Unmarshal(m, &p); err != nil {
		return crm.Pulled{}, fmt.Errorf("pipedrive: a product: %w", err)
	}
	id := strconv.FormatInt(p.ID, 10)
	pp := &crm.PulledProduct{Name: p.Name, Active: !p.Deleted}
	if p.Code != nil {
		pp.SKU = *p.Code
	}
	if p.Description != nil {
		pp.Description = *p.Description
	}
	for _, pr := range p.Prices {
		pp.Prices = append(pp.Prices, crm.PulledPrice{ProductID: id, Currency: strings.ToUpper(pr.Currency),
			UnitPrice: pr.Price, Active: !p.Deleted})
	}
	return crm.Pulled{Kind: crm.KindProduct, ID: id, Modified: p.modified(), Deleted: p.Deleted, Product: pp}, nil
}

// fieldCode is what a field's code can be: a built-in field's name
// ("title") or a custom field's 40-character hash.
var fieldCode = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// extraFields checks the fields the admin's mappings read besides kind's
// own (crm.PullFrom.Fields): only organizations and deals read them.
func extraFields(kind string, names []string) ([]string, error) {
	if kind != crm.KindCustomer && kind != crm.KindDeal {
		return nil, nil
	}
	for _, n := range names {
		if !fieldCode.MatchString(n) {
			return nil, crm.Rejected(fmt.Errorf("pipedrive: %q is not a field's code", n))
		}
	}
	return names, nil
}

// withFields maps an entity with mapOne and adds the extra fields to its
// Fields, as text. API v2 answers every custom field of the entity in its
// custom_fields object, keyed by the field's code (its custom_fields query
// parameter only narrows that to some), and built-in ones at the top
// level: a text value is itself, a number its decimal text, an object
// (monetary, address) its "value", an option field its option id; null
// is "".
func withFields(mapOne func(json.RawMessage) (crm.Pulled, error), names []string) func(json.RawMessage) (crm.Pulled, error) {
	if len(names) == 0 {
		return mapOne
	}
	return func(m json.RawMessage) (crm.Pulled, error) {
		rec, err := mapOne(m)
		if err != nil || rec.Deleted {
			return rec, err
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(m, &top); err != nil {
			return rec, fmt.Errorf("pipedrive: a %s: %w", rec.Kind, err)
		}
		var custom map[string]json.RawMessage
		if raw, ok := top["custom_fields"]; ok {
			_ = json.Unmarshal(raw, &custom) // null: none
		}
		if rec.Fields == nil {
			rec.Fields = map[string]string{}
		}
		for _, n := range names {
			v, ok := custom[n]
			if !ok {
				v = top[n]
			}
			rec.Fields[n] = fieldText(v)
		}
		return rec, nil
	}
}

// fieldText is a field's JSON value as text.
func fieldText(v json.RawMessage) string {
	v = json.RawMessage(strings.TrimSpace(string(v)))
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil {
		return fieldText(obj["value"])
	}
	return string(v) // a number, a boolean, an array of option ids
}
