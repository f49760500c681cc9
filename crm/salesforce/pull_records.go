package salesforce

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// A query's rows as pulled records.

// stampLayout is how the REST API writes a dateTime.
const stampLayout = "2006-01-02T15:04:05.000-0700"

// pulled is what every record has: its id, its stamp, whether it is in
// the recycle bin, whether the integration user saved it last, and its
// fields as text by API name.
func pulled(kind string, of orgFacts, r row) (crm.Pulled, error) {
	id, err := NormalizeID(r.str("Id"))
	if err != nil {
		return crm.Pulled{}, fmt.Errorf("salesforce: a %s row without an id: %w", kind, err)
	}
	at, err := time.Parse(stampLayout, r.str("SystemModstamp"))
	if err != nil {
		return crm.Pulled{}, fmt.Errorf("salesforce: %s %s: SystemModstamp %q: %w", kind, id, r.str("SystemModstamp"), err)
	}
	rec := crm.Pulled{Kind: kind, ID: id, Modified: at.UTC(), Deleted: r.boolean("IsDeleted"), Fields: map[string]string{}}
	if by := r.str("LastModifiedById"); by != "" && of.userID != "" {
		if n, err := NormalizeID(by); err == nil && n == of.userID {
			rec.Echo = true
		}
	}
	for k, v := range r {
		switch x := v.(type) {
		case string:
			rec.Fields[k] = x
		case json.Number:
			rec.Fields[k] = x.String()
		case bool:
			rec.Fields[k] = fmt.Sprint(x)
		}
	}
	return rec, nil
}

// customerRecord is an Account. Salesforce Accounts have no standard email
// field: Email stays "" (a deal's contact roles carry the people's).
func customerRecord(of orgFacts, r row) (crm.Pulled, error) {
	rec, err := pulled(crm.KindCustomer, of, r)
	rec.Customer = &crm.PulledCustomer{Name: r.str("Name"), Phone: r.str("Phone"), Street: r.str("BillingStreet"),
		City: r.str("BillingCity"), PostalCode: r.str("BillingPostalCode"), Region: r.str("BillingState"), Country: r.str("BillingCountry")}
	return rec, err
}

// dealRecord is an Opportunity with its contact roles.
func dealRecord(of orgFacts, r row) (crm.Pulled, error) {
	rec, err := pulled(crm.KindDeal, of, r)
	d := &crm.PulledDeal{Name: r.str("Name"), Stage: r.str("StageName"), CloseDate: r.str("CloseDate"), Currency: of.currency}
	if id := r.str("AccountId"); id != "" {
		d.AccountID, _ = NormalizeID(id)
	}
	if of.multi {
		d.Currency = r.str("CurrencyIsoCode")
	}
	if n, ok := r["Amount"].(json.Number); ok {
		if a, err := decimal.NewFromString(n.String()); err == nil {
			d.Amount = &a
		}
	}
	if roles := r.sub("OpportunityContactRoles"); roles != nil {
		list, _ := roles["records"].([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			role := row(m)
			c := role.sub("Contact")
			if c == nil || c.str("Email") == "" {
				// No email: nothing to match the person by.
				continue
			}
			id, _ := NormalizeID(role.str("ContactId"))
			d.Contacts = append(d.Contacts, crm.PulledContact{ID: id, Name: c.str("Name"), Email: strings.ToLower(c.str("Email")),
				Phone: c.str("Phone"), Role: role.str("Role")})
		}
	}
	rec.Deal = d
	return rec, err
}

// productRecord is a Product2: its ProductCode is the SKU.
func productRecord(of orgFacts, r row) (crm.Pulled, error) {
	rec, err := pulled(crm.KindProduct, of, r)
	rec.Product = &crm.PulledProduct{SKU: r.str("ProductCode"), Name: r.str("Name"), Description: r.str("Description"),
		Active: r.boolean("IsActive")}
	return rec, err
}

// priceRecord is a standard price book entry.
func priceRecord(of orgFacts, r row) (crm.Pulled, error) {
	rec, err := pulled(crm.KindPrice, of, r)
	product, _ := NormalizeID(r.str("Product2Id"))
	currency := of.currency
	if of.multi {
		currency = r.str("CurrencyIsoCode")
	}
	rec.Price = &crm.PulledPrice{ProductID: product, Currency: currency, UnitPrice: r.dec("UnitPrice"), EntryID: rec.ID,
		Active: r.boolean("IsActive")}
	return rec, err
}
