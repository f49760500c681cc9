package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// What a pulled record is made of, by kind.
//
// A company has no standard email property (HubSpot's companies hold a
// domain; people's emails are on contacts): a customer's Email is left
// empty, and the domain is kept among its Fields (and shown to the admin's
// field mappings) rather than made into an address nobody gave.
var (
	companyProperties = []string{"name", "domain", "phone", "address", "city", "zip", "state", "country", "hs_lastmodifieddate"}
	dealProperties    = []string{"dealname", "amount", "dealstage", "closedate", "deal_currency_code", "pipeline", "hs_lastmodifieddate"}
	productProperties = []string{"hs_sku", "name", "description", "price", "hs_lastmodifieddate"}
	contactProperties = []string{"email", "firstname", "lastname", "phone"}
)

// propertyName is what a property's internal name can be: lower-case
// letters, digits and underscores (HubSpot's rule for a custom property's
// name; built-in ones follow it too).
var propertyName = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

// extraProperties checks the properties the admin's mappings read besides
// kind's own (crm.PullFrom.Fields): only companies and deals read them.
func extraProperties(kind string, names []string) ([]string, error) {
	if kind != crm.KindCustomer && kind != crm.KindDeal {
		return nil, nil
	}
	for _, n := range names {
		if !propertyName.MatchString(n) {
			return nil, crm.Rejected(fmt.Errorf("hubspot: %q is not a property's internal name", n))
		}
	}
	return names, nil
}

// propertiesOf lists what a listing or a fetch of kind reads, with the
// extra properties of the admin's mappings; a product's prices are read
// from one property per currency (see productPrices).
func propertiesOf(kind string, currencies, extra []string) []string {
	add := func(own []string) []string {
		out := slices.Clone(own)
		for _, n := range extra {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out
	}
	switch kind {
	case crm.KindCustomer:
		return add(companyProperties)
	case crm.KindDeal:
		return add(dealProperties)
	case crm.KindOrder:
		return slices.Clone(orderPullProperties)
	}
	out := slices.Clone(productProperties)
	for _, c := range currencies {
		out = append(out, priceProperty(c))
	}
	return out
}

// records turns what HubSpot answered into pulled records; a deal's
// company and contact people, an order's deal and line items, are read for
// the whole page at once.
func (p *puller) records(ctx context.Context, c *caller, kind string, objs []searchObject, currencies []string) ([]crm.Pulled, error) {
	out := make([]crm.Pulled, 0, len(objs))
	for _, o := range objs {
		r := crm.Pulled{Kind: kind, ID: o.ID, Modified: o.modified(), Fields: fieldsOf(&o)}
		switch kind {
		case crm.KindCustomer:
			r.Customer = &crm.PulledCustomer{Name: o.prop("name"), Phone: o.prop("phone"), Street: o.prop("address"),
				City: o.prop("city"), PostalCode: o.prop("zip"), Region: o.prop("state"), Country: o.prop("country")}
		case crm.KindDeal:
			d := &crm.PulledDeal{Name: o.prop("dealname"), Stage: o.prop("dealstage"), Currency: strings.ToUpper(o.prop("deal_currency_code"))}
			if amt, err := decimal.NewFromString(o.prop("amount")); err == nil {
				d.Amount = &amt
			}
			if !qwoty.ValidCurrency(d.Currency) {
				d.Currency = ""
			}
			// closedate is a datetime; the deal keeps its day (UTC, as
			// HubSpot stores a date picked in the UI at midnight UTC).
			if cd := o.prop("closedate"); len(cd) >= 10 {
				d.CloseDate = cd[:10]
			}
			r.Deal = d
		case crm.KindProduct:
			r.Product = &crm.PulledProduct{SKU: o.prop("hs_sku"), Name: o.prop("name"), Description: o.prop("description"),
				Active: true, Prices: productPrices(&o, currencies)}
		case crm.KindOrder:
			r.Order = pulledOrder(&o)
		}
		out = append(out, r)
	}
	if kind == crm.KindDeal && len(out) > 0 {
		if err := p.dealLinks(ctx, c, out); err != nil {
			return nil, err
		}
	}
	if kind == crm.KindOrder && len(out) > 0 {
		if err := p.orderLinks(ctx, c, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fieldsOf keeps every property read, as text.
func fieldsOf(o *searchObject) map[string]string {
	f := map[string]string{}
	for k, v := range o.Properties {
		if v != nil && *v != "" {
			f[k] = *v
		}
	}
	return f
}

// A product's price in each currency. In an account with several
// currencies (multi-currency, a paid feature), HubSpot gives a product one
// price property per currency, hs_price_<code in lower case>
// (hs_price_usd, hs_price_eur), the company currency's among them; in an
// account with one currency the price is the "price" property, in the
// company currency. Pulling asks the account's currencies once per listing
// (GET /account-info/v3/details: companyCurrency and additionalCurrencies)
// and reads hs_price_<code> for each; the company currency's price falls
// back to "price" when its own property is empty. A price left empty is
// no price in that currency.
func productPrices(o *searchObject, currencies []string) []crm.PulledPrice {
	var out []crm.PulledPrice
	for i, cur := range currencies {
		v := o.prop(priceProperty(cur))
		if v == "" && i == 0 {
			v = o.prop("price")
		}
		amt, err := decimal.NewFromString(v)
		if err != nil {
			continue
		}
		out = append(out, crm.PulledPrice{ProductID: o.ID, Currency: cur, UnitPrice: amt, Active: true})
	}
	return out
}

func priceProperty(currency string) string { return "hs_price_" + strings.ToLower(currency) }

// accountInfoPath is the account details endpoint.
const accountInfoPath = "/account-info/v3/details"

// currencies are the account's currencies, the company currency first.
func (p *puller) currencies(ctx context.Context, c *caller) ([]string, error) {
	var ans struct {
		CompanyCurrency      string   `json:"companyCurrency"`
		AdditionalCurrencies []string `json:"additionalCurrencies"`
	}
	if err := c.call(ctx, burstBucket, http.MethodGet, accountInfoPath, nil, nil, &ans); err != nil {
		return nil, fmt.Errorf("hubspot: read the account's currencies: %w", err)
	}
	var out []string
	for _, cur := range append([]string{ans.CompanyCurrency}, ans.AdditionalCurrencies...) {
		cur = strings.ToUpper(cur)
		if qwoty.ValidCurrency(cur) && !slices.Contains(out, cur) {
			out = append(out, cur)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hubspot: the account's details name no company currency")
	}
	return out, nil
}

// Association type ids HubSpot defines from a deal: to its primary
// company 5, to a company unlabeled 341 (association types reference).
const dealToPrimaryCompany = 5

type assocAnswer struct {
	Results []struct {
		From objectRef `json:"from"`
		To   []struct {
			ToObjectID       assocID     `json:"toObjectId"`
			AssociationTypes []assocKind `json:"associationTypes"`
		} `json:"to"`
	} `json:"results"`
}

// assocKind is one type of an association.
type assocKind struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
}

// assocID is an id HubSpot writes as a number or as a string.
type assocID string

func (a *assocID) UnmarshalJSON(b []byte) error {
	*a = assocID(strings.Trim(string(b), `"`))
	return nil
}

// associations reads the records of type to associated with each of ids
// (of type from), 100 ids a call; primary, when not 0, is the type id put
// first.
func (c *caller) associations(ctx context.Context, from, to string, ids []string, primary int) (map[string][]string, error) {
	out := map[string][]string{}
	for _, batch := range chunks(ids) {
		req := batchRequest[objectRef]{}
		for _, id := range batch {
			req.Inputs = append(req.Inputs, objectRef{ID: id})
		}
		var ans assocAnswer
		path := "/crm/associations/2026-03/" + from + "/" + to + "/batch/read"
		if err := c.call(ctx, burstBucket, http.MethodPost, path, nil, req, &ans); err != nil {
			return nil, fmt.Errorf("hubspot: read the %s of %s: %w", to, from, err)
		}
		for _, r := range ans.Results {
			var first, rest []string
			for _, t := range r.To {
				id := string(t.ToObjectID)
				if !objectID(id) || slices.Contains(first, id) || slices.Contains(rest, id) {
					continue
				}
				if primary != 0 && slices.ContainsFunc(t.AssociationTypes, func(a assocKind) bool { return a.TypeID == primary }) {
					first = append(first, id)
				} else {
					rest = append(rest, id)
				}
			}
			out[r.From.ID] = append(first, rest...)
		}
	}
	return out, nil
}

// dealLinks fills the deals' company (the primary one, else the first)
// and contact people (those with an email), in a few calls for the whole
// page: the deals' companies, their contacts, and the contacts' batch
// read, 100 a call each.
func (p *puller) dealLinks(ctx context.Context, c *caller, deals []crm.Pulled) error {
	ids := make([]string, 0, len(deals))
	for _, d := range deals {
		ids = append(ids, d.ID)
	}
	companies, err := c.associations(ctx, "deals", "companies", ids, dealToPrimaryCompany)
	if err != nil {
		return err
	}
	// A connection made before pulling was not granted contacts' read
	// scope: its deals are pulled without their contact people until an
	// admin reconnects.
	contacts, err := c.associations(ctx, "deals", "contacts", ids, 0)
	if errors.Is(err, crm.ErrForbidden) {
		contacts, err = nil, nil
	}
	if err != nil {
		return err
	}
	var people []string
	for _, id := range ids {
		for _, ct := range contacts[id] {
			if !slices.Contains(people, ct) {
				people = append(people, ct)
			}
		}
	}
	byID := map[string]crm.PulledContact{}
	for _, batch := range chunks(people) {
		objs, err := c.batchRead(ctx, "contacts", batch, contactProperties, false)
		if errors.Is(err, crm.ErrForbidden) {
			break
		}
		if err != nil {
			return err
		}
		for _, o := range objs {
			name := strings.TrimSpace(o.prop("firstname") + " " + o.prop("lastname"))
			byID[o.ID] = crm.PulledContact{ID: o.ID, Name: name, Email: o.prop("email"), Phone: o.prop("phone")}
		}
	}
	for i := range deals {
		d := deals[i].Deal
		if cs := companies[deals[i].ID]; len(cs) > 0 {
			d.AccountID = cs[0]
		}
		for _, ct := range contacts[deals[i].ID] {
			if pc, ok := byID[ct]; ok && pc.Email != "" {
				d.Contacts = append(d.Contacts, pc)
			}
		}
	}
	return nil
}

// batchReadPath is the batch read endpoint of an object type.
func batchReadPath(object string) string { return "/crm/objects/2026-03/" + object + "/batch/read" }

// batchRead reads up to 100 records by id; those HubSpot does not have
// (live, or archived when archived is set) are absent from the answer (it
// lists them among its errors, a 207).
func (c *caller) batchRead(ctx context.Context, object string, ids, properties []string, archived bool) ([]searchObject, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	req := struct {
		Inputs     []objectRef `json:"inputs"`
		Properties []string    `json:"properties"`
	}{Properties: properties}
	for _, id := range ids {
		req.Inputs = append(req.Inputs, objectRef{ID: id})
	}
	var q url.Values
	if archived {
		q = url.Values{"archived": {"true"}}
	}
	var ans struct {
		Results []searchObject `json:"results"`
	}
	if err := c.call(ctx, burstBucket, http.MethodPost, batchReadPath(object), q, req, &ans); err != nil {
		return nil, fmt.Errorf("hubspot: batch read %s: %w", object, err)
	}
	return ans.Results, nil
}

// archivedPage reads one page of the records of kind that were archived:
// the objects' list endpoint with archived=true, 100 a page, in its own
// paging (a cursor, not an offset into a sorted list). It has no filter by
// time, so every listing reads the whole recycle bin (HubSpot keeps an
// archived record 90 days) and keeps those archived at or after Since.
// Each is Deleted, as of its archivedAt; Qwoty marks its copy and keeps
// it. A record restored in HubSpot is modified by the restore, so the live
// listing reads it again, which clears the mark.
func (p *puller) archivedPage(ctx context.Context, c *caller, kind string, from crm.PullFrom) (crm.PullPage, error) {
	var page crm.PullPage
	q := url.Values{"archived": {"true"}, "limit": {"100"}, "properties": {"hs_lastmodifieddate"}}
	if from.Cursor != "" {
		q.Set("after", from.Cursor)
	}
	var ans struct {
		Results []searchObject `json:"results"`
		Paging  struct {
			Next struct {
				After string `json:"after"`
			} `json:"next"`
		} `json:"paging"`
	}
	if err := c.call(ctx, burstBucket, http.MethodGet, "/crm/objects/2026-03/"+objectOf[kind], q, nil, &ans); err != nil {
		return page, fmt.Errorf("hubspot: list archived %s: %w", objectOf[kind], err)
	}
	for _, o := range ans.Results {
		when := o.ArchivedAt
		if when.IsZero() || when.Before(from.Since) || !objectID(o.ID) {
			continue
		}
		page.Records = append(page.Records, crm.Pulled{Kind: kind, ID: o.ID, Modified: when, Deleted: true})
	}
	page.Next = ans.Paging.Next.After
	return page, nil
}
