package pipedrive_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Pulling through crmsync.PullOnce, with the cursors, marks and records in
// PostgreSQL, against the emulator's v2 lists.

// pullEnv is one connected company whose records a test pulls.
type pullEnv struct {
	pd   *pdtest.Server
	a    *pipedrive.Adapter
	db   *store.DB
	sql  *pgxpool.Pool
	conn *qwoty.Connection
}

var tPull = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// newPullEnv starts a company with c's records (its users are the
// default's), installs the app with scopes and pulls pageSize records a
// page.
func newPullEnv(t *testing.T, c pdtest.Company, pageSize int, scopes ...string) *pullEnv {
	t.Helper()
	c.ID, c.Name, c.Domain = company, "Acme", "acme"
	c.Users = []pdtest.User{{ID: pdtest.DefaultAdminID, Name: "Ada Admin", Email: "ada@acme.example", Admin: true}}
	if scopes == nil {
		scopes = pdtest.SyncScopes
	}
	pd := pdtest.New(t, pdtest.Options{NoBurst: true, Companies: []pdtest.Company{c},
		App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: scopes}})
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL, PullPageSize: pageSize})
	url := storetest.NewDatabase(t)
	db := storetest.Open(t, url, store.Options{})
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &pullEnv{pd: pd, a: a, db: db, sql: pool, conn: connectDB(t, db, a)}
}

// pull runs every stream to its end and fails on a stream's error.
func (e *pullEnv) pull(t *testing.T) crmsync.PullReport {
	t.Helper()
	rep, err := crmsync.PullOnce(context.Background(), e.db, e.a, e.conn, time.Time{})
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

func (e *pullEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.sql.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPullEachObject(t *testing.T) {
	e := newPullEnv(t, pdtest.Company{
		Orgs: []pdtest.Org{{ID: 7, Name: "Globex", Street: "Main St 1", City: "Tallinn", PostalCode: "10111", Region: "Harju",
			Country: "Estonia", Updated: tPull}},
		Persons: []pdtest.Person{{ID: 70, Name: "Gina Globex", OrgID: 7, Emails: []string{"gina@globex.example"}, Phones: []string{"+372 555"}}},
		Deals: []pdtest.Deal{{ID: 3, Title: "Globex - 200 licences", Value: "12000.50", Currency: "EUR", OrgID: 7, PersonID: 70,
			StageID: pdtest.DefaultStageID + 2, CloseDate: "2026-04-30", Updated: tPull},
			{ID: 4, Title: "Won one", Value: "10", Currency: "USD", Status: "won", Updated: tPull}},
		Products: []pdtest.Product{{ID: 500, Name: "Widget", Code: "W-1", Description: "A widget", Updated: tPull,
			Prices: map[string]decimal.Decimal{"EUR": decimal.RequireFromString("9.90"), "USD": decimal.RequireFromString("11")}}},
	}, 0)
	rep := e.pull(t)
	ctx := context.Background()

	var name, street, city, postal, region, country, email string
	if err := e.sql.QueryRow(ctx, `SELECT name, street, city, postal_code, region, country, email FROM customers
		WHERE connection_id = $1 AND crm_account_id = '7'`, e.conn.ID).Scan(&name, &street, &city, &postal, &region, &country, &email); err != nil {
		t.Fatal(err)
	}
	if name != "Globex" || street != "Main St 1" || city != "Tallinn" || postal != "10111" || region != "Harju" || country != "Estonia" || email != "" {
		t.Errorf("customer %q %q %q %q %q %q %q", name, street, city, postal, region, country, email)
	}

	var title, cur, stage, account, closeDate string
	var amount decimal.Decimal
	if err := e.sql.QueryRow(ctx, `SELECT name, amount, currency, stage, account_crm_id, close_date::text FROM crm_deals
		WHERE connection_id = $1 AND crm_id = '3'`, e.conn.ID).Scan(&title, &amount, &cur, &stage, &account, &closeDate); err != nil {
		t.Fatal(err)
	}
	if title != "Globex - 200 licences" || !amount.Equal(decimal.RequireFromString("12000.50")) || cur != "EUR" ||
		stage != "stage:"+strconv.Itoa(pdtest.DefaultStageID+2) || account != "7" || closeDate != "2026-04-30" {
		t.Errorf("deal %q %s %q %q %q %q", title, amount, cur, stage, account, closeDate)
	}
	if n := e.count(t, `SELECT count(*) FROM crm_deals WHERE connection_id = $1 AND crm_id = '4' AND stage = 'won'`, e.conn.ID); n != 1 {
		t.Errorf("the won deal's stage is not won")
	}
	if n := e.count(t, `SELECT count(*) FROM crm_deal_contacts dc JOIN crm_contacts c ON c.connection_id = dc.connection_id
		AND c.email = dc.email WHERE dc.connection_id = $1 AND dc.deal_crm_id = '3' AND c.email = 'gina@globex.example'`, e.conn.ID); n != 1 {
		t.Errorf("the deal's contact person is not stored (%d)", n)
	}

	var sku, pname, desc string
	var active bool
	if err := e.sql.QueryRow(ctx, `SELECT sku, name, description, active FROM catalog_products WHERE connection_id = $1 AND crm_id = '500'`,
		e.conn.ID).Scan(&sku, &pname, &desc, &active); err != nil {
		t.Fatal(err)
	}
	if sku != "W-1" || pname != "Widget" || desc != "A widget" || !active {
		t.Errorf("product %q %q %q %v", sku, pname, desc, active)
	}
	if n := e.count(t, `SELECT count(*) FROM catalog_prices WHERE connection_id = $1 AND product_crm_id = '500'
		AND (currency, unit_price) IN (('EUR', 9.90), ('USD', 11))`, e.conn.ID); n != 2 {
		t.Errorf("%d of the product's 2 prices stored", n)
	}
	// One list page per stream, and one persons list for the deals'
	// contacts: 5 calls of 10 tokens.
	if rep.Calls != 5 || rep.Tokens != 50 || e.pd.APICalls("/api/v2/persons") != 1 {
		t.Errorf("calls %d, tokens %d, persons lists %d; want 5, 50, 1", rep.Calls, rep.Tokens, e.pd.APICalls("/api/v2/persons"))
	}

	// A second pull starts from the marks: the products' listing stops at
	// the first product older than its mark, and nothing is stored again.
	rep = e.pull(t)
	for _, s := range rep.Streams {
		if s.Applied != 0 {
			t.Errorf("stream %s applied %d records again", s.Stream, s.Applied)
		}
	}
}

// A deal updated while its listing is read (after the first page, which
// held it) moves to the end of a listing sorted by update_time: a client
// that follows Pipedrive's cursor (an offset) skips the deal that takes its
// place. Paging by update_time reads every deal.
func TestPullMidListingChangeNotMissed(t *testing.T) {
	var deals []pdtest.Deal
	for i := range 6 {
		deals = append(deals, pdtest.Deal{ID: int64(100 + i), Title: "Deal " + strconv.Itoa(i), Currency: "EUR",
			Updated: tPull.Add(time.Duration(i) * time.Minute)})
	}
	e := newPullEnv(t, pdtest.Company{Deals: deals}, 2)
	e.pd.AfterPage(func(path string, page int) {
		if path == "/api/v2/deals" && page == 1 {
			d, _ := e.pd.Deal(company, 100)
			d.Title, d.Updated = "Deal 0, renamed", tPull.Add(time.Hour)
			e.pd.PutDeal(company, d)
		}
	})
	e.pull(t)
	if n := e.count(t, `SELECT count(*) FROM crm_deals WHERE connection_id = $1`, e.conn.ID); n != 6 {
		t.Errorf("%d of the 6 deals pulled: one was skipped while the listing was read", n)
	}
	if n := e.count(t, `SELECT count(*) FROM crm_deals WHERE connection_id = $1 AND crm_id = '100' AND name = 'Deal 0, renamed'`, e.conn.ID); n != 1 {
		t.Errorf("the renamed deal's new name is not stored")
	}
}

// A deleted deal (status=deleted) and a deleted organization or product
// (gone from the lists: a fetch by id finds none) are marked, never
// deleted.
func TestPullDeletesMark(t *testing.T) {
	e := newPullEnv(t, pdtest.Company{
		Orgs:     []pdtest.Org{{ID: 7, Name: "Globex", Updated: tPull}},
		Deals:    []pdtest.Deal{{ID: 3, Title: "Globex", Currency: "EUR", OrgID: 7, Updated: tPull}},
		Products: []pdtest.Product{{ID: 500, Name: "Widget", Code: "W-1", Updated: tPull}},
	}, 0)
	e.pull(t)
	d, _ := e.pd.Deal(company, 3)
	d.Status, d.Updated = "deleted", time.Now().UTC().Truncate(time.Second)
	e.pd.PutDeal(company, d)
	e.pull(t)
	if n := e.count(t, `SELECT count(*) FROM crm_deals WHERE connection_id = $1 AND crm_id = '3' AND crm_deleted_at IS NOT NULL`, e.conn.ID); n != 1 {
		t.Errorf("the deleted deal is not marked deleted (or was removed)")
	}

	e.pd.DeleteOrg(company, 7)
	e.pd.PutProduct(company, pdtest.Product{ID: 500, Name: "Widget", Code: "W-1", Deleted: true})
	p := e.a.Pull()
	ctx := context.Background()
	s := sessionOf(e)
	b := budgetOf()
	for kind, id := range map[string]string{crm.KindCustomer: "7", crm.KindProduct: "500"} {
		recs, err := p.Fetch(ctx, s, b, kind, []string{id}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || !recs[0].Deleted || recs[0].ID != id {
			t.Fatalf("fetch %s %s: %+v, want it deleted", kind, id, recs)
		}
		if _, err := e.db.StorePulled(ctx, e.conn.WorkspaceID, e.conn.ID, recs); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM customers WHERE connection_id = $1 AND crm_account_id = '7' AND crm_deleted_at IS NOT NULL`, e.conn.ID); n != 1 {
		t.Errorf("the deleted organization is not marked")
	}
	if n := e.count(t, `SELECT count(*) FROM catalog_products WHERE connection_id = $1 AND crm_id = '500' AND crm_deleted_at IS NOT NULL`, e.conn.ID); n != 1 {
		t.Errorf("the deleted product is not marked")
	}
}

// Products have no updated_since: they are listed newest first, and a
// product updated while the listing is read moves to the part already
// read: no other product is skipped, and the next pull reads the one that
// moved (its time is past the mark).
func TestPullProductsMidListing(t *testing.T) {
	var ps []pdtest.Product
	for i := range 6 {
		ps = append(ps, pdtest.Product{ID: int64(500 + i), Name: "P" + strconv.Itoa(i), Code: "P-" + strconv.Itoa(i),
			Updated: tPull.Add(time.Duration(i) * time.Minute)})
	}
	e := newPullEnv(t, pdtest.Company{Products: ps}, 2)
	e.pd.AfterPage(func(path string, page int) {
		if path == "/api/v2/products" && page == 1 {
			e.pd.PutProduct(company, pdtest.Product{ID: 500, Name: "P0 renamed", Code: "P-0", Updated: tPull.Add(time.Hour)})
		}
	})
	e.pull(t)
	if n := e.count(t, `SELECT count(*) FROM catalog_products WHERE connection_id = $1 AND crm_id <> '500'`, e.conn.ID); n != 5 {
		t.Errorf("%d of the 5 products that did not change pulled", n)
	}
	e.pd.AfterPage(nil)
	e.pull(t)
	if n := e.count(t, `SELECT count(*) FROM catalog_products WHERE connection_id = $1 AND crm_id = '500' AND name = 'P0 renamed'`, e.conn.ID); n != 1 {
		t.Errorf("the product renamed during the first pull is not renamed after the second")
	}
}

// A full pull of the catalogue costs one list page (10 tokens) per 500
// products: 1,500 products are 3 pages, 30 tokens; 50,000 would be 100
// pages, 1,000 tokens, a thirtieth of the smallest daily budget (Lite, one
// seat: 30,000), as docs/sync-pipedrive.md says.
func TestPullProductTokens(t *testing.T) {
	var ps []pdtest.Product
	for i := range 1500 {
		ps = append(ps, pdtest.Product{ID: int64(1000 + i), Name: "P" + strconv.Itoa(i), Updated: tPull.Add(time.Duration(i) * time.Second)})
	}
	e := newPullEnv(t, pdtest.Company{Products: ps}, 0)
	e.pull(t)
	if n := e.pd.TokensByRoute()["GET /api/v2/products"]; n != 30 {
		t.Errorf("a full pull of 1,500 products cost %d tokens, want 30", n)
	}
	if n := e.count(t, `SELECT count(*) FROM catalog_products WHERE connection_id = $1`, e.conn.ID); n != 1500 {
		t.Errorf("%d products stored", n)
	}
}
