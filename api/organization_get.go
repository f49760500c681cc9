package api

import (
	"cmp"
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
)

// Organization is the key's workspace and CRM account, with the settings
// a connector needs to quote as Qwoty does.
type Organization struct {
	Name string `json:"name" doc:"The workspace's name."`
	CRM  struct {
		Provider  string `json:"provider" enum:"salesforce,hubspot,pipedrive"`
		AccountID string `json:"accountId" doc:"The CRM account: Salesforce org id, HubSpot portal id, Pipedrive company id."`
		Status    string `json:"status" enum:"active,disconnected,error"`
	} `json:"crm" doc:"The CRM account (connection) the key acts in."`
	DefaultCurrency string   `json:"defaultCurrency" doc:"A new quote's currency when its CRM record names none."`
	Currencies      []string `json:"currencies" doc:"Currencies the catalogue has active prices in."`
	Locale          *string  `json:"locale" doc:"Always null: Qwoty keeps no workspace locale; the card formats amounts in each CRM user's own locale, and the API's amounts are locale-free decimal strings."`
	Rounding        struct {
		Policy             string           `json:"policy" enum:"line-half-up,line-half-even,document-half-up,document-half-even" doc:"The workspace's rounding policy, which its new quotes are priced with and state (each quote's rounding); docs/money.md."`
		Mode               string           `json:"mode" enum:"half_away_from_zero,half_even" doc:"How a half is rounded under the policy."`
		Decimals           int              `json:"decimals" doc:"Decimals of an amount in most currencies."`
		CurrencyExceptions map[string]int32 `json:"currencyExceptions" doc:"Currencies whose amounts carry other decimals (ISO 4217 minor units)."`
		Applies            string           `json:"applies"`
	} `json:"rounding"`
	Tax struct {
		Mode        string `json:"mode" enum:"exclusive"`
		DefaultRate string `json:"defaultRate" doc:"A new quote's tax rate, percent."`
		Basis       string `json:"basis"`
	} `json:"tax"`
}

type organizationOutput struct {
	Body Organization
}

func (a *API) organizationGet() {
	huma.Register(a.h, huma.Operation{OperationID: "getOrganization", Method: http.MethodGet, Path: "/organization", Tags: []string{"Organization"},
		Summary: "Get the organization", Description: "The workspace, its CRM account, and how Qwoty prices: currency, rounding, tax.",
		Security: Secured(qwoty.ScopeQuotesRead)}, a.getOrganization)
}

func (a *API) getOrganization(ctx context.Context, _ *struct{}) (*organizationOutput, error) {
	o, err := a.db.OrganizationOf(ctx, scope(ctx))
	if err != nil {
		return nil, err
	}
	out := &organizationOutput{}
	b := &out.Body
	b.Name = o.WorkspaceName
	b.CRM.Provider, b.CRM.AccountID, b.CRM.Status = string(o.Provider), o.AccountID, string(o.Status)
	b.DefaultCurrency = qwoty.DefaultCurrency
	b.Currencies = o.Currencies
	r := cmp.Or(o.Rounding, qwoty.RoundLineHalfUp)
	b.Rounding.Policy, b.Rounding.Mode = string(r), "half_away_from_zero"
	if r.HalfEven() {
		b.Rounding.Mode = "half_even"
	}
	b.Rounding.Decimals = int(qwoty.CurrencyExponent(qwoty.DefaultCurrency))
	b.Rounding.CurrencyExceptions = qwoty.MinorUnitExceptions()
	b.Rounding.Applies = "each line's amount and discount, then the tax, each rounded to the currency's decimals, then summed"
	if r.PerDocument() {
		b.Rounding.Applies = "the lines' unrounded figures summed, then each of the document's figures rounded once to the currency's decimals"
	}
	b.Tax.Mode = "exclusive"
	b.Tax.DefaultRate = "0"
	b.Tax.Basis = "one rate per quote (taxMode quote) or per line (taxMode line), on the subtotal less line discounts and the quote discount, added to the total"
	return out, nil
}
