package hubspot

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The CRM v3 object paths the card reads.
const (
	DealsPath     = "/crm/v3/objects/deals/"
	CompaniesPath = "/crm/v3/objects/companies/"
)

// primaryDealToCompany is the association type the v3 objects API names the
// deal's primary company with; other companies come as
// "deal_to_company_unlabeled" or a custom label.
const primaryDealToCompany = "deal_to_company"

// Client calls a portal's CRM API with an access token of that portal.
type Client struct {
	// BaseURL is the API host; "" means APIBaseURL.
	BaseURL     string
	AccessToken string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout.
	HTTP *http.Client
}

// Deal is what the card prefills a quote with.
type Deal struct {
	ID   string
	Name string
	// Amount is exact; invalid when the deal has none.
	Amount decimal.NullDecimal
	// Currency is deal_currency_code, "" when the portal has a single
	// currency and the deal none.
	Currency string
	// CompanyID is the primary associated company ("" when none) and
	// CompanyName its name.
	CompanyID   string
	CompanyName string
}

// object is a CRM v3 object as read by id, with its associations.
type object struct {
	ID           string             `json:"id"`
	Properties   map[string]*string `json:"properties"`
	Archived     bool               `json:"archived"`
	Associations map[string]struct {
		Results []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"results"`
	} `json:"associations"`
}

func (o *object) prop(name string) string {
	if v := o.Properties[name]; v != nil {
		return *v
	}
	return ""
}

// Deal reads a deal with its amount, currency and primary company. An error
// matching crm.ErrUnauthorized means the access token expired or was
// revoked; crm.ErrNotFound that the portal has no such deal.
func (c *Client) Deal(ctx context.Context, dealID string) (*Deal, error) {
	if !objectID(dealID) {
		return nil, fmt.Errorf("hubspot: read deal: %q is not a HubSpot record id", dealID)
	}
	q := url.Values{"properties": {"dealname,amount,deal_currency_code"}, "associations": {"companies"}}
	var d object
	if err := c.get(ctx, DealsPath+dealID, q, &d); err != nil {
		return nil, fmt.Errorf("hubspot: read deal %s: %w", dealID, err)
	}
	out := &Deal{ID: d.ID, Name: d.prop("dealname")}
	// HubSpot number properties are decimal strings; anything else leaves
	// the prefill empty rather than failing the card.
	if a, err := decimal.NewFromString(d.prop("amount")); err == nil {
		out.Amount = decimal.NullDecimal{Decimal: a, Valid: true}
	}
	if cur := d.prop("deal_currency_code"); qwoty.ValidCurrency(cur) {
		out.Currency = cur
	}
	out.CompanyID = primaryCompany(&d)
	if out.CompanyID == "" {
		return out, nil
	}
	var co object
	if err := c.get(ctx, CompaniesPath+out.CompanyID, url.Values{"properties": {"name"}}, &co); err != nil {
		return nil, fmt.Errorf("hubspot: read company %s of deal %s: %w", out.CompanyID, dealID, err)
	}
	out.CompanyName = co.prop("name")
	return out, nil
}

// primaryCompany picks the company labelled primary, else the first one.
func primaryCompany(d *object) string {
	results := d.Associations["companies"].Results
	for _, r := range results {
		if r.Type == primaryDealToCompany && objectID(r.ID) {
			return r.ID
		}
	}
	for _, r := range results {
		if objectID(r.ID) {
			return r.ID
		}
	}
	return ""
}

// objectID: HubSpot record ids are decimal numbers. Checking keeps anything
// else out of the request path.
func objectID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// get sends one GET and decodes a 2xx answer into out, or returns an
// *crm.APIError.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	return crm.Call(ctx, crm.Request{Provider: qwoty.ProviderHubSpot, Method: http.MethodGet, Base: cmp.Or(c.BaseURL, APIBaseURL),
		Path: path, Query: q, Token: c.AccessToken, Timeout: DefaultTimeout, HTTP: c.HTTP, Refused: apiErrors.Answer}, out)
}
