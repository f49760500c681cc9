package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
)

// The listings' SOQL. Every listing is
//
//	SELECT … FROM Object WHERE SystemModstamp >= :since
//	  [AND (SystemModstamp > :t OR (SystemModstamp = :t AND Id > :id))]
//	ORDER BY SystemModstamp, Id LIMIT 2000
//
// through QueryAll. Each page is a query of its own, from the previous
// page's last (SystemModstamp, Id): a record changed while the listing is
// read moves to its end and is read there, and records sharing a stamp
// are split by Id, so none is skipped. A query locator (nextRecordsUrl)
// is not used: it lives on Salesforce's side for a while only, whereas a
// listing's cursor is stored between jobs, possibly hours apart.
// SystemModstamp, not LastModifiedDate: it also moves when the system
// changes a record (a roll-up, an automation), and it is indexed.

// objectQuery is how one kind of record is listed and read.
type objectQuery struct {
	object, prefix string
	// columns are the selected fields; multiCols those only a
	// multi-currency org has.
	columns, multiCols []string
	// sub is a sub-query in the SELECT list ("" for none).
	sub string
	// where is a condition every query of the kind has ("" for none).
	where  func(of orgFacts) string
	record func(of orgFacts, r row) (crm.Pulled, error)
}

// systemColumns are selected from every object.
var systemColumns = []string{"SystemModstamp", "LastModifiedById", "IsDeleted"}

var queries = map[string]*objectQuery{
	crm.KindCustomer: {object: "Account", prefix: "001",
		columns: []string{"Name", "BillingStreet", "BillingCity", "BillingPostalCode", "BillingState", "BillingCountry", "Phone"},
		record:  customerRecord},
	crm.KindDeal: {object: objOpportunity, prefix: "006",
		columns: []string{"Name", "Amount", "StageName", "CloseDate", "AccountId"}, multiCols: []string{"CurrencyIsoCode"},
		// The contact roles in the same query: no call per opportunity.
		sub:    "(SELECT ContactId, Role, Contact.Name, Contact.Email, Contact.Phone FROM OpportunityContactRoles)",
		record: dealRecord},
	crm.KindProduct: {object: objProduct, prefix: "01t",
		columns: []string{"ProductCode", "Name", "Description", "IsActive"}, record: productRecord},
	// The standard price book's entries: every product's list price in
	// each currency (a custom price book's are prices of a deal's own).
	crm.KindPrice: {object: objEntry, prefix: "01u",
		columns: []string{"Product2Id", "UnitPrice", "IsActive"}, multiCols: []string{"CurrencyIsoCode"},
		where:  func(of orgFacts) string { return "Pricebook2Id = " + soqlString(of.std) },
		record: priceRecord},
}

// selectList is the query's SELECT … FROM, with the extra fields the
// admin's mappings read (checked by pullFields) that it does not select
// already.
func (q *objectQuery) selectList(of orgFacts, extra []string) string {
	cols := append([]string{"Id"}, q.columns...)
	if of.multi {
		cols = append(cols, q.multiCols...)
	}
	cols = append(cols, systemColumns...)
	for _, f := range extra {
		if !slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, f) }) {
			cols = append(cols, f)
		}
	}
	if q.sub != "" {
		cols = append(cols, q.sub)
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + q.object
}

// soqlTime is a dateTime literal, to the millisecond SystemModstamp keeps.
func soqlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// listing is a page's query: changes at or after since, after the keyset
// position after (none on a listing's first page).
func (q *objectQuery) listing(of orgFacts, since time.Time, after *keyset, limit int, extra []string) string {
	var conds []string
	if q.where != nil {
		conds = append(conds, q.where(of))
	}
	if !since.IsZero() {
		conds = append(conds, "SystemModstamp >= "+soqlTime(since))
	}
	if after != nil {
		t := soqlTime(after.at)
		conds = append(conds, "(SystemModstamp > "+t+" OR (SystemModstamp = "+t+" AND Id > "+soqlString(after.id)+"))")
	}
	s := q.selectList(of, extra)
	if len(conds) > 0 {
		s += " WHERE " + strings.Join(conds, " AND ")
	}
	return s + fmt.Sprintf(" ORDER BY SystemModstamp, Id LIMIT %d", limit)
}

// byIDs is Fetch's query of an IN list.
func (q *objectQuery) byIDs(of orgFacts, list string, extra []string) string {
	return q.selectList(of, extra) + " WHERE Id IN " + list
}

// fieldName is what a field's API name can be (letters, digits and
// underscores, from a letter, at most 80 with a namespace and __c): the
// only names put into a query's SELECT list.
var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

// pullFields checks the extra fields of a listing or fetch of kind: only
// customers and deals read them.
func pullFields(kind string, names []string) ([]string, error) {
	if kind != crm.KindCustomer && kind != crm.KindDeal {
		return nil, nil
	}
	for _, n := range names {
		if !fieldName.MatchString(n) {
			return nil, crm.Rejected(fmt.Errorf("salesforce: %q is not a field's API name", n))
		}
	}
	return names, nil
}

// keyset is a listing's position: the last row's stamp and id.
type keyset struct {
	at time.Time
	id string
}

// encodeCursor writes a position as "v1|<stamp>|<id>".
func encodeCursor(k keyset) string {
	return "v1|" + k.at.UTC().Format(time.RFC3339Nano) + "|" + k.id
}

func decodeCursor(s string) (*keyset, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "|")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, fmt.Errorf("salesforce: %q is not a listing cursor", s)
	}
	at, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return nil, fmt.Errorf("salesforce: %q is not a listing cursor: %w", s, err)
	}
	id, err := NormalizeID(parts[2])
	if err != nil {
		return nil, fmt.Errorf("salesforce: %q is not a listing cursor: %w", s, err)
	}
	return &keyset{at: at, id: id}, nil
}

// queryAll runs soql through QueryAll (records in the recycle bin
// included, IsDeleted true) and reads every batch of its answer: a page's
// LIMIT keeps it to one, unless Salesforce cuts a query with a sub-query
// into smaller batches.
func queryAll(ctx context.Context, p *push, soql string) ([]row, error) {
	next := dataPath + "/queryAll/?q=" + url.QueryEscape(soql)
	var out []row
	for next != "" {
		var raw json.RawMessage
		if err := p.call(ctx, http.MethodGet, next, nil, &raw); err != nil {
			return nil, err
		}
		var page queryAnswer
		if err := decodeJSON(raw, &page); err != nil {
			return nil, fmt.Errorf("salesforce: a query answer is not the expected JSON: %w", err)
		}
		out = append(out, page.Records...)
		next = ""
		if !page.Done {
			next = page.Next
		}
	}
	return out, nil
}
