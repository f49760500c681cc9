package hubspot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Deals made from Qwoty (issue 18, docs/sync-hubspot.md "Deals made from
// Qwoty"): a quote made outside HubSpot makes a deal associated with the
// customer's company, found by name or domain (the CRM Search API) or
// made.
//
// Exactly once: the company and the deal carry Qwoty's reference in a
// custom property qwoty_ref with unique values (one per object type, made
// on first use, as the line items' one), so that a create whose answer
// was lost either meets a 409 on the second try, and the record is read
// by its reference, or is found before it by FindAccount{Ref}/FindDeal.
// Those read the record directly (GET .../{ref}?idProperty=qwoty_ref),
// never through the search index, which lags seconds behind a write.

var _ crm.DealMaker = (*Adapter)(nil)

// DealScopes are the scopes making deals needs beyond sync's (which write
// deals and make deal properties) and the card's reads of deals and
// companies: crm.objects.companies.write to create a company,
// crm.schemas.companies.write to make its qwoty_ref property.
var DealScopes = []string{"crm.objects.companies.write", "crm.schemas.companies.write"}

// The objects' paths and the association of a new deal to its company.
const (
	companiesPath           = "/crm/objects/2026-03/companies"
	dealsPath               = "/crm/objects/2026-03/deals"
	companyPropertiesPath   = "/crm/properties/2026-03/companies"
	dealPropertiesPath      = "/crm/properties/2026-03/deals"
	dealToCompanyPrimary    = 5
	companyInformationGroup = "companyinformation"
	dealInformationGroup    = "dealinformation"
	// firstDefaultStage is the default pipeline's first stage, a new
	// deal's when neither the connection's stage map nor DefaultStages
	// have one for the quote's status.
	firstDefaultStage = "appointmentscheduled"
	// nameMatches: a name search reads this many companies, oldest first,
	// and keeps the first whose name is the customer's but for case.
	nameMatches = 20
)

// DealsReady refuses a connection not granted the scopes making deals and
// companies needs: it must be reconnected.
func (a *Adapter) DealsReady(conn *qwoty.Connection) error {
	var missing []string
	for _, sc := range slices.Concat([]string{"crm.objects.deals.read", "crm.objects.companies.read"}, SyncScopes, DealScopes) {
		if !slices.Contains(conn.Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the HubSpot connection was not granted %s, which Qwoty needs to make deals and companies: reconnect HubSpot",
		strings.Join(missing, ", "))
}

// madeObject is one object type the deal maker writes: its path, the path of
// its properties and the group its qwoty_ref goes in.
type madeObject struct {
	name, path, properties, group string
}

var (
	madeCompany = madeObject{"company", companiesPath, companyPropertiesPath, companyInformationGroup}
	madeDeal    = madeObject{"deal", dealsPath, dealPropertiesPath, dealInformationGroup}
)

// FindAccount reads the company carrying m.Ref, or searches companies by
// name or domain.
func (a *Adapter) FindAccount(ctx context.Context, s crm.Session, b crm.Budget, m crm.AccountMatch) (string, error) {
	c := &caller{a: a, sess: s, budget: b}
	if m.Ref != "" {
		id, err := c.byRef(ctx, madeCompany, m.Ref)
		return id, dealError(ctx, b, err)
	}
	id, err := c.searchCompany(ctx, m)
	return id, dealError(ctx, b, err)
}

// CreateAccount makes the company, carrying a.Ref.
func (a *Adapter) CreateAccount(ctx context.Context, s crm.Session, b crm.Budget, acc crm.NewAccount) (string, error) {
	c := &caller{a: a, sess: s, budget: b}
	id, err := c.create(ctx, madeCompany, acc.Ref, newCompanyProperties(acc), nil)
	return id, dealError(ctx, b, err)
}

// FindDeal reads the deal carrying ref.
func (a *Adapter) FindDeal(ctx context.Context, s crm.Session, b crm.Budget, ref string) (string, error) {
	c := &caller{a: a, sess: s, budget: b}
	id, err := c.byRef(ctx, madeDeal, ref)
	return id, dealError(ctx, b, err)
}

// CreateDeal makes the deal, carrying d.Ref, associated with its company
// in the same call (so that it never exists without it).
func (a *Adapter) CreateDeal(ctx context.Context, s crm.Session, b crm.Budget, d crm.NewDeal) (string, error) {
	if d.AccountID != "" && !objectID(d.AccountID) {
		return "", crm.Rejected(fmt.Errorf("%q is not a HubSpot company id", d.AccountID))
	}
	var assocs []inlineAssoc
	if d.AccountID != "" {
		assocs = []inlineAssoc{{To: objectRef{d.AccountID}, Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: dealToCompanyPrimary}}}}
	}
	props, err := newDealProperties(d, (&syncer{a: a}).DefaultStages())
	if err != nil {
		return "", err
	}
	c := &caller{a: a, sess: s, budget: b}
	id, err := c.create(ctx, madeDeal, d.Ref, props, assocs)
	return id, dealError(ctx, b, err)
}

// newCompanyProperties are what a new company holds of the customer: HubSpot
// companies have no email property, so the email is not written.
func newCompanyProperties(acc crm.NewAccount) map[string]string {
	props := map[string]string{"name": crm.Clip(acc.Name, 255), RefProperty: acc.Ref}
	for name, v := range map[string]string{"domain": acc.Domain, "phone": acc.Phone, "address": acc.Street, "city": acc.City,
		"zip": acc.PostalCode, "state": acc.Region, "country": acc.Country} {
		if v = strings.TrimSpace(v); v != "" {
			props[name] = v
		}
	}
	return props
}

// newDealProperties are what a new deal holds of the quote: its name,
// amount, currency, close date (midnight UTC in epoch milliseconds, as
// HubSpot's date properties take it) and stage: the connection's for the
// quote's status, else the one a push would give it (defaults), else the
// default pipeline's first. The pipeline is left to HubSpot, which puts a
// deal without one in the default pipeline.
func newDealProperties(d crm.NewDeal, defaults map[qwoty.Status]string) (map[string]string, error) {
	props := map[string]string{
		"dealname":  crm.Clip(cmp.Or(strings.TrimSpace(d.Name), d.Ref), 255),
		"amount":    d.Amount.String(),
		"dealstage": cmp.Or(d.Stage, defaults[d.Status], firstDefaultStage),
		RefProperty: d.Ref,
	}
	if d.Currency != "" {
		props["deal_currency_code"] = d.Currency
	}
	if d.CloseDate != "" {
		t, err := time.Parse(time.DateOnly, d.CloseDate)
		if err != nil {
			return nil, crm.Rejected(fmt.Errorf("the close date %q is not a date", d.CloseDate))
		}
		props["closedate"] = strconv.FormatInt(t.UnixMilli(), 10)
	}
	return props, nil
}

// byRef reads the record of o whose qwoty_ref is ref: "" when none, or
// when the property does not exist yet (no record can carry it).
func (c *caller) byRef(ctx context.Context, o madeObject, ref string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	q := url.Values{"idProperty": {RefProperty}, "properties": {RefProperty}}
	err := c.call(ctx, burstBucket, http.MethodGet, o.path+"/"+url.PathEscape(ref), q, nil, &out)
	var ae *crm.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return "", nil
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest && propertyMissing(ae):
		return "", nil
	case err != nil:
		return "", err
	case out.ID == "":
		return "", errNotAnswered("the " + o.name + " of " + ref)
	}
	return out.ID, nil
}

// propertyMissing says whether HubSpot refused a call because qwoty_ref
// does not exist on the object (assumed wordings: "Property \"qwoty_ref\"
// does not exist", "Unable to find property qwoty_ref").
func propertyMissing(ae *crm.APIError) bool {
	return mentions(ae, RefProperty) && (strings.Contains(ae.Message, "does not exist") || strings.Contains(ae.Message, "Unable to find property"))
}

// create posts a record of o. qwoty_ref is made first when the portal does
// not have it yet on o (its refusal names it); a conflict (409, or a 400
// saying the qwoty_ref value is already taken: the status is assumed)
// means a record with ref exists, made by an earlier try whose answer was
// lost: it is read and adopted.
func (c *caller) create(ctx context.Context, o madeObject, ref string, props map[string]string, assocs []inlineAssoc) (string, error) {
	body := map[string]any{"properties": props}
	if len(assocs) > 0 {
		body["associations"] = assocs
	}
	var out struct {
		ID string `json:"id"`
	}
	err := c.call(ctx, burstBucket, http.MethodPost, o.path, nil, body, &out)
	if ae, whole := refused(err); whole && ae.Status == http.StatusBadRequest && propertyMissing(ae) {
		if err := c.makeRefProperty(ctx, o); err != nil {
			return "", err
		}
		err = c.call(ctx, burstBucket, http.MethodPost, o.path, nil, body, &out)
	}
	if ae, whole := refused(err); whole && (ae.Status == http.StatusConflict || mentions(ae, RefProperty) && strings.Contains(ae.Message, "already")) {
		id, ferr := c.byRef(ctx, o, ref)
		if ferr != nil || id != "" {
			return id, ferr
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errNotAnswered("the " + o.name + " it created")
	}
	return out.ID, nil
}

// makeRefProperty makes o's property qwoty_ref with unique values. One
// already there (409, made by a call whose answer was lost, or by hand)
// must have unique values, or a repeat could not be told.
func (c *caller) makeRefProperty(ctx context.Context, o madeObject) error {
	def := refPropertyDef()
	def["groupName"] = o.group
	def["description"] = "Set by Qwoty on the " + o.name + " it makes for a quote, so that it makes it once."
	err := c.call(ctx, burstBucket, http.MethodPost, o.properties, nil, def, nil)
	var ae *crm.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		var got struct {
			HasUniqueValue bool `json:"hasUniqueValue"`
		}
		if err = c.call(ctx, burstBucket, http.MethodGet, o.properties+"/"+RefProperty, nil, nil, &got); err == nil && !got.HasUniqueValue {
			return crm.Rejected(fmt.Errorf("the %s property %s exists in HubSpot without unique values, so Qwoty cannot make each %s once: "+
				"delete it in HubSpot (Settings → Properties) and retry, Qwoty makes it again", o.name, RefProperty, o.name))
		}
	}
	if err != nil {
		return fmt.Errorf("make the %s property %s: %w", o.name, RefProperty, err)
	}
	return nil
}

// searchCompany looks for the oldest company named m.Name (exact but for
// case), or whose domain is m.Domain (with or without "www."). The search
// index lags a few seconds behind writes: fine for companies people made,
// which is all a match is for.
func (c *caller) searchCompany(ctx context.Context, m crm.AccountMatch) (string, error) {
	byDomain := m.By == qwoty.MatchByDomain && m.Domain != ""
	var groups []filterGroup
	if byDomain {
		for _, d := range []string{m.Domain, "www." + m.Domain} {
			groups = append(groups, filterGroup{[]searchFilter{{PropertyName: "domain", Operator: "EQ", Value: d}}})
		}
	} else {
		name := strings.TrimSpace(m.Name)
		if name == "" {
			return "", nil
		}
		groups = []filterGroup{{[]searchFilter{{PropertyName: "name", Operator: "EQ", Value: name}}}}
	}
	body := searchRequest{FilterGroups: groups, Properties: []string{"name", "domain"}, Limit: nameMatches,
		Sorts: []searchSort{{PropertyName: "createdate", Direction: "ASCENDING"}}}
	var out struct {
		Results []searchObject `json:"results"`
	}
	if err := c.call(ctx, searchBucket, http.MethodPost, companiesPath+"/search", nil, body, &out); err != nil {
		return "", err
	}
	for _, r := range out.Results {
		// HubSpot's EQ is taken as case-insensitive (assumed); the match
		// is checked here all the same.
		if byDomain && qwoty.NormalizeDomain(r.prop("domain")) == m.Domain ||
			!byDomain && strings.EqualFold(strings.TrimSpace(r.prop("name")), strings.TrimSpace(m.Name)) {
			return r.ID, nil
		}
	}
	return "", nil
}

// dealError classifies a deal maker's call error as crm.DealMaker says: a
// refusal of the data is permanent with HubSpot's words; the rest as the
// file and order calls'.
func dealError(ctx context.Context, b crm.Budget, err error) error {
	if err == nil {
		return nil
	}
	if ae, ok := refused(err); ok {
		return crm.Rejected(errors.New(readable(ae.Message)))
	}
	return crm.ClassifyDeal(ctx, b, err)
}
