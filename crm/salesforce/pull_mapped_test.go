package salesforce_test

import (
	"context"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Mappings that pull read their own fields: the query selects the custom
// fields they name, so an Account's Legal_Name__c becomes the customer's
// name and its Billing_Email__c the email, and an Opportunity's
// Quote_Title__c the quote's title, in a listing and in a fetch; a name
// that is no field's API name never reaches a query.
func TestPullMappedFields(t *testing.T) {
	w := newPullWorld(t, 0)
	ctx := context.Background()
	for _, f := range []struct{ object, name, typ string }{
		{"Account", "Legal_Name__c", "string"}, {"Account", "Billing_Email__c", "email"}, {"Opportunity", "Quote_Title__c", "string"},
	} {
		if err := w.emu.AddField(w.org, f.object, sftest.CustomField{Name: f.name, Label: f.name, Type: f.typ, Length: 255}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []qwoty.Mapping{
		{QwotyField: "customer.name", Object: "customer", CRMField: "Legal_Name__c", Direction: qwoty.FromCRM, Policy: qwoty.CRMWins},
		{QwotyField: "customer.email", Object: "customer", CRMField: "Billing_Email__c", Direction: qwoty.FromCRM, Policy: qwoty.CRMWins},
		{QwotyField: "quote.title", Object: "deal", CRMField: "Quote_Title__c", Direction: qwoty.BothWays, Policy: qwoty.CRMWins},
	} {
		if _, err := w.DB.SaveMapping(ctx, w.Conn.WorkspaceID, w.Conn.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	acc := w.insert(t, "Account", map[string]any{"Name": "Globex", "Legal_Name__c": "Globex Corporation", "Billing_Email__c": "ap@globex.example"})
	opp := w.insert(t, "Opportunity", map[string]any{"Name": "Globex deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "AccountId": acc})
	w.pull(t)
	q, err := w.DB.CreateQuote(ctx, w.Scope(opp), store.NewQuote{Title: "Draft", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Second)
	if err := w.emu.Update(w.org, "Opportunity", opp, map[string]any{"Quote_Title__c": "Globex renewal"}); err != nil {
		t.Fatal(err)
	}
	w.pull(t)
	var name, email string
	w.scalar(t, &name, `SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = $2`, acc)
	w.scalar(t, &email, `SELECT email FROM customers WHERE connection_id = $1 AND crm_account_id = $2`, acc)
	if name != "Globex Corporation" || email != "ap@globex.example" {
		t.Errorf("customer %q <%s>; want the mapped fields' values", name, email)
	}
	if got, err := w.DB.GetQuote(ctx, w.Scope(opp), q.ID); err != nil || got.Title != "Globex renewal" {
		t.Fatalf("quote title %q (%v), want Quote_Title__c's", got.Title, err)
	}

	b := synctest.NewBudget(w.a.Sync().Buckets(w.Conn, 1)...)
	s := session.New(w.DB, w.a, w.Conn)
	recs, err := w.a.Pull().Fetch(ctx, s, b, crm.KindDeal, []string{opp}, []string{"Quote_Title__c"})
	if err != nil || len(recs) != 1 || recs[0].Fields["Quote_Title__c"] != "Globex renewal" {
		t.Fatalf("fetch: %+v, %v", recs, err)
	}
	for _, bad := range []string{"Name FROM Account", "Id,Name", "x'--"} {
		if _, err := w.a.Pull().Fetch(ctx, s, b, crm.KindDeal, []string{opp}, []string{bad}); err == nil {
			t.Errorf("the field name %q went into a query", bad)
		}
	}
}
