package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Deals made from Qwoty (docs/sync-salesforce.md, "Deals made from
// Qwoty"): the customer's account is an Account, found by Qwoty's
// reference, by Name (SOQL's = ignores case on it), or by Website (a
// LIKE on the domain narrows, the Go side compares the normalised
// domain); else made. The deal is an Opportunity on it. Both are
// upserted by the package's External ID Qwoty__Ref__c (PATCH
// /sobjects/{type}/Qwoty__Ref__c/{ref}): the unique index makes a repeat
// after a lost answer find the record the lost call made instead of
// making a second, in one call and without "View All Data", and the
// deal job's FindAccount/FindDeal before a repeat adopts it anyway. Each
// call takes one unit of the org's daily allocation, as every sync call.

var _ crm.DealMaker = (*Adapter)(nil)

// DealsReady: the api scope every connection has covers accounts and
// opportunities; the connected user's object permissions and the
// package's fields show as refusals of the calls, which say what to do.
func (a *Adapter) DealsReady(*qwoty.Connection) error { return nil }

// Field lengths of what a deal's making writes (object reference,
// Account and Opportunity).
const (
	accountNameLength     = 255
	opportunityNameLength = 120
)

// dealsHint is what to do when the org lacks the Qwoty Ref of Account or
// Opportunity, or hides it from the connected user.
const dealsHint = "the org's Qwoty package has no Qwoty Ref field on Account and Opportunity (Qwoty__Ref__c), or the user who " +
	"connected Qwoty cannot edit it: upgrade the Qwoty package in Salesforce (Setup → Installed Packages, or the install link " +
	"in Qwoty's Integrations page) and give that user the Qwoty Admin permission set, then retry"

func (a *Adapter) dealer(s crm.Session, b crm.Budget) *push {
	return newPush(a.Sync().(*syncer), s, b, nil, nil)
}

// dealError classifies a failed call of the deal maker's: a field of the
// package missing is permanent and says to upgrade.
func dealError(ctx context.Context, b crm.Budget, err error) error {
	var apiErr *crm.APIError
	if errors.As(err, &apiErr) && missingField(apiErr.Code, apiErr.Message) {
		return crm.Rejected(fmt.Errorf("%s (Salesforce: %s: %s)", dealsHint, apiErr.Code, apiErr.Message))
	}
	return crm.ClassifyDeal(ctx, b, err)
}

// query runs one SOQL query and reads every page of its answer.
func (p *push) query(ctx context.Context, soql string) ([]row, error) {
	var raw json.RawMessage
	if err := p.call(ctx, http.MethodGet, queryURL(soql), nil, &raw); err != nil {
		return nil, err
	}
	return p.rows(ctx, subresult{Status: http.StatusOK, Body: raw})
}

// soqlLike quotes s as a LIKE pattern that finds it anywhere in a value:
// its own % and _ escaped ("LIKE expression only: \%, \_", SOQL's quoted
// string escape sequences).
func soqlLike(s string) string {
	q := soqlString(s)
	q = strings.NewReplacer(`%`, `\%`, `_`, `\_`).Replace(q[1 : len(q)-1])
	return "'%" + q + "%'"
}

// FindAccount queries the Accounts by Qwoty's reference, or by the
// customer's name or web domain; several matches give the oldest.
func (a *Adapter) FindAccount(ctx context.Context, s crm.Session, b crm.Budget, m crm.AccountMatch) (string, error) {
	p := a.dealer(s, b)
	domain := qwoty.NormalizeDomain(m.Domain)
	byDomain := m.Ref == "" && m.By == qwoty.MatchByDomain && domain != ""
	var soql string
	switch {
	case m.Ref != "":
		soql = "SELECT Id FROM Account WHERE " + refField + " = " + soqlString(m.Ref)
	case byDomain:
		// Website holds what people typed ("https://www.Acme.com/"):
		// LIKE narrows to the Accounts whose Website contains the domain,
		// and only those whose own domain is it match.
		soql = "SELECT Id, Website FROM Account WHERE Website LIKE " + soqlLike(domain) + " ORDER BY CreatedDate, Id"
	case strings.TrimSpace(m.Name) == "":
		return "", nil // no name, nothing to match: an Account always has one
	default:
		soql = "SELECT Id FROM Account WHERE Name = " + soqlString(m.Name) + " ORDER BY CreatedDate, Id LIMIT 1"
	}
	rows, err := p.query(ctx, soql)
	if err != nil {
		return "", dealError(ctx, b, err)
	}
	for _, r := range rows {
		if !byDomain || qwoty.NormalizeDomain(r.str("Website")) == domain {
			return r.str("Id"), nil
		}
	}
	return "", nil
}

// CreateAccount upserts the Account by Qwoty's reference: the customer's
// name, web domain (Website), phone and billing address. Account has no
// email field; the email is not written.
func (a *Adapter) CreateAccount(ctx context.Context, s crm.Session, b crm.Budget, acc crm.NewAccount) (string, error) {
	body := map[string]any{"Name": truncate(acc.Name, accountNameLength)}
	for field, v := range map[string]struct {
		value  string
		length int
	}{
		"Website": {acc.Domain, 255}, "Phone": {acc.Phone, 40}, "BillingStreet": {acc.Street, 255}, "BillingCity": {acc.City, 40},
		"BillingPostalCode": {acc.PostalCode, 20}, "BillingState": {acc.Region, 80}, "BillingCountry": {acc.Country, 80},
	} {
		if v.value != "" {
			body[field] = truncate(v.value, v.length)
		}
	}
	id, err := a.dealer(s, b).upsert(ctx, "Account", acc.Ref, body)
	if err != nil {
		return "", dealError(ctx, b, err)
	}
	return id, nil
}

// FindDeal queries the Opportunity carrying Qwoty's reference.
func (a *Adapter) FindDeal(ctx context.Context, s crm.Session, b crm.Budget, ref string) (string, error) {
	rows, err := a.dealer(s, b).query(ctx, "SELECT Id FROM "+objOpportunity+" WHERE "+refField+" = "+soqlString(ref))
	if err != nil {
		return "", dealError(ctx, b, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].str("Id"), nil
}

// CreateDeal reads what the Opportunity needs of the org (its currencies;
// its first open stage when the deal has none), then upserts it by
// Qwoty's reference: two calls.
func (a *Adapter) CreateDeal(ctx context.Context, s crm.Session, b crm.Budget, d crm.NewDeal) (string, error) {
	p := a.dealer(s, b)
	body, err := p.opportunity(ctx, d)
	if err != nil {
		return "", dealError(ctx, b, err)
	}
	id, err := p.upsert(ctx, objOpportunity, d.Ref, body)
	if err != nil {
		return "", dealError(ctx, b, err)
	}
	return id, nil
}

// opportunity is deal d's Opportunity: Name, StageName and CloseDate (the
// three it requires), Amount, AccountId, and in a multi-currency org the
// quote's currency; a single-currency org takes only its own currency, as
// the quote's push would.
func (p *push) opportunity(ctx context.Context, d crm.NewDeal) (map[string]any, error) {
	subs := []subrequest{
		{Method: http.MethodGet, URL: queryURL("SELECT DefaultCurrencyIsoCode FROM Organization"), ReferenceID: "org"},
		// CurrencyType exists only in a multi-currency org: elsewhere the
		// query is refused with INVALID_TYPE (push_facts.go).
		{Method: http.MethodGet, URL: queryURL("SELECT IsoCode FROM CurrencyType WHERE IsActive = true"), ReferenceID: "currencies"},
	}
	if d.Stage == "" {
		subs = append(subs, subrequest{Method: http.MethodGet, ReferenceID: "stage",
			URL: queryURL("SELECT ApiName FROM OpportunityStage WHERE IsActive = true AND IsClosed = false ORDER BY SortOrder LIMIT 1")})
	}
	res, err := p.composite(ctx, false, subs)
	if err != nil {
		return nil, err
	}
	rows, err := p.rows(ctx, res["org"])
	if err != nil {
		return nil, err
	}
	orgCurrency := ""
	if len(rows) > 0 {
		orgCurrency = rows[0].str("DefaultCurrencyIsoCode")
	}
	var currencies []string
	multi := false
	switch cur := res["currencies"]; cur.Status {
	case http.StatusOK:
		multi = true
		if rows, err = p.rows(ctx, cur); err != nil {
			return nil, err
		}
		for _, r := range rows {
			currencies = append(currencies, r.str("IsoCode"))
		}
	case http.StatusBadRequest:
		if _, errs := readBody(cur.Body); len(errs) == 0 || errs[0].code() != "INVALID_TYPE" {
			return nil, queryError(cur.Status, errs)
		}
	default:
		_, errs := readBody(cur.Body)
		return nil, queryError(cur.Status, errs)
	}
	stage := d.Stage
	if stage == "" {
		if rows, err = p.rows(ctx, res["stage"]); err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, crm.Rejected(fmt.Errorf("the org has no active open opportunity stage to start the deal in: set a stage for the quote's status in Qwoty's sync settings"))
		}
		stage = rows[0].str("ApiName")
	}
	name := truncate(strings.TrimSpace(d.Name), opportunityNameLength)
	if name == "" {
		name = "Qwoty quote"
	}
	body := map[string]any{"Name": name, "StageName": stage, "CloseDate": d.CloseDate,
		"Amount": json.Number(d.Amount.StringFixed(qwoty.Places(d.Currency, qwoty.SalesforceScale)))}
	if d.AccountID != "" {
		body["AccountId"] = d.AccountID
	}
	want := strings.ToUpper(d.Currency)
	switch {
	case want == "":
	case multi && !slices.Contains(currencies, want):
		return nil, crm.Rejected(fmt.Errorf("the quote is in %s, which is not one of the org's active currencies (%s): activate it in Salesforce "+
			"(Setup → Manage Currencies), then retry", want, strings.Join(currencies, ", ")))
	case multi:
		body["CurrencyIsoCode"] = want
	case orgCurrency != "" && want != strings.ToUpper(orgCurrency):
		return nil, crm.Rejected(fmt.Errorf("the quote is in %s, and the org keeps every amount in %s (it has one currency)", want, orgCurrency))
	}
	return body, nil
}

// upsert creates or updates the record of object carrying Qwoty's
// reference ref (sObject Rows by External ID: 201 created, 200 updated,
// 300 when several carry it) and returns its id.
func (p *push) upsert(ctx context.Context, object, ref string, body map[string]any) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("salesforce: a %s made by Qwoty needs Qwoty's reference", object)
	}
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	path := dataPath + "/sobjects/" + object + "/" + refField + "/" + url.PathEscape(ref)
	err := p.call(ctx, http.MethodPatch, path, body, &out)
	var apiErr *crm.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusMultipleChoices {
		// Only a Qwoty Ref without its unique index can match twice.
		return "", crm.Rejected(fmt.Errorf("several %s records carry Qwoty's reference %s: keep one, and delete the others, then retry", object, ref))
	}
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("salesforce: the %s upsert answered without an id", object)
	}
	return out.ID, nil
}
