package testcrm

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM makes deals on companies: GET /api/companies?ref|name|domain
// finds companies, POST /api/companies makes one; GET /api/deals?ref
// finds the deal an integration made, POST /api/deals makes one (tctest's
// deals.go plays them). Each call takes one from the "calls" bucket.

var _ crm.DealMaker = (*Adapter)(nil)

// DealsReady: making deals needs the write scope sync needs.
func (a *Adapter) DealsReady(conn *qwoty.Connection) error { return syncer{a}.Ready(conn) }

type testCompany struct {
	ID string `json:"id"`
}

// call makes one call of the deal maker's, taking from b first.
func (a *Adapter) call(ctx context.Context, s crm.Session, b crm.Budget, method, path string, body, out any) error {
	if err := b.Take(ctx, "calls", 1); err != nil {
		return err
	}
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: method, Base: s.Connection().InstanceURL, Path: path, JSON: body,
			Token: token, Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}, out)
	})
	if err != nil {
		return crm.ClassifyDeal(ctx, b, err)
	}
	return nil
}

// FindAccount looks for companies by ref, domain or name.
func (a *Adapter) FindAccount(ctx context.Context, s crm.Session, b crm.Budget, m crm.AccountMatch) (string, error) {
	q := url.Values{}
	switch {
	case m.Ref != "":
		q.Set("ref", m.Ref)
	case m.By == qwoty.MatchByDomain && m.Domain != "":
		q.Set("domain", m.Domain)
	default:
		q.Set("name", m.Name)
	}
	var out struct {
		Companies []testCompany `json:"companies"`
	}
	if err := a.call(ctx, s, b, http.MethodGet, "/api/companies?"+q.Encode(), nil, &out); err != nil {
		return "", err
	}
	if len(out.Companies) == 0 {
		return "", nil
	}
	return out.Companies[0].ID, nil
}

// CreateAccount posts a company.
func (a *Adapter) CreateAccount(ctx context.Context, s crm.Session, b crm.Budget, acc crm.NewAccount) (string, error) {
	var out testCompany
	err := a.call(ctx, s, b, http.MethodPost, "/api/companies", map[string]string{"name": acc.Name, "domain": acc.Domain, "ref": acc.Ref,
		"email": acc.Email, "phone": acc.Phone, "street": acc.Street, "city": acc.City, "postal_code": acc.PostalCode,
		"region": acc.Region, "country": acc.Country}, &out)
	return out.ID, err
}

// FindDeal looks for the deal carrying ref.
func (a *Adapter) FindDeal(ctx context.Context, s crm.Session, b crm.Budget, ref string) (string, error) {
	var out struct {
		Deals []testCompany `json:"deals"`
	}
	if err := a.call(ctx, s, b, http.MethodGet, "/api/deals?ref="+url.QueryEscape(ref), nil, &out); err != nil {
		return "", err
	}
	if len(out.Deals) == 0 {
		return "", nil
	}
	return out.Deals[0].ID, nil
}

// CreateDeal posts a deal.
func (a *Adapter) CreateDeal(ctx context.Context, s crm.Session, b crm.Budget, d crm.NewDeal) (string, error) {
	var out testCompany
	err := a.call(ctx, s, b, http.MethodPost, "/api/deals", map[string]string{"name": d.Name, "company_id": d.AccountID,
		"currency": d.Currency, "amount": d.Amount.StringFixed(Scale), "stage": d.Stage, "close_date": d.CloseDate, "ref": d.Ref}, &out)
	return out.ID, err
}
