package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A workspace moves from one CRM account to another and back (HubSpot
// portal → Pipedrive company → Salesforce org → that org's sandbox, whose
// ids are copies → the HubSpot portal again), every account using the same
// record id and the same CRM account id for the customer. No account lists,
// reads, edits or renames the customers of another's quotes; quote numbers
// go on across them; the first account's quotes come back with it.
func TestQuotesBelongToTheCRMAccountTheyWereMadeIn(t *testing.T) {
	db := storetest.New(t)
	const (
		record  = "42" // HubSpot and Pipedrive deal ids are small integers
		account = "7"  // the deal's company / organization
	)
	type acct struct {
		name   string
		params store.AddConnectionParams
		conn   *qwoty.Connection
		quotes []string // newest first
	}
	accounts := []*acct{
		{name: "hubspot", params: store.AddConnectionParams{Provider: qwoty.ProviderHubSpot, ExternalID: "62515"}},
		{name: "pipedrive", params: store.AddConnectionParams{Provider: qwoty.ProviderPipedrive, ExternalID: "54321"}},
		{name: "salesforce", params: store.AddConnectionParams{Provider: qwoty.ProviderSalesforce, ExternalID: "00D00000000000CAAA", MyDomain: "acme"}},
		{name: "sandbox", params: store.AddConnectionParams{Provider: qwoty.ProviderSalesforce, ExternalID: "00D00000000000DAAA", MyDomain: "acme--uat.sandbox", Sandbox: true}},
	}
	nonce := 0
	card := func(a *acct) store.CardResult {
		t.Helper()
		nonce++
		res, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: a.conn.ID, WorkspaceID: a.conn.WorkspaceID,
			Nonce: fmt.Sprintf("scope-nonce-%04d", nonce), NonceExpires: time.Now().Add(time.Minute),
			AccountID: account, AccountName: "Customer of " + a.name, RecordID: record})
		if err != nil || !res.Claimed {
			t.Fatalf("%s: card request: %+v, %v", a.name, res, err)
		}
		return res
	}
	scope := func(a *acct) store.Scope {
		return store.Scope{WorkspaceID: a.conn.WorkspaceID, ConnectionID: a.conn.ID, RecordID: record}
	}
	// sees checks every read of a's scope: the card's batch statement, the
	// list, and each quote by id with its customer.
	sees := func(a *acct) {
		t.Helper()
		var got []string
		for _, q := range card(a).Quotes {
			got = append(got, q.ID)
		}
		if !slices.Equal(got, a.quotes) {
			t.Fatalf("%s: the card request lists %v, want its own quotes %v", a.name, got, a.quotes)
		}
		qs, err := db.ListQuotes(ctx, scope(a))
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, q := range qs {
			got = append(got, q.ID)
		}
		if !slices.Equal(got, a.quotes) {
			t.Fatalf("%s: ListQuotes = %v, want its own quotes %v", a.name, got, a.quotes)
		}
		for _, id := range a.quotes {
			q, err := db.GetQuote(ctx, scope(a), id)
			if err != nil {
				t.Fatalf("%s: its own quote %s: %v", a.name, id, err)
			}
			if q.CustomerName != "Customer of "+a.name {
				t.Fatalf("%s: quote %s has customer %q, want %q", a.name, q.Number, q.CustomerName, "Customer of "+a.name)
			}
		}
	}
	// cannotTouch checks that a's scope neither reads nor writes other's quotes.
	cannotTouch := func(a, other *acct) {
		t.Helper()
		line, err := qwoty.ParseLine(qwoty.LineInput{SKU: "X", Quantity: "1", UnitPrice: "1"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range other.quotes {
			if _, err := db.GetQuote(ctx, scope(a), id); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
				t.Fatalf("%s reading %s's quote %s: err = %v, want not_found", a.name, other.name, id, err)
			}
			for name, change := range map[string]store.Change{
				"terms":  func(q *qwoty.Quote) error { return q.SetTerms(qwoty.Terms{Title: "hijacked", Currency: "USD"}) },
				"status": func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) },
				"line":   func(q *qwoty.Quote) error { return q.AddLine(line) },
			} {
				if _, err := db.UpdateQuote(ctx, scope(a), id, 0, "intruder", change); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
					t.Fatalf("%s changing the %s of %s's quote %s: err = %v, want not_found", a.name, name, other.name, id, err)
				}
			}
			// a's card requests named the same account id: other's
			// customer keeps other's name.
			q, err := db.GetQuote(ctx, scope(other), id)
			if err != nil || q.CustomerName != "Customer of "+other.name {
				t.Fatalf("%s's quote %s after %s's card requests: customer %q, %v; want %q", other.name, id, a.name, q.CustomerName, err, "Customer of "+other.name)
			}
		}
	}

	number := 0
	for i, a := range accounts {
		if i > 0 {
			if err := db.Disconnect(ctx, accounts[i-1].conn.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
		p := a.params
		p.Workspace = "Acme"
		c, err := db.AddConnection(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		a.conn = c
		sees(a) // nothing yet: the earlier accounts' quotes are theirs
		for range 2 {
			q, err := db.CreateQuote(ctx, scope(a), store.NewQuote{AccountID: account, Currency: "USD", Title: "by " + a.name})
			if err != nil {
				t.Fatalf("%s: create: %v", a.name, err)
			}
			number++
			if q.Number != qwoty.FormatNumber(int64(number)) {
				t.Fatalf("%s: quote number %s, want %s: numbers go on across the workspace's accounts", a.name, q.Number, qwoty.FormatNumber(int64(number)))
			}
			a.quotes = append([]string{q.ID}, a.quotes...)
		}
		sees(a)
		for _, other := range accounts[:i] {
			cannotTouch(a, other)
		}
	}

	// The first account reconnects: the same connection, its quotes and
	// customer as it left them, and nothing of the others'.
	first := accounts[0]
	if err := db.Disconnect(ctx, accounts[len(accounts)-1].conn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	p := first.params
	p.Workspace = "Acme"
	again, err := db.AddConnection(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.conn.ID {
		t.Fatalf("reconnecting %s made connection %s, want the same %s", first.name, again.ID, first.conn.ID)
	}
	sees(first)
	for _, other := range accounts[1:] {
		cannotTouch(first, other)
	}
	// Every account's quotes are untouched by the others' attempts.
	for _, a := range accounts {
		for _, id := range a.quotes {
			var title, status string
			var lines int
			if err := db.Pool().QueryRow(ctx, `SELECT title, status, (SELECT count(*) FROM quote_line_items WHERE quote_id = q.id)
				FROM quotes q WHERE id = $1`, id).Scan(&title, &status, &lines); err != nil {
				t.Fatal(err)
			}
			if title != "by "+a.name || status != "draft" || lines != 0 {
				t.Fatalf("%s's quote %s: title %q, status %s, %d lines; want it as made", a.name, id, title, status, lines)
			}
		}
	}
}
