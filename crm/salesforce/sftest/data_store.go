package sftest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/salesforce"
)

// Record is one sObject record as the emulator keeps it: field name →
// value, a string, a bool, a decimal.Decimal or nil. The maps the accessors
// return are copies.
type Record map[string]any

// String returns a field's text ("" when empty or not text).
func (r Record) String(field string) string { s, _ := r[field].(string); return s }

// Decimal returns a number field (zero when empty).
func (r Record) Decimal(field string) decimal.Decimal { d, _ := r[field].(decimal.Decimal); return d }

// Bool returns a checkbox.
func (r Record) Bool(field string) bool { b, _ := r[field].(bool); return b }

// ValidationRule is a validation rule an admin added to an object: it fails
// a save whose record (as it would be saved) matches Fails, with Message,
// as FIELD_CUSTOM_VALIDATION_EXCEPTION.
type ValidationRule struct {
	Object  string
	Message string
	// Field is the field the error is shown on ("" for the top of the page).
	Field string
	Fails func(r Record) bool
}

// orgDB is an org's data and its data settings. mu is held for a whole API
// request, so that requests apply one after another as transactions.
type orgDB struct {
	mu sync.Mutex
	// data is the committed state; a request works on a copy (tx) and
	// swaps it in when it commits.
	data *tables

	orgID string
	name  string
	// currencies are the active currencies of a multi-currency org, the
	// corporate one first; empty in a single-currency org, whose currency
	// is currency.
	currencies []string
	currency   string
	quotes     bool
	// ordersNeedContract: "Enable orders without contracts" is off
	// (data_orders.go).
	ordersNeedContract bool
	syncFields         bool
	// dealFields: the package has the Qwoty Ref of Account and
	// Opportunity (Org.NoDealFields).
	dealFields bool
	refUnique  bool
	rules      []ValidationRule
	// custom are the fields the org's admin added, by object name in
	// lower case (data_describe.go); nil until first used.
	custom map[string][]*field

	apiLimit, apiUsed int
	// now is the org's clock (Options.Now); actor is the user a save is
	// made as: the session's user for an API request, HandUser for what a
	// test does through Insert, Update and Delete.
	now   func() time.Time
	actor string
	// beforeQuery, when set, runs before the n-th query request (counted
	// from 1) is answered, outside the org's lock: a test changes records
	// between the pages of a listing with it.
	beforeQuery func(n int)
	queries     int
	cursors     map[string][]map[string]any // query locators → rows left
	cursorOrder []string
	cursorSeq   int
}

// tables holds every record of an org by object and id, and the ids that
// were deleted (ENTITY_IS_DELETED). bin is the recycle bin: deleted
// records, IsDeleted true, SystemModstamp the deletion's time, which
// queryAll returns for RecycleBinRetention.
type tables struct {
	seq     int
	records map[string]map[string]Record // object name → id → record
	deleted map[string]bool
	bin     map[string]map[string]Record
	// entries indexes the live price book entries by product id: a price
	// book rule looks a product's up on every insert, which a large
	// catalogue makes a scan of every entry otherwise.
	entries map[string][]string
}

// productEntries returns a product's live price book entries.
func (t *tables) productEntries(product string) []Record {
	pbe := t.records["PricebookEntry"]
	out := make([]Record, 0, len(t.entries[product]))
	for _, id := range t.entries[product] {
		if r := pbe[id]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// RecycleBinRetention is how long a deleted record stays in the recycle
// bin, and so in queryAll's answers: 15 days (Salesforce Help, "Recycle
// Bin"; getDeleted's 15-day window is the same bin).
const RecycleBinRetention = 15 * 24 * time.Hour

func cloneTable(src map[string]map[string]Record) map[string]map[string]Record {
	out := make(map[string]map[string]Record, len(src))
	for obj, recs := range src {
		m := make(map[string]Record, len(recs))
		for id, r := range recs {
			m[id] = maps.Clone(r)
		}
		out[obj] = m
	}
	return out
}

func (t *tables) clone() *tables {
	entries := make(map[string][]string, len(t.entries))
	for k, v := range t.entries {
		entries[k] = slices.Clone(v)
	}
	return &tables{seq: t.seq, records: cloneTable(t.records), deleted: maps.Clone(t.deleted), bin: cloneTable(t.bin), entries: entries}
}

// binned returns o's records in the recycle bin deleted at or after since,
// in id order.
func (t *tables) binned(o *object, since time.Time) []Record {
	m := t.bin[o.Name]
	var out []Record
	for _, id := range slices.Sorted(maps.Keys(m)) {
		if at, _ := m[id]["SystemModstamp"].(time.Time); !at.Before(since) {
			out = append(out, m[id])
		}
	}
	return out
}

// stamp is what a save sets on a record: the time, to the millisecond as
// Salesforce keeps it, and who saved.
func (d *orgDB) stamp(rec Record) {
	rec["SystemModstamp"] = d.now().UTC().Truncate(time.Millisecond)
	rec["LastModifiedById"] = d.actor
}

// base62 digits in ASCII order, so that ids sort in creation order.
const idDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID makes the next 18-character id of o: its key prefix, a pod-like
// "5g", a counter.
func (t *tables) newID(o *object) string {
	t.seq++
	n := t.seq
	var digits [10]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = idDigits[n%62]
		n /= 62
	}
	id, _ := salesforce.NormalizeID(o.Prefix + "5g" + string(digits[:]))
	return id
}

func (t *tables) table(o *object) map[string]Record {
	m := t.records[o.Name]
	if m == nil {
		m = map[string]Record{}
		t.records[o.Name] = m
	}
	return m
}

func (t *tables) get(o *object, id string) Record { return t.records[o.Name][id] }

// all returns o's records in id order (creation order).
func (t *tables) all(o *object) []Record {
	m := t.records[o.Name]
	ids := slices.Sorted(maps.Keys(m))
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		out = append(out, m[id])
	}
	return out
}

// where returns o's records whose field equals value, in id order.
func (t *tables) where(o *object, field, value string) []Record {
	var out []Record
	// Only the matches are sorted: a large table is scanned, not sorted.
	for _, r := range t.records[o.Name] {
		if r.String(field) == value {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.String("Id"), b.String("Id")) })
	return out
}

// HandUser is who the test helpers (Insert, Update, Delete) save as: a
// person in the org, not the integration user.
var HandUser = func() string { id, _ := salesforce.NormalizeID("0055g00000HaNdz"); return id }()

func newOrgDB(o Org, id string, now func() time.Time) (*orgDB, error) {
	d := &orgDB{orgID: id, now: now, actor: HandUser, name: cmp.Or(o.Name, "Acme"), currency: cmp.Or(o.Currency, "USD"),
		quotes: !o.NoQuotes, syncFields: !o.NoSyncFields, dealFields: !o.NoDealFields, refUnique: true, ordersNeedContract: o.OrdersNeedContract,
		apiLimit: cmp.Or(o.APILimit, DefaultAPILimit), apiUsed: o.APIUsed, cursors: map[string][]map[string]any{}}
	for _, c := range o.Currencies {
		d.currencies = append(d.currencies, strings.ToUpper(c))
	}
	if len(d.currencies) > 0 {
		d.currency = d.currencies[0]
	}
	d.data = &tables{records: map[string]map[string]Record{}, deleted: map[string]bool{}, bin: map[string]map[string]Record{},
		entries: map[string][]string{}}
	// Every org has its organization record and the standard price book,
	// active (Salesforce creates it inactive in some editions; the sync
	// tests need it usable, as an org that sells products has it).
	org := lookupObject("Organization")
	d.data.table(org)[id] = Record{"Id": id, "Name": d.name, "DefaultCurrencyIsoCode": d.currency}
	pb := lookupObject("Pricebook2")
	pbID := d.data.newID(pb)
	d.data.table(pb)[pbID] = Record{"Id": pbID, "Name": "Standard Price Book", "IsActive": true, "IsStandard": true}
	if d.multi() {
		ct := lookupObject("CurrencyType")
		for i, c := range d.currencies {
			cid := d.data.newID(ct)
			d.data.table(ct)[cid] = Record{"Id": cid, "IsoCode": c, "IsActive": true, "IsCorporate": i == 0}
		}
	}
	opp := lookupObject("Opportunity")
	for _, seed := range o.Opportunities {
		oid, err := salesforce.NormalizeID(seed.ID)
		if err != nil || !strings.HasPrefix(oid, opp.Prefix) {
			return nil, fmt.Errorf("sftest: org %s: %q is not an opportunity id", id, seed.ID)
		}
		rec := Record{"Id": oid, "Name": cmp.Or(seed.Name, "Opportunity"), "StageName": cmp.Or(seed.StageName, "Prospecting"),
			"CloseDate": cmp.Or(seed.CloseDate, strconv.Itoa(time.Now().Year()+1)+"-12-31"), "HasOpportunityLineItem": false}
		if d.multi() {
			rec["CurrencyIsoCode"] = d.currency
		}
		d.stamp(rec)
		rec["CreatedDate"] = rec["SystemModstamp"]
		rec["IsDeleted"] = false
		d.data.table(opp)[oid] = rec
	}
	d.seedStages()
	return d, nil
}

func (d *orgDB) multi() bool { return len(d.currencies) > 0 }

// visible says whether o exists in this org (Quotes enabled, multi-currency).
func (d *orgDB) visible(o *object) bool {
	return o != nil && (!o.Quotes || d.quotes) && (!o.Multi || d.multi())
}

// has says whether f exists on its object in this org.
func (d *orgDB) has(f *field) bool {
	return f != nil && (!f.Multi || d.multi()) && (!f.Package || d.syncFields) && (!f.Deals || d.dealFields)
}

// standardPricebook is the id of the org's standard price book.
func (t *tables) standardPricebook() string {
	for _, r := range t.all(lookupObject("Pricebook2")) {
		if r.Bool("IsStandard") {
			return r.String("Id")
		}
	}
	return ""
}
