package sftest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/salesforce"
)

// What tests do to an org's data and read back from it, as an admin or a
// rep would in the org's own pages: the same rules apply as to the API.

// db returns an org's data, locked; the caller unlocks it.
func (s *Server) db(orgID string) *orgDB {
	s.mu.Lock()
	d := s.mustOrg(orgID).db
	s.mu.Unlock()
	d.mu.Lock()
	return d
}

// Insert creates a record as a user of the org would (the object's rules
// and the validation rules apply) and returns its id. Numbers may be given
// as decimal.Decimal, int or float64.
func (s *Server) Insert(orgID, object string, fields map[string]any) (string, error) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if !d.visible(o) {
		return "", fmt.Errorf("sftest: no object %s in org %s", object, orgID)
	}
	tx := d.data.clone()
	id, err := d.insert(tx, o, jsonFields(fields))
	if err != nil {
		return "", err
	}
	d.data = tx
	return id, nil
}

// Update changes a record as a user would.
func (s *Server) Update(orgID, object, id string, fields map[string]any) error {
	d := s.db(orgID)
	defer d.mu.Unlock()
	tx := d.data.clone()
	if err := d.update(tx, lookupObject(object), id, jsonFields(fields)); err != nil {
		return err
	}
	d.data = tx
	return nil
}

// Delete deletes a record as a user would.
func (s *Server) Delete(orgID, object, id string) error {
	d := s.db(orgID)
	defer d.mu.Unlock()
	tx := d.data.clone()
	if err := d.delete(tx, lookupObject(object), id); err != nil {
		return err
	}
	d.data = tx
	return nil
}

// jsonFields turns Go values into the JSON values a request body decodes to.
func jsonFields(fields map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range fields {
		switch x := v.(type) {
		case decimal.Decimal:
			out[k] = json.Number(x.String())
		case int:
			out[k] = json.Number(decimal.NewFromInt(int64(x)).String())
		case float64:
			out[k] = json.Number(decimal.NewFromFloat(x).String())
		default:
			out[k] = v
		}
	}
	return out
}

// Record returns a copy of a record, nil when there is none.
func (s *Server) Record(orgID, object, id string) Record {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if o == nil {
		return nil
	}
	r, err := d.find(d.data, o, id)
	if err != nil {
		return nil
	}
	return maps.Clone(r)
}

// Records returns copies of an object's records whose field equals value
// (every record when field is ""), in creation order.
func (s *Server) Records(orgID, object, field, value string) []Record {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if o == nil {
		return nil
	}
	var out []Record
	for _, r := range d.data.all(o) {
		if field == "" || r.String(field) == value {
			out = append(out, maps.Clone(r))
		}
	}
	return out
}

// LineItems are an opportunity's products (OpportunityLineItem).
func (s *Server) LineItems(orgID, opportunityID string) []Record {
	return s.Records(orgID, "OpportunityLineItem", "OpportunityId", opportunityID)
}

// Quotes are an opportunity's quotes.
func (s *Server) Quotes(orgID, opportunityID string) []Record {
	return s.Records(orgID, "Quote", "OpportunityId", opportunityID)
}

// QuoteLineItems are a quote's lines.
func (s *Server) QuoteLineItems(orgID, quoteID string) []Record {
	return s.Records(orgID, "QuoteLineItem", "QuoteId", quoteID)
}

// CountByRef counts an object's records whose Qwoty__Ref__c is ref: more
// than one is a duplicate sync made.
func (s *Server) CountByRef(orgID, object, ref string) int {
	return len(s.Records(orgID, object, "Qwoty__Ref__c", ref))
}

// StandardPricebook is the id of the org's standard price book.
func (s *Server) StandardPricebook(orgID string) string {
	d := s.db(orgID)
	defer d.mu.Unlock()
	return d.data.standardPricebook()
}

// APIUsage reports the org's API calls in the last 24 hours and its
// allocation.
func (s *Server) APIUsage(orgID string) (used, limit int) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	return d.apiUsed, d.apiLimit
}

// SetAPIUsage sets the org's calls already made and its allocation (0
// keeps it), as other integrations using the org's allocation would.
func (s *Server) SetAPIUsage(orgID string, used, limit int) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.apiUsed = used
	if limit > 0 {
		d.apiLimit = limit
	}
}

// SetQuotesEnabled turns Quotes on or off (Setup → Quote Settings); the
// org's quotes stay, hidden while Quotes are off.
func (s *Server) SetQuotesEnabled(orgID string, on bool) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.quotes = on
}

// SetRefUnique makes Qwoty__Ref__c lose its unique index (false), as a
// field an admin made without "Unique" would: upserts can then match
// several records (300 Multiple Choices).
func (s *Server) SetRefUnique(orgID string, unique bool) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.refUnique = unique
}

// AddValidationRule adds a validation rule to the org.
func (s *Server) AddValidationRule(orgID string, rule ValidationRule) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.rules = append(d.rules, rule)
}

// AccessToken issues an access token for a user directly, for tests of the
// REST API that need no OAuth flow.
func (s *Server) AccessToken(userID string) string {
	s.mu.Lock()
	u := s.users[userID]
	s.mu.Unlock()
	if u == nil {
		panic("sftest: no user " + userID)
	}
	return s.tokens.Issue(grant{user: u, scope: "api refresh_token"}, "").Token
}

// IsDMLError reports whether err is a refusal of Insert, Update or Delete
// with Salesforce's status code, and returns its message.
func IsDMLError(err error, code string) (string, bool) {
	var e *dmlError
	if errors.As(err, &e) && strings.EqualFold(e.Code, code) {
		return e.Message, true
	}
	return "", false
}

// BeforeQuery sets fn to run before each Query or QueryAll request of the
// org is answered, with the request's number (from 1), outside the org's
// lock: it may change records, as a user would between the pages of a
// listing. nil removes it.
func (s *Server) BeforeQuery(orgID string, fn func(n int)) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.beforeQuery, d.queries = fn, 0
}

// UpdateAs changes a record as the user userID saves it (through the API
// or a page): LastModifiedById names them. An integration's own writes,
// made with its token, are saved as its user.
func (s *Server) UpdateAs(orgID, userID, object, id string, fields map[string]any) error {
	d := s.db(orgID)
	defer d.mu.Unlock()
	uid, err := salesforce.NormalizeID(userID)
	if err != nil {
		return err
	}
	d.actor = uid
	defer func() { d.actor = HandUser }()
	tx := d.data.clone()
	if err := d.update(tx, lookupObject(object), id, jsonFields(fields)); err != nil {
		return err
	}
	d.data = tx
	return nil
}

// InsertMany creates records of one object as Insert does, in one
// transaction (a data import): a test seeds a large catalogue with it.
func (s *Server) InsertMany(orgID, object string, records []map[string]any) ([]string, error) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	o := lookupObject(object)
	if !d.visible(o) {
		return nil, fmt.Errorf("sftest: no object %s in org %s", object, orgID)
	}
	tx := d.data.clone()
	ids := make([]string, 0, len(records))
	for _, fields := range records {
		id, err := d.insert(tx, o, jsonFields(fields))
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	d.data = tx
	return ids, nil
}
