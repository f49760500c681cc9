package pipedrive

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Deals made from Qwoty (issue 18, docs/sync-pipedrive.md "Deals made from
// Qwoty"): an organization for the customer, then a deal on it.
//
// Pipedrive has no upsert and no unique field, so exactly once rests on a
// custom field: the organization's and the deal's "Qwoty ref" (RefFieldName,
// a text field of each object, made through organizationFields and
// dealFields the first time, as the order field is), which holds Qwoty's
// reference (qwoty.AccountRef, qwoty.DealRef). FindAccount{Ref} and FindDeal
// look it up with the object's search (GET /api/v2/organizations/search,
// /api/v2/deals/search, fields=custom_fields), checking the value
// themselves; since the documentation says nothing of how soon a search
// finds what was just made, a search that finds nothing (or is refused) is
// followed by a look at the hundred newest organizations (deals) through
// the list, which is read from the database. A name is matched by the
// organizations' search on name with exact_match (which ignores case),
// compared again here without regard to case. Organizations have no web
// domain field, so a match by domain is a match by name.
//
// Every call takes one request of the burst window (and of the search
// window for a search) and its token cost of the daily budget, as sync's.

var _ crm.DealMaker = (*Adapter)(nil)

// RefFieldName is the name of the organization and deal custom field that
// holds Qwoty's reference of an organization or a deal it made.
const RefFieldName = "Qwoty ref"

// DealScopes are the scopes making deals needs beyond sync's: an
// organization is made with contacts:full ("Contacts: Full access": create,
// read, update and delete persons and organizations), its field too
// (assumed: the scopes page lists organizationFields under it).
var DealScopes = []string{"contacts:full"}

// Token costs of the deal maker's calls: the v2 adds 5 and the searches 20,
// as the product's add and search (assumed: the reference's Cost of these
// endpoints was not checked).
const (
	costAddEntity = 5
	costSearch    = 20
)

// refFallback is how many of the newest entities a look-up by reference
// reads when the search found nothing: the one made by a run whose answer
// was lost is among them unless a hundred more were made since.
const refFallback = 100

// DealsReady: the deal is pushed as any once made (sync's scopes), and the
// organization needs contacts:full.
func (a *Adapter) DealsReady(conn *qwoty.Connection) error {
	if err := a.Sync().Ready(conn); err != nil {
		return err
	}
	var missing []string
	for _, s := range DealScopes {
		if !slices.Contains(conn.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the Pipedrive connection was not granted %s, which making organizations for deals needs",
		strings.Join(missing, " and "))
}

// refObjects are the paths of the objects a reference is kept on: their
// fields, their field creation, their search and their list.
var refObjects = map[string]struct{ fields, addField, search, list string }{
	"customer": {fieldPaths["customer"], "/api/v1/organizationFields", "/api/v2/organizations/search", "/api/v2/organizations"},
	"deal":     {fieldPaths["deal"], "/api/v1/dealFields", "/api/v2/deals/search", "/api/v2/deals"},
}

// refField finds object's RefFieldName field and returns its code; "" when
// there is none and create is false, else it makes it (textField).
func (p *pusher) refField(ctx context.Context, object string, create bool) (string, error) {
	paths := refObjects[object]
	return p.textField(ctx, paths.fields, paths.addField, objectTitle(object), RefFieldName, "keeps its references", create)
}

func objectTitle(object string) string {
	if object == "customer" {
		return "organization"
	}
	return object
}

// searchItem is an item of a v2 search's answer. custom_fields lists the
// custom values that matched (assumed; read leniently).
type searchItem struct {
	Item struct {
		ID     int64           `json:"id"`
		Name   string          `json:"name"`
		Custom json.RawMessage `json:"custom_fields"`
	} `json:"item"`
}

// holds reports whether a search item's custom_fields show value, as a
// list of values or as an object of them.
func (it searchItem) holds(value string) bool {
	var list []any
	if json.Unmarshal(it.Item.Custom, &list) == nil {
		for _, v := range list {
			if s, ok := v.(string); ok && s == value {
				return true
			}
		}
		return false
	}
	var obj map[string]any
	if json.Unmarshal(it.Item.Custom, &obj) == nil {
		for _, v := range obj {
			if s, ok := v.(string); ok && s == value {
				return true
			}
		}
	}
	return false
}

// search runs a v2 search of object for term in field, exactly or not
// (the term anywhere in the value: the caller compares).
func (p *pusher) search(ctx context.Context, object, field, term string, exact bool) ([]searchItem, error) {
	var out struct {
		Items []searchItem `json:"items"`
	}
	q := url.Values{"term": {term}, "fields": {field}, "exact_match": {strconv.FormatBool(exact)}, "limit": {"100"}}
	err := p.do(ctx, request{method: http.MethodGet, path: refObjects[object].search, query: q, cost: costSearch, search: true}, &out)
	return out.Items, err
}

// refused reports whether err is Pipedrive's 400 to a request (a search it
// does not take as sent).
func refused(err error) bool { return status(err) == http.StatusBadRequest }

// findRef finds the oldest entity of object whose RefFieldName holds ref:
// by the search, else among the newest through the list. "" when there is
// none (no field: nothing was ever made).
func (p *pusher) findRef(ctx context.Context, object, ref string) (string, error) {
	code, err := p.refField(ctx, object, false)
	if err != nil || code == "" {
		return "", err
	}
	// Not exact_match: v1's search documents it for terms of 30 characters
	// or less, and a reference is longer; the values are compared here.
	items, err := p.search(ctx, object, "custom_fields", ref, false)
	if err != nil && !refused(err) {
		return "", err
	}
	best := int64(0)
	for _, it := range items {
		if it.holds(ref) && (best == 0 || it.Item.ID < best) {
			best = it.Item.ID
		}
	}
	if best != 0 {
		return strconv.FormatInt(best, 10), nil
	}
	var page []struct {
		ID     int64          `json:"id"`
		Custom map[string]any `json:"custom_fields"`
	}
	q := url.Values{"sort_by": {"add_time"}, "sort_direction": {"desc"}, "limit": {strconv.Itoa(refFallback)}}
	if err := p.do(ctx, request{method: http.MethodGet, path: refObjects[object].list, query: q, cost: costList}, &page); err != nil {
		return "", err
	}
	for _, e := range page {
		if v, _ := e.Custom[code].(string); v == ref && (best == 0 || e.ID < best) {
			best = e.ID
		}
	}
	if best != 0 {
		return strconv.FormatInt(best, 10), nil
	}
	return "", nil
}

// FindAccount looks for an organization: by Qwoty's reference, else by name
// (exact but for case; a match by domain too, organizations having no
// domain field). When several match, the oldest (the smallest id).
func (a *Adapter) FindAccount(ctx context.Context, s crm.Session, b crm.Budget, m crm.AccountMatch) (string, error) {
	p := a.filer(s, b)
	if m.Ref != "" {
		id, err := p.findRef(ctx, "customer", m.Ref)
		return id, crm.ClassifyDeal(ctx, b, err)
	}
	name := strings.TrimSpace(m.Name)
	if name == "" {
		return "", nil
	}
	items, err := p.search(ctx, "customer", "name", name, true)
	if refused(err) && len([]rune(name)) >= 2 {
		// A name exact_match does not take (v1 documents it for terms of
		// 30 characters or less): the term anywhere, compared here.
		items, err = p.search(ctx, "customer", "name", name, false)
	}
	if err != nil {
		return "", crm.ClassifyDeal(ctx, b, err)
	}
	best := int64(0)
	for _, it := range items {
		if strings.EqualFold(strings.TrimSpace(it.Item.Name), name) && (best == 0 || it.Item.ID < best) {
			best = it.Item.ID
		}
	}
	if best == 0 {
		return "", nil
	}
	return strconv.FormatInt(best, 10), nil
}

// CreateAccount makes an organization: its name, its address as typed,
// Qwoty's reference in its RefFieldName. Organizations have no email,
// phone or web domain of their own (persons have the first two): those are
// left out.
func (a *Adapter) CreateAccount(ctx context.Context, s crm.Session, b crm.Budget, acc crm.NewAccount) (string, error) {
	p := a.filer(s, b)
	code, err := p.refField(ctx, "customer", true)
	if err != nil {
		return "", crm.ClassifyDeal(ctx, b, err)
	}
	body := map[string]any{"name": acc.Name, "custom_fields": map[string]any{code: acc.Ref}}
	if addr := addressText(acc); addr != "" {
		body["address"] = map[string]any{"value": addr}
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := p.do(ctx, request{method: http.MethodPost, path: "/api/v2/organizations", body: body, cost: costAddEntity}, &out); err != nil {
		return "", crm.ClassifyDeal(ctx, b, err)
	}
	if out.ID <= 0 {
		return "", fmt.Errorf("Pipedrive's answer to the organization's create names no id")
	}
	return strconv.FormatInt(out.ID, 10), nil
}

// addressText is the customer's address as a person types it: "street,
// postal code city, region, country", the parts it has.
func addressText(acc crm.NewAccount) string {
	var parts []string
	for _, v := range []string{acc.Street, strings.TrimSpace(acc.PostalCode + " " + acc.City), acc.Region, acc.Country} {
		if v = strings.TrimSpace(v); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", ")
}

// FindDeal looks for the deal whose RefFieldName holds ref.
func (a *Adapter) FindDeal(ctx context.Context, s crm.Session, b crm.Budget, ref string) (string, error) {
	id, err := a.filer(s, b).findRef(ctx, "deal", ref)
	return id, crm.ClassifyDeal(ctx, b, err)
}

// CreateDeal makes the deal on its organization: title, value, currency,
// expected close date, the stage map's stage (or status) for the quote's
// status (the pipeline's first stage when none), Qwoty's reference in its
// RefFieldName. Pipedrive requires a deal to be linked to a person or an
// organization, so a quote without customer is refused without a call.
func (a *Adapter) CreateDeal(ctx context.Context, s crm.Session, b crm.Budget, d crm.NewDeal) (string, error) {
	if d.AccountID == "" {
		return "", crm.Rejected(fmt.Errorf("Pipedrive makes no deal without an organization or a person: the quote has no customer"))
	}
	org, err := strconv.ParseInt(d.AccountID, 10, 64)
	if err != nil || org <= 0 {
		return "", crm.Rejected(fmt.Errorf("%q is not a Pipedrive organization id", d.AccountID))
	}
	stage, err := stageFields(d.Stage)
	if err != nil {
		return "", crm.Rejected(err)
	}
	p := a.filer(s, b)
	code, err := p.refField(ctx, "deal", true)
	if err != nil {
		return "", crm.ClassifyDeal(ctx, b, err)
	}
	body := map[string]any{"title": d.Name, "org_id": org, "value": json.Number(d.Amount.String()),
		"custom_fields": map[string]any{code: d.Ref}}
	if d.Currency != "" {
		body["currency"] = d.Currency
	}
	if d.CloseDate != "" {
		body["expected_close_date"] = d.CloseDate
	}
	for k, v := range stage {
		body[k] = v
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := p.do(ctx, request{method: http.MethodPost, path: "/api/v2/deals", body: body, cost: costAddEntity}, &out); err != nil {
		return "", crm.ClassifyDeal(ctx, b, err)
	}
	if out.ID <= 0 {
		return "", fmt.Errorf("Pipedrive's answer to the deal's create names no id")
	}
	return strconv.FormatInt(out.ID, 10), nil
}
