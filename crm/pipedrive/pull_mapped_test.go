package pipedrive_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Mappings that pull read their own fields: API v2 answers custom fields
// in an entity's custom_fields object, by their 40-character codes, and
// the pull reads the mapped ones from there, so an organization's custom
// "Legal name" becomes the customer's name and a deal's custom "Quote
// title" the quote's title, in a listing and in a fetch.
func TestPullMappedCustomFields(t *testing.T) {
	e := newPullEnv(t, pdtest.Company{}, 0)
	ctx := context.Background()
	legal := e.pd.AddField(company, pdtest.OrgFields, pdtest.Field{Name: "Legal name", Type: "varchar", Custom: true})
	title := e.pd.AddField(company, pdtest.DealFields, pdtest.Field{Name: "Quote title", Type: "varchar", Custom: true})
	for _, m := range []qwoty.Mapping{
		{QwotyField: "customer.name", Object: "customer", CRMField: legal, Direction: qwoty.FromCRM, Policy: qwoty.CRMWins},
		{QwotyField: "quote.title", Object: "deal", CRMField: title, Direction: qwoty.BothWays, Policy: qwoty.CRMWins},
	} {
		if _, err := e.db.SaveMapping(ctx, e.conn.WorkspaceID, e.conn.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	e.pd.PutOrg(company, pdtest.Org{ID: 7, Name: "Initech", Custom: map[string]any{legal: "Initech Holdings LLC"}, Updated: tPull})
	e.pd.PutDeal(company, pdtest.Deal{ID: 70, Title: "Initech deal", OrgID: 7, Updated: tPull})
	e.pull(t)
	scope := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: "70"}
	q, err := e.db.CreateQuote(ctx, scope, store.NewQuote{Title: "Draft", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	e.pd.SetDealCustomField(company, 70, title, `"Initech renewal"`, tPull.Add(time.Minute))
	e.pull(t)
	if n := e.count(t, `SELECT count(*) FROM customers WHERE connection_id = $1 AND crm_account_id = '7' AND name = 'Initech Holdings LLC'`, e.conn.ID); n != 1 {
		t.Errorf("the customer does not have the custom field's name")
	}
	if got, err := e.db.GetQuote(ctx, scope, q.ID); err != nil || got.Title != "Initech renewal" {
		t.Fatalf("quote title %q (%v), want the custom field's", got.Title, err)
	}

	b := synctest.NewBudget(e.a.Sync().Buckets(e.conn, 1)...)
	s := session.New(e.db, e.a, e.conn)
	recs, err := e.a.Pull().Fetch(ctx, s, b, crm.KindCustomer, []string{strconv.Itoa(7)}, []string{legal, "name"})
	if err != nil || len(recs) != 1 || recs[0].Fields[legal] != "Initech Holdings LLC" || recs[0].Fields["name"] != "Initech" {
		t.Fatalf("fetch: %+v, %v", recs, err)
	}
	if _, err := e.a.Pull().Fetch(ctx, s, b, crm.KindCustomer, []string{"7"}, []string{"name&limit=1"}); err == nil {
		t.Error("a field code with a query in it was accepted")
	}
}
