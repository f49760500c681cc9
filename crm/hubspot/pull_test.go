package hubspot_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/store/storetest"
)

// pullEnv is pulling as the engine runs it: crmsync.PullOnce on a real
// database, against the emulator, whose clock runs with the real one plus
// steps a test takes (so that records changed one after another have
// distinct modification times, and the rate limits' windows still move).
type pullEnv struct {
	t    *testing.T
	hs   *hstest.Server
	a    *hubspot.Adapter
	w    *crmsynctest.World
	pool *pgxpool.Pool
	clk  *stepClock
}

type stepClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Step moves the clock d ahead.
func (c *stepClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

func newPullEnv(t *testing.T, portal hstest.Portal, page int) *pullEnv {
	t.Helper()
	e := &pullEnv{t: t, clk: &stepClock{}}
	portal.ID, portal.Domain = hstest.DefaultPortalID, hstest.DefaultPortalDomain
	portal.Users = []hstest.User{{ID: hstest.DefaultAdminID, Email: hstest.DefaultAdminEmail, Installer: true}}
	e.hs = hstest.New(t, hstest.Options{Portals: []hstest.Portal{portal}, Now: e.clk.Now})
	e.a = hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: hstest.DefaultRedirectURL, AuthURL: e.hs.URL, APIURL: e.hs.URL, PullPage: page})
	e.w = crmsynctest.New(t, e.a, hstest.DefaultRedirectURL, crmsync.Options{Workers: -1})
	e.pool = storetest.Pool(t, e.w.DB)
	return e
}

// pull runs every stream to its end and fails the test on a stream's error.
func (e *pullEnv) pull() crmsync.PullReport {
	e.t.Helper()
	rep, err := crmsync.PullOnce(context.Background(), e.w.DB, e.a, e.w.Conn, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range rep.Streams {
		if s.Err != nil || !s.Complete {
			e.t.Fatalf("stream %s: complete %v, error %v", s.Stream, s.Complete, s.Err)
		}
	}
	return rep
}

// put adds a product a second after the last change.
func (e *pullEnv) put(id, name string) {
	e.clk.Step(time.Second)
	e.hs.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: id, Properties: map[string]string{"name": name, "price": "1"}})
}

func (e *pullEnv) products() []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT crm_id FROM catalog_products WHERE connection_id = $1 ORDER BY crm_id`, e.w.Conn.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func (e *pullEnv) scan(sql string, dest ...any) {
	e.t.Helper()
	if err := e.pool.QueryRow(context.Background(), sql, e.w.Conn.ID).Scan(dest...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// A full pull stores each object as HubSpot holds it: the company's
// address, the deal with its primary company and its contact people (the
// one without an email left out), each product with its price in each of
// the account's currencies.
func TestPullEachObject(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{
		Currencies: []string{"EUR", "USD"},
		Companies: []hstest.Company{
			{ID: "101", Name: "Acme", Properties: map[string]string{"domain": "acme.example", "phone": "+33 1 23 45 67 89",
				"address": "1 rue de la Paix", "city": "Paris", "zip": "75002", "state": "IDF", "country": "France"}},
			{ID: "102", Name: "Acme Holdings"},
		},
		Contacts: []hstest.Contact{
			{ID: "201", Properties: map[string]string{"email": "Ann@Acme.example", "firstname": "Ann", "lastname": "Lee", "phone": "+33 6"}},
			{ID: "202", Properties: map[string]string{"firstname": "No", "lastname": "Email"}},
		},
		Deals: []hstest.Deal{{ID: "301", Name: "Acme - 200 licences", Amount: "1200.50", Currency: "EUR", Stage: "qualifiedtobuy",
			CloseDate: "2026-03-31T00:00:00.000Z", CompanyIDs: []string{"102", "101"}, ContactIDs: []string{"201", "202"}}},
		Products: []hstest.Product{
			{ID: "401", Properties: map[string]string{"hs_sku": "A-1", "name": "Licence", "description": "Per seat", "price": "10",
				"hs_price_eur": "10", "hs_price_usd": "12.50"}},
			{ID: "402", Properties: map[string]string{"name": "Setup", "price": "5"}},
		},
	}, 0)
	rep := e.pull()
	if n := len(rep.Streams); n != 6 {
		t.Errorf("%d streams, want 6", n)
	}

	var name, email, phone, street, city, zip, region, country string
	e.scan(`SELECT name, email, phone, street, city, postal_code, region, country FROM customers
		WHERE connection_id = $1 AND crm_account_id = '101'`, &name, &email, &phone, &street, &city, &zip, &region, &country)
	if name != "Acme" || email != "" || phone != "+33 1 23 45 67 89" || street != "1 rue de la Paix" || city != "Paris" ||
		zip != "75002" || region != "IDF" || country != "France" {
		t.Errorf("customer 101 = %q %q %q %q %q %q %q %q", name, email, phone, street, city, zip, region, country)
	}

	var amount decimal.Decimal
	var currency, stage, closeDate, account string
	e.scan(`SELECT name, amount, currency, stage, close_date::text, account_crm_id FROM crm_deals WHERE connection_id = $1 AND crm_id = '301'`,
		&name, &amount, &currency, &stage, &closeDate, &account)
	if name != "Acme - 200 licences" || !amount.Equal(decimal.RequireFromString("1200.50")) || currency != "EUR" ||
		stage != "qualifiedtobuy" || closeDate != "2026-03-31" || account != "102" {
		t.Errorf("deal 301 = %q %s %q %q %q company %q (want the primary company 102, listed after 101)", name, amount, currency, stage, closeDate, account)
	}
	var contacts int
	e.scan(`SELECT count(*), min(c.name), min(c.email) FROM crm_deal_contacts dc JOIN crm_contacts c USING (connection_id, email)
		WHERE dc.connection_id = $1 AND dc.deal_crm_id = '301'`, &contacts, &name, &email)
	if contacts != 1 || name != "Ann Lee" || email != "ann@acme.example" {
		t.Errorf("deal 301's contacts: %d, %q <%s>; want Ann Lee alone", contacts, name, email)
	}

	var sku string
	e.scan(`SELECT sku, name FROM catalog_products WHERE connection_id = $1 AND crm_id = '401'`, &sku, &name)
	if sku != "A-1" || name != "Licence" {
		t.Errorf("product 401 = %q %q", sku, name)
	}
	rows, err := e.pool.Query(context.Background(), `SELECT product_crm_id || ' ' || currency || ' ' || trim_scale(unit_price)::text FROM catalog_prices
		WHERE connection_id = $1 ORDER BY 1`, e.w.Conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var prices []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		prices = append(prices, s)
	}
	rows.Close()
	// 402 has no hs_price_eur: its "price" is the company currency's; it
	// has no price in USD.
	if want := []string{"401 EUR 10", "401 USD 12.5", "402 EUR 5"}; !slices.Equal(prices, want) {
		t.Errorf("prices %v, want %v", prices, want)
	}
	// One search per live stream (each fits a page); the deal's links in
	// three calls (companies, contacts, the contacts' read); the
	// currencies once.
	for _, typ := range []string{"companies", "deals", "products"} {
		if n := e.hs.Searches(typ); n != 1 {
			t.Errorf("%d searches of %s, want 1", n, typ)
		}
	}
	if n := e.hs.SearchRateLimited() + e.hs.RateLimited(); n != 0 {
		t.Errorf("%d 429s", n)
	}
}

// A record changed while the listing is read moves to its end: paging by
// the time itself reads it there; paging by the Search API's offset would
// skip the record that took its place.
func TestPullRecordChangedMidListingIsNotMissed(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{}, 2)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		e.put(id, "Product "+id)
	}
	e.hs.SetSearchHook(func(n int) {
		if n == 2 {
			// Between the first page (1, 2) and the second: 1 changes.
			e.clk.Step(time.Second)
			e.hs.Touch(hstest.DefaultPortalID, "products", "1")
		}
	})
	e.pull()
	if got := e.products(); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("products pulled %v, want all 5", got)
	}
}

// More records than a page changed in the same millisecond (an import):
// the listing reads that millisecond by id, then goes on after it.
func TestPullSameMillisecond(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{}, 2)
	e.clk.Step(time.Second)
	var ids []string
	for _, id := range []string{"11", "12", "13", "14", "15"} {
		e.hs.PutProduct(hstest.DefaultPortalID, hstest.Product{ID: id, Properties: map[string]string{"name": id}})
		ids = append(ids, id)
	}
	// Put them all at one time.
	e.clk.Step(time.Second)
	for _, id := range ids {
		e.hs.Touch(hstest.DefaultPortalID, "products", id)
	}
	e.put("16", "later")
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.pull()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the listing did not end")
	}
	if got := e.products(); !slices.Equal(got, []string{"11", "12", "13", "14", "15", "16"}) {
		t.Errorf("products pulled %v, want all 6", got)
	}
}

// An archived product is marked deleted, never removed; restored, the mark
// goes.
func TestPullArchiveMarksRestoreClears(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{}, 0)
	e.put("21", "Kept")
	e.put("22", "Archived")
	e.pull()
	e.clk.Step(time.Second)
	if !e.hs.Archive(hstest.DefaultPortalID, "products", "22") {
		t.Fatal("no product 22 to archive")
	}
	e.pull()
	var deleted int
	e.scan(`SELECT count(*) FILTER (WHERE crm_deleted_at IS NOT NULL) FROM catalog_products WHERE connection_id = $1`, &deleted)
	if got := e.products(); !slices.Equal(got, []string{"21", "22"}) || deleted != 1 {
		t.Fatalf("after the archive: products %v, %d marked; want both kept, 22 marked", got, deleted)
	}
	var marked bool
	e.scan(`SELECT crm_deleted_at IS NOT NULL FROM catalog_products WHERE connection_id = $1 AND crm_id = '22'`, &marked)
	if !marked {
		t.Error("product 22 is not marked deleted")
	}
	e.clk.Step(time.Second)
	if !e.hs.Restore(hstest.DefaultPortalID, "products", "22") {
		t.Fatal("product 22 could not be restored")
	}
	e.pull()
	e.scan(`SELECT crm_deleted_at IS NOT NULL FROM catalog_products WHERE connection_id = $1 AND crm_id = '22'`, &marked)
	if marked {
		t.Error("product 22 is still marked deleted after its restore")
	}
}

// Fetch reads records by id in one batch read: a live deal with its
// links, an archived one Deleted as of its archivedAt, an unknown one
// Deleted.
func TestPullFetch(t *testing.T) {
	e := newPullEnv(t, hstest.Portal{
		Companies: []hstest.Company{{ID: "101", Name: "Acme"}},
		Deals:     []hstest.Deal{{ID: "301", Name: "Live", CompanyIDs: []string{"101"}}, {ID: "302", Name: "Gone"}},
	}, 0)
	e.clk.Step(time.Minute)
	e.hs.Archive(hstest.DefaultPortalID, "deals", "302")
	archivedAt := e.clk.Now()
	sy := e.a.Sync()
	b := synctest.NewBudget(sy.Buckets(e.w.Conn, 1)...)
	got, err := e.a.Pull().Fetch(context.Background(), session.New(e.w.DB, e.a, e.w.Conn), b, crm.KindDeal, []string{"301", "302", "999", "not-an-id"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]crm.Pulled{}
	for _, r := range got {
		byID[r.ID] = r
	}
	if len(got) != 3 {
		t.Errorf("%d records, want 3 (the bad id left out): %+v", len(got), got)
	}
	if r := byID["301"]; r.Deleted || r.Deal == nil || r.Deal.Name != "Live" || r.Deal.AccountID != "101" {
		t.Errorf("301 = %+v", r)
	}
	if r := byID["302"]; !r.Deleted || r.Modified.Sub(archivedAt).Abs() > time.Second {
		t.Errorf("302 = %+v, want Deleted at %s", r, archivedAt)
	}
	if r := byID["999"]; !r.Deleted {
		t.Errorf("999 = %+v, want Deleted", r)
	}
	if n := e.hs.BatchCalls("deals", "read"); n != 2 {
		t.Errorf("%d batch reads, want 2 (the live ones, then the missing ones among the archived)", n)
	}
}

// A connection made before pulling (without contacts' and products' read
// scopes) pulls its companies and deals, the deals without their contact
// people, and has no product streams.
func TestPullWithAnOlderConnection(t *testing.T) {
	older := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return slices.Contains(hubspot.PullScopes, s) })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{RequiredScopes: older}}, older...)
	e.hs.PutContact(hstest.DefaultPortalID, hstest.Contact{ID: "201", Properties: map[string]string{"email": "a@acme.example"}})
	e.hs.PutDeal(hstest.DefaultPortalID, hstest.Deal{ID: "301", Name: "With a contact", ContactIDs: []string{"201"}})
	rep, err := crmsync.PullOnce(context.Background(), e.db, e.a, e.conn, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rep.Streams {
		names = append(names, s.Stream)
		if s.Err != nil || !s.Complete {
			t.Errorf("stream %s: complete %v, %v", s.Stream, s.Complete, s.Err)
		}
	}
	if want := []string{"customer", "deal", "customer_archived", "deal_archived"}; !slices.Equal(names, want) {
		t.Errorf("streams %v, want %v", names, want)
	}
	var deals, contacts int
	pool := storetest.Pool(t, e.db)
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM crm_deals WHERE crm_id = '301'),
		(SELECT count(*) FROM crm_deal_contacts)`).Scan(&deals, &contacts); err != nil {
		t.Fatal(err)
	}
	if deals != 1 || contacts != 0 {
		t.Errorf("%d deals 301, %d deal contacts; want the deal without contacts", deals, contacts)
	}
}
