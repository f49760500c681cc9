package salesforce_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/store/storetest"
)

// pullWorld is a workspace connected to an emulated org whose clock the
// test moves, pulling pages of page rows.
type pullWorld struct {
	*crmsynctest.World
	emu   *sftest.Server
	a     *salesforce.Adapter
	clock *testClock
	org   string
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newPullWorld(t *testing.T, page int) *pullWorld {
	t.Helper()
	callback := "http://localhost:8080" + salesforce.CallbackPath
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	emu := sftest.New(t, sftest.Options{App: sftest.App{CallbackURLs: []string{callback}}, Now: clock.Now,
		Orgs: []sftest.Org{{ID: sftest.DefaultOrgID, MyDomain: sftest.DefaultMyDomain, APILimit: 1_000_000, Users: []sftest.User{
			{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Email: "admin@acme.example", Name: "Ada Admin", Admin: true}}}}})
	a := salesforce.NewAdapter(salesforce.Options{ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
		RedirectURL: callback, LoginURL: emu.URL, PullPageSize: page})
	w := crmsynctest.New(t, a, callback, crmsync.Options{Workers: -1})
	return &pullWorld{World: w, emu: emu, a: a, clock: clock, org: sftest.DefaultOrgID}
}

func (w *pullWorld) insert(t *testing.T, object string, fields map[string]any) string {
	t.Helper()
	id, err := w.emu.Insert(w.org, object, fields)
	if err != nil {
		t.Fatalf("insert %s: %v", object, err)
	}
	return id
}

func (w *pullWorld) pull(t *testing.T) crmsync.PullReport {
	t.Helper()
	rep, err := crmsync.PullOnce(context.Background(), w.DB, w.a, w.Conn, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Streams {
		if s.Err != nil || !s.Complete {
			t.Fatalf("stream %s: complete %v, %v", s.Stream, s.Complete, s.Err)
		}
	}
	return rep
}

func (w *pullWorld) scalar(t *testing.T, dst any, sql string, args ...any) {
	t.Helper()
	if err := storetest.Pool(t, w.DB).QueryRow(context.Background(), sql, append([]any{w.Conn.ID}, args...)...).Scan(dst); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Every object is pulled into its table: the account, the opportunity with
// its contact roles (the one without an email left out), the product and
// its standard price.
func TestPullEveryObject(t *testing.T) {
	w := newPullWorld(t, 0)
	acc := w.insert(t, "Account", map[string]any{"Name": "Globex", "BillingStreet": "1 Main St", "BillingCity": "Springfield",
		"BillingPostalCode": "12345", "BillingState": "OR", "BillingCountry": "USA", "Phone": "+1 555 0100"})
	ann := w.insert(t, "Contact", map[string]any{"FirstName": "Ann", "LastName": "Buyer", "Email": "Ann@Globex.example", "AccountId": acc})
	bob := w.insert(t, "Contact", map[string]any{"LastName": "Nomail", "AccountId": acc})
	opp := w.insert(t, "Opportunity", map[string]any{"Name": "Globex renewal", "StageName": "Prospecting", "CloseDate": "2027-03-31",
		"AccountId": acc, "Amount": 1234.5})
	w.insert(t, "OpportunityContactRole", map[string]any{"OpportunityId": opp, "ContactId": ann, "Role": "Decision Maker"})
	w.insert(t, "OpportunityContactRole", map[string]any{"OpportunityId": opp, "ContactId": bob, "Role": "Influencer"})
	prod := w.insert(t, "Product2", map[string]any{"Name": "Widget", "ProductCode": "W-1", "Description": "A widget", "IsActive": true})
	entry := w.insert(t, "PricebookEntry", map[string]any{"Pricebook2Id": w.emu.StandardPricebook(w.org), "Product2Id": prod,
		"UnitPrice": 99.95, "IsActive": true})

	before := w.emu.Requests()
	rep := w.pull(t)
	// The org's facts (a Composite and UserInfo), then one query per stream.
	if calls := w.emu.Requests() - before; calls != 6 || rep.Calls != 6 {
		t.Errorf("a first pull of one page per stream made %d requests (report %d), want 6", calls, rep.Calls)
	}
	var name, city, region string
	w.scalar(t, &name, `SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = $2`, acc)
	w.scalar(t, &city, `SELECT city FROM customers WHERE connection_id = $1 AND crm_account_id = $2`, acc)
	w.scalar(t, &region, `SELECT region FROM customers WHERE connection_id = $1 AND crm_account_id = $2`, acc)
	if name != "Globex" || city != "Springfield" || region != "OR" {
		t.Errorf("customer = %q, %q, %q", name, city, region)
	}
	var amount decimal.Decimal
	var currency, account string
	w.scalar(t, &amount, `SELECT amount FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, opp)
	w.scalar(t, &currency, `SELECT currency FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, opp)
	w.scalar(t, &account, `SELECT account_crm_id FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, opp)
	if !amount.Equal(decimal.RequireFromString("1234.5")) || currency != "USD" || account != acc {
		t.Errorf("deal = %s %s, account %s", amount, currency, account)
	}
	var contacts int
	var role string
	w.scalar(t, &contacts, `SELECT count(*) FROM crm_deal_contacts WHERE connection_id = $1 AND deal_crm_id = $2`, opp)
	w.scalar(t, &role, `SELECT role FROM crm_deal_contacts WHERE connection_id = $1 AND deal_crm_id = $2 AND email = $3`, opp, "ann@globex.example")
	if contacts != 1 || role != "Decision Maker" {
		t.Errorf("deal contacts = %d, Ann's role %q; want 1, Decision Maker", contacts, role)
	}
	var sku string
	w.scalar(t, &sku, `SELECT sku FROM catalog_products WHERE connection_id = $1 AND crm_id = $2`, prod)
	var price decimal.Decimal
	w.scalar(t, &price, `SELECT unit_price FROM catalog_prices WHERE connection_id = $1 AND entry_id = $2`, entry)
	if sku != "W-1" || !price.Equal(decimal.RequireFromString("99.95")) {
		t.Errorf("product %q at %s", sku, price)
	}

	// Nothing changed: the next pull reads one empty page per stream.
	before = w.emu.Requests()
	w.pull(t)
	if calls := w.emu.Requests() - before; calls != 4 {
		t.Errorf("a pull with nothing new made %d requests, want 4", calls)
	}
}

// A record changed while a listing is read is not missed: seven products
// saved in the same millisecond, three a page; before the second page one
// already read and one not yet read are renamed. Every product is stored,
// each with its newest name.
func TestPullChangedMidListing(t *testing.T) {
	w := newPullWorld(t, 3)
	var ids []string
	for i := range 7 {
		ids = append(ids, w.insert(t, "Product2", map[string]any{"Name": "P" + string(rune('1'+i)), "ProductCode": "SKU" + string(rune('1'+i)), "IsActive": true}))
	}
	w.emu.BeforeQuery(w.org, func(n int) {
		// Query 1 is the first page of customers, 2 deals, 3 products'
		// first page: 4 is the products' second.
		if n != 4 {
			return
		}
		w.clock.Add(time.Second)
		for _, id := range []string{ids[0], ids[4]} {
			if err := w.emu.Update(w.org, "Product2", id, map[string]any{"Name": "renamed"}); err != nil {
				t.Error(err)
			}
		}
	})
	w.pull(t)
	var n int
	w.scalar(t, &n, `SELECT count(*) FROM catalog_products WHERE connection_id = $1`)
	if n != 7 {
		t.Errorf("%d products stored, want 7", n)
	}
	for _, id := range []string{ids[0], ids[4]} {
		var name string
		w.scalar(t, &name, `SELECT name FROM catalog_products WHERE connection_id = $1 AND crm_id = $2`, id)
		if name != "renamed" {
			t.Errorf("product %s is %q, want its change made mid-listing", id, name)
		}
	}
}

// A deletion comes back in the next listing (QueryAll): the copy is
// marked, not deleted.
func TestPullDelete(t *testing.T) {
	w := newPullWorld(t, 0)
	prod := w.insert(t, "Product2", map[string]any{"Name": "Gone soon", "ProductCode": "G-1", "IsActive": true})
	opp := w.insert(t, "Opportunity", map[string]any{"Name": "Lost", "StageName": "Prospecting", "CloseDate": "2027-01-01"})
	w.pull(t)
	w.clock.Add(time.Minute)
	if err := w.emu.Delete(w.org, "Product2", prod); err != nil {
		t.Fatal(err)
	}
	if err := w.emu.Delete(w.org, "Opportunity", opp); err != nil {
		t.Fatal(err)
	}
	w.pull(t)
	var deleted bool
	w.scalar(t, &deleted, `SELECT crm_deleted_at IS NOT NULL FROM catalog_products WHERE connection_id = $1 AND crm_id = $2`, prod)
	if !deleted {
		t.Error("the deleted product's copy is not marked deleted")
	}
	w.scalar(t, &deleted, `SELECT crm_deleted_at IS NOT NULL FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, opp)
	if !deleted {
		t.Error("the deleted opportunity's copy is not marked deleted")
	}
}

// A save by the connection's own user is an echo; a person's is not.
func TestPullEcho(t *testing.T) {
	w := newPullWorld(t, 0)
	ours := w.insert(t, "Opportunity", map[string]any{"Name": "Ours", "StageName": "Prospecting", "CloseDate": "2027-01-01"})
	theirs := w.insert(t, "Opportunity", map[string]any{"Name": "Theirs", "StageName": "Prospecting", "CloseDate": "2027-01-01"})
	if err := w.emu.UpdateAs(w.org, sftest.DefaultAdminID, "Opportunity", ours, map[string]any{"StageName": "Closed Won"}); err != nil {
		t.Fatal(err)
	}
	rep := w.pull(t)
	var echo bool
	w.scalar(t, &echo, `SELECT echo FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, ours)
	if !echo {
		t.Error("the integration user's save is not an echo")
	}
	w.scalar(t, &echo, `SELECT echo FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, theirs)
	if echo {
		t.Error("a person's save is taken for an echo")
	}
	echoes := 0
	for _, s := range rep.Streams {
		echoes += s.Echoes
	}
	if echoes != 1 {
		t.Errorf("%d echoes reported, want 1", echoes)
	}
}

// Fetch reads records by id: one in the recycle bin and one the org does
// not know come back deleted, in one call.
func TestPullFetch(t *testing.T) {
	w := newPullWorld(t, 0)
	live := w.insert(t, "Product2", map[string]any{"Name": "Live", "ProductCode": "L-1", "IsActive": true})
	binned := w.insert(t, "Product2", map[string]any{"Name": "Binned", "ProductCode": "B-1", "IsActive": true})
	if err := w.emu.Delete(w.org, "Product2", binned); err != nil {
		t.Fatal(err)
	}
	unknown := "01t5g00000ZZZZZ"
	p := w.a.Pull()
	s := session.New(w.DB, w.a, w.Conn)
	b := &synctest.Budget{}
	got, err := p.Fetch(context.Background(), s, b, crm.KindProduct, []string{live, binned, unknown}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]crm.Pulled{}
	for _, r := range got {
		byID[r.ID[:15]] = r
	}
	if r := byID[live[:15]]; r.Deleted || r.Product == nil || r.Product.Name != "Live" {
		t.Errorf("live product: %+v", r)
	}
	if r := byID[binned[:15]]; !r.Deleted {
		t.Errorf("product in the recycle bin: %+v, want deleted", r)
	}
	if r, ok := byID[unknown]; !ok || !r.Deleted {
		t.Errorf("unknown product: %+v, want deleted", r)
	}
	if _, err := p.Fetch(context.Background(), s, b, crm.KindProduct, []string{"006000000000001"}, nil); err == nil ||
		!strings.Contains(err.Error(), "not the id") {
		t.Errorf("an opportunity id fetched as a product: %v", err)
	}
}
