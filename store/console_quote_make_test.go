package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A quote made for a customer and sent before it has a record: once its
// deal is made, the customer's link still opens it (on its deal now) and
// takes the customer's answer, whose order is the deal's; the revision
// sent is filed on the deal.
func TestSentLinkFollowsItsDeal(t *testing.T) {
	db := storetest.New(t)
	db.SetDealMaking(func(qwoty.Provider) bool { return true })
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}
	name, ref := "Globex", "erp:customer:1"
	c, _, err := db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: &name, ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	l, err := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Description: "Licence", Quantity: "1", UnitPrice: "10"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", CustomerID: c.ID, CreatedBy: "console:a@x.example", Lines: []qwoty.LineItem{l}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, token, err := db.SendQuote(ctx, s, q.ID, 0, "console:a@x.example", store.SendInput{Recipients: []string{"buyer@globex.example"}, Subject: "Quote", Message: "Hi"}, now)
	if err != nil {
		t.Fatal(err)
	}
	var archives int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM quote_archives WHERE quote_id = $1`, q.ID).Scan(&archives); err != nil || archives != 0 {
		t.Fatalf("%d archives of a quote without a record, %v", archives, err)
	}
	d, err := db.DealCreationOf(ctx, a.ID, q.ID)
	if err != nil {
		t.Fatalf("the sent quote's deal: %v", err)
	}
	if mine, _, err := db.ClaimDealCreation(ctx, d, time.Minute); err != nil || !mine {
		t.Fatalf("claim: %v %v", mine, err)
	}
	if err := db.StartDealStep(ctx, d, store.DealDeal, "001A", store.AccountMatched); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordDeal(ctx, d, store.WriteResult{State: store.DealDone, CRMID: "006DEAL", Action: "created"}); err != nil {
		t.Fatal(err)
	}

	link, err := db.QuoteLink(ctx, token, now)
	if err != nil {
		t.Fatalf("the link after the deal was made: %v", err)
	}
	got, err := db.LinkQuote(ctx, link)
	if err != nil || got.ID != q.ID || got.CRMRecordID != "006DEAL" {
		t.Fatalf("the link's quote: %+v %v, want quote %s on 006DEAL", got, err, q.ID)
	}
	// The customer accepts through that link: the order is the deal's.
	if _, err := db.Decide(ctx, link, store.Decision{Accept: true, VersionHash: qwoty.VersionHash(got), FullName: "Ann Buyer", Consent: true}, now); err != nil {
		t.Fatalf("accepting through the link after the deal was made: %v", err)
	}
	o, err := db.QuoteOrder(ctx, link.Scope(), q.ID)
	if err != nil || o == nil || o.CRMRecordID != "006DEAL" {
		t.Fatalf("the order: %+v %v, want one on 006DEAL", o, err)
	}
	var record string
	var revision int
	if err := db.Pool().QueryRow(ctx, `SELECT crm_record_id, revision FROM quote_archives WHERE quote_id = $1`, q.ID).Scan(&record, &revision); err != nil ||
		record != "006DEAL" || revision != 1 {
		t.Fatalf("the archive after the deal: record %q revision %d, %v; want revision 1 on 006DEAL", record, revision, err)
	}
}

// The same form sent twice, even at once, makes one quote; another
// reference makes another.
func TestCreateQuoteOnce(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}
	name, ref := "Globex", "erp:customer:1"
	c, _, err := db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: &name, ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	n := store.NewQuote{Currency: "EUR", CustomerID: c.ID, Title: "Offer", ExternalRef: "qwoty-console:quote:0123"}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	made := make([]bool, 4)
	for i := range ids {
		wg.Go(func() {
			q, created, err := db.CreateQuoteOnce(ctx, s, n)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], made[i] = q.ID, created
		})
	}
	wg.Wait()
	created := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("sendings made quotes %v, want one", ids)
		}
		if made[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d sendings say they made the quote, want 1", created)
	}
	n.ExternalRef = "qwoty-console:quote:4567"
	if q, created, err := db.CreateQuoteOnce(ctx, s, n); err != nil || !created || q.ID == ids[0] {
		t.Fatalf("another form: %v %v %v", q, created, err)
	}
	// Scoped: another connection's quote of the same reference is not it.
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	bs := store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID}
	n.CustomerID, n.ExternalRef = "", "qwoty-console:quote:0123"
	if q, created, err := db.CreateQuoteOnce(ctx, bs, n); err != nil || !created || q.ID == ids[0] {
		t.Fatalf("another connection's form: %v %v %v", q, created, err)
	}
}
