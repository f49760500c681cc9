package testcrm

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM's inbound sync: a change listing per object (GET
// /api/changes/{object}: records modified at or after since, oldest
// first, deleted ones as tombstones, a keyset cursor) and a batch read by
// ids (GET /api/batch/{object}). Every call takes one unit of the "calls"
// bucket, the same as the pushes. A record whose last modifier is the
// connection's user is Qwoty's own write coming back (Echo).

// PageSize is how many records a listing page asks for (the API's most).
const PageSize = 100

// Pull is the CRM's inbound sync.
func (a *Adapter) Pull() crm.Puller { return puller{a} }

type puller struct{ a *Adapter }

// objects are the API's objects by the kind of record they hold.
var objects = map[string]string{crm.KindCustomer: "companies", crm.KindDeal: "deals", crm.KindProduct: "products"}

// Streams: companies before the deals that name them, then the catalogue
// (prices are fields of products).
func (puller) Streams(*qwoty.Connection) []crm.Stream {
	return []crm.Stream{
		{Name: crm.KindCustomer, Kind: crm.KindCustomer, Bucket: "calls"},
		{Name: crm.KindDeal, Kind: crm.KindDeal, Bucket: "calls"},
		{Name: crm.KindProduct, Kind: crm.KindProduct, Bucket: "calls"},
	}
}

// wireRecord is a record as the API answers it.
type wireRecord struct {
	ID         string    `json:"id"`
	ModifiedAt time.Time `json:"modified_at"`
	ModifiedBy string    `json:"modified_by"`
	Deleted    bool      `json:"deleted"`
	Company    *struct {
		Name       string            `json:"name"`
		Email      string            `json:"email"`
		Phone      string            `json:"phone"`
		Street     string            `json:"street"`
		City       string            `json:"city"`
		PostalCode string            `json:"postal_code"`
		Region     string            `json:"region"`
		Country    string            `json:"country"`
		Fields     map[string]string `json:"fields"`
	} `json:"company"`
	Deal *struct {
		Name      string `json:"name"`
		Amount    string `json:"amount"`
		Currency  string `json:"currency"`
		Stage     string `json:"stage"`
		CloseDate string `json:"close_date"`
		CompanyID string `json:"company_id"`
		Contacts  []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Email string `json:"email"`
			Phone string `json:"phone"`
			Role  string `json:"role"`
		} `json:"contacts"`
		Fields map[string]string `json:"fields"`
	} `json:"deal"`
	Product *struct {
		SKU         string            `json:"sku"`
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Active      bool              `json:"active"`
		Prices      map[string]string `json:"prices"`
	} `json:"product"`
}

// Pull reads one page of stream's listing.
func (p puller) Pull(ctx context.Context, s crm.Session, b crm.Budget, stream string, from crm.PullFrom) (crm.PullPage, error) {
	object, ok := objects[stream]
	if !ok {
		return crm.PullPage{}, fmt.Errorf("%s has no stream %q", Name, stream)
	}
	q := url.Values{"limit": {strconv.Itoa(PageSize)}}
	if !from.Since.IsZero() {
		q.Set("since", from.Since.UTC().Format(time.RFC3339Nano))
	}
	if from.Cursor != "" {
		q.Set("cursor", from.Cursor)
	}
	var page struct {
		Records []wireRecord `json:"records"`
		Next    string       `json:"next"`
	}
	calls, err := p.get(ctx, s, b, "/api/changes/"+object, q, &page)
	out := crm.PullPage{Calls: calls, Next: page.Next}
	if err != nil {
		return out, err
	}
	user := s.Connection().CRMUserID
	for _, w := range page.Records {
		r, err := toPulled(stream, w, user)
		if err != nil {
			return out, err
		}
		out.Records = append(out.Records, r)
	}
	// The API answers every field of a record: the extra ones need no
	// asking.
	crm.Asked(out.Records, from.Fields)
	return out, nil
}

// Fetch reads ids of kind, a hundred a call; an id the CRM does not know
// comes back deleted as of the CRM's time of the answer.
func (p puller) Fetch(ctx context.Context, s crm.Session, b crm.Budget, kind string, ids []string, fields []string) ([]crm.Pulled, error) {
	object, ok := objects[kind]
	if !ok {
		return nil, fmt.Errorf("%s has no records of kind %q", Name, kind)
	}
	user := s.Connection().CRMUserID
	var out []crm.Pulled
	for start := 0; start < len(ids); start += PageSize {
		chunk := ids[start:min(start+PageSize, len(ids))]
		var ans struct {
			Records []wireRecord `json:"records"`
			Now     time.Time    `json:"now"`
		}
		if _, err := p.get(ctx, s, b, "/api/batch/"+object, url.Values{"ids": {strings.Join(chunk, ",")}}, &ans); err != nil {
			return out, err
		}
		found := map[string]bool{}
		for _, w := range ans.Records {
			r, err := toPulled(kind, w, user)
			if err != nil {
				return out, err
			}
			found[w.ID] = true
			out = append(out, r)
		}
		for _, id := range chunk {
			if !found[id] {
				out = append(out, crm.Pulled{Kind: kind, ID: id, Modified: ans.Now, Deleted: true})
			}
		}
	}
	crm.Asked(out, fields)
	return out, nil
}

// get makes one API call after taking its unit of the budget.
func (p puller) get(ctx context.Context, s crm.Session, b crm.Budget, path string, q url.Values, out any) (int, error) {
	if err := b.Take(ctx, "calls", 1); err != nil {
		return 0, err
	}
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodGet, Base: s.Connection().InstanceURL,
			Path: path, Query: q, Token: token, Timeout: DefaultTimeout, HTTP: p.a.o.HTTP, Refused: apiErrors.Answer}, out)
	})
	return 1, syncer{p.a}.classify(ctx, b, err)
}

// toPulled reads a record of kind; user is the connection's CRM user,
// whose changes are Qwoty's own.
func toPulled(kind string, w wireRecord, user string) (crm.Pulled, error) {
	r := crm.Pulled{Kind: kind, ID: w.ID, Modified: w.ModifiedAt, Deleted: w.Deleted,
		Echo: user != "" && strings.EqualFold(w.ModifiedBy, user)}
	if r.Deleted {
		return r, nil
	}
	switch {
	case kind == crm.KindCustomer && w.Company != nil:
		c := w.Company
		r.Customer = &crm.PulledCustomer{Name: c.Name, Email: c.Email, Phone: c.Phone, Street: c.Street, City: c.City,
			PostalCode: c.PostalCode, Region: c.Region, Country: c.Country}
		// The company's own fields by their API names too, as the other
		// CRMs keep every field they read: the standard mappings name them.
		r.Fields = map[string]string{}
		maps.Copy(r.Fields, c.Fields)
		r.Fields["name"], r.Fields["email"] = c.Name, c.Email
	case kind == crm.KindDeal && w.Deal != nil:
		d := w.Deal
		pd := &crm.PulledDeal{Name: d.Name, Currency: d.Currency, Stage: d.Stage, CloseDate: d.CloseDate, AccountID: d.CompanyID}
		if d.Amount != "" {
			amt, err := decimal.NewFromString(d.Amount)
			if err != nil {
				return r, fmt.Errorf("deal %s: amount %q: %w", w.ID, d.Amount, err)
			}
			pd.Amount = &amt
		}
		for _, c := range d.Contacts {
			if strings.TrimSpace(c.Email) == "" {
				continue // cannot be matched to anyone
			}
			pd.Contacts = append(pd.Contacts, crm.PulledContact{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Role: c.Role})
		}
		r.Deal, r.Fields = pd, d.Fields
	case kind == crm.KindProduct && w.Product != nil:
		pr := w.Product
		pp := &crm.PulledProduct{SKU: pr.SKU, Name: pr.Name, Description: pr.Description, Active: pr.Active}
		for _, cur := range slices.Sorted(maps.Keys(pr.Prices)) {
			v := pr.Prices[cur]
			price, err := decimal.NewFromString(v)
			if err != nil {
				return r, fmt.Errorf("product %s: price %q: %w", w.ID, v, err)
			}
			pp.Prices = append(pp.Prices, crm.PulledPrice{ProductID: w.ID, Currency: cur, UnitPrice: price, Active: pr.Active})
		}
		r.Product = pp
	default:
		return r, fmt.Errorf("%s %s came without its data", kind, w.ID)
	}
	return r, nil
}
