package store_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

var ctx = context.Background()

func TestOpenCreatesMissingDatabaseAndMigratesConcurrently(t *testing.T) {
	base := storetest.NewDatabase(t) // created, then we point at a sibling that does not exist
	u, _ := url.Parse(base)
	u.Path += "_auto"
	target := u.String()
	t.Cleanup(func() {
		// Drop the auto-created sibling through the test database's server.
		admin, _ := url.Parse(base)
		admin.Path = "/postgres"
		db, err := store.Open(ctx, admin.String(), storetest.Keys(t), store.Options{})
		if err == nil {
			db.Pool().Exec(ctx, "DROP DATABASE IF EXISTS "+u.Path[1:]+" WITH (FORCE)")
			db.Close()
		}
	})

	// Several instances start at once: all open, all migrate, one schema.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := store.Open(ctx, target, storetest.Keys(t), store.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	db := storetest.Open(t, target, store.Options{})
	var version int
	if err := db.Pool().QueryRow(ctx, "SELECT version FROM schema_version").Scan(&version); err != nil || version < 1 {
		t.Fatalf("schema_version = %d, %v; want >= 1", version, err)
	}
}

func addOrg(t *testing.T, db *store.DB, ws, org string) *qwoty.Connection {
	t.Helper()
	c, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: ws, Provider: qwoty.ProviderSalesforce, ExternalID: org, MyDomain: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConnectionSecretsAreSealedAtRest(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "Acme", "00D000000000001AAA")
	if len(c.Secret) != 43 {
		t.Fatalf("secret length = %d, want 43 (base64url of 32 bytes)", len(c.Secret))
	}
	var raw []byte
	if err := db.Pool().QueryRow(ctx, "SELECT secret_enc FROM connections WHERE id = $1", c.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, c.Secret) {
		t.Fatal("the secret column holds the plaintext secret")
	}
	got, err := db.ConnectionByExternalID(ctx, qwoty.ProviderSalesforce, c.ExternalID)
	if err != nil || !bytes.Equal(got.Secret, c.Secret) || got.WorkspaceID != c.WorkspaceID {
		t.Fatalf("lookup = %+v, %v", got, err)
	}

	// A sealed secret copied onto another row does not open there.
	other := addOrg(t, db, "Other", "00D000000000002AAA")
	if _, err := db.Pool().Exec(ctx, "UPDATE connections SET secret_enc = $1 WHERE id = $2", raw, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ConnectionByID(ctx, other.ID); err == nil {
		t.Fatal("a secret sealed for one connection opened on another")
	}
}

func TestReEnableGivesNewSecretSameWorkspace(t *testing.T) {
	db := storetest.New(t)
	c1 := addOrg(t, db, "Acme", "00D000000000001AAA")
	if err := db.Disconnect(ctx, c1.ID, "test"); err != nil {
		t.Fatal(err)
	}
	c2 := addOrg(t, db, "Acme", "00D000000000001AAA")
	if c2.ID != c1.ID || c2.Status != qwoty.ConnectionActive || bytes.Equal(c1.Secret, c2.Secret) {
		t.Fatalf("re-enable: id %s→%s status %s, secret changed %v", c1.ID, c2.ID, c2.Status, !bytes.Equal(c1.Secret, c2.Secret))
	}
	_, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Elsewhere", Provider: qwoty.ProviderSalesforce, ExternalID: c1.ExternalID})
	if qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("moving an org to another workspace: err = %v, want validation_failed", err)
	}
}

func TestRotateKeepsPreviousSecretForGrace(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	db := storetest.Open(t, storetest.NewDatabase(t), store.Options{Now: func() time.Time { return now }})
	c := addOrg(t, db, "Acme", "00D000000000001AAA")
	newSecret, err := db.RotateSecret(ctx, c.ID, 10*time.Minute, "admin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.ConnectionByID(ctx, c.ID)
	in := got.Secrets(now.Add(9 * time.Minute))
	if len(in) != 2 || !bytes.Equal(in[0], newSecret) || !bytes.Equal(in[1], c.Secret) {
		t.Fatalf("within grace: secrets = %q, want [new, old]", in)
	}
	if after := got.Secrets(now.Add(11 * time.Minute)); len(after) != 1 || !bytes.Equal(after[0], newSecret) {
		t.Fatalf("after grace: secrets = %q, want [new]", after)
	}
}

func TestClaimAndListRejectsReplayAndIsolatesTenants(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BAAA")
	const record = "006000000000001AAA" // same record id in both orgs: ids can collide across tenants in tests
	exp := time.Now().Add(10 * time.Minute)

	req := store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID, Nonce: "nonce-aaaaaaaaaaaa", NonceExpires: exp,
		AccountID: "001000000000001AAA", AccountName: "Acme", RecordID: record}
	res, err := db.ClaimAndList(ctx, req)
	if err != nil || !res.Claimed || len(res.Quotes) != 0 || res.Status != qwoty.ConnectionActive {
		t.Fatalf("first claim = %+v, %v", res, err)
	}
	res, err = db.ClaimAndList(ctx, req)
	if err != nil || res.Claimed {
		t.Fatalf("replayed nonce claimed again: %+v, %v", res, err)
	}
	// The same nonce on another connection is a different request.
	reqB := req
	reqB.ConnectionID, reqB.WorkspaceID = b.ID, b.WorkspaceID
	if res, err := db.ClaimAndList(ctx, reqB); err != nil || !res.Claimed {
		t.Fatalf("nonce of org A blocked org B: %+v, %v", res, err)
	}

	sA := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: record}
	qa, err := db.CreateQuote(ctx, sA, store.NewQuote{AccountID: "001000000000001AAA", Currency: "USD", Title: "A's quote"})
	if err != nil {
		t.Fatal(err)
	}
	if qa.CustomerName != "Acme" || qa.Number != "Q-00001" {
		t.Fatalf("quote customer %q number %q; want Acme, Q-00001", qa.CustomerName, qa.Number)
	}
	req.Nonce = "nonce-bbbbbbbbbbbb"
	res, _ = db.ClaimAndList(ctx, req)
	if len(res.Quotes) != 1 || res.Quotes[0].ID != qa.ID || res.Quotes[0].Number != "Q-00001" {
		t.Fatalf("org A sees %+v, want its one quote", res.Quotes)
	}
	reqB.Nonce = "nonce-cccccccccccc"
	res, _ = db.ClaimAndList(ctx, reqB)
	if len(res.Quotes) != 0 {
		t.Fatalf("org B sees %d quotes of org A's record id", len(res.Quotes))
	}

	// A disconnected connection claims nothing, and says so.
	if err := db.Disconnect(ctx, b.ID, "test"); err != nil {
		t.Fatal(err)
	}
	reqB.Nonce = "nonce-dddddddddddd"
	res, err = db.ClaimAndList(ctx, reqB)
	if err != nil || res.Claimed || res.Status != qwoty.ConnectionDisconnected {
		t.Fatalf("disconnected claim = %+v, %v", res, err)
	}
	sB := store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID, RecordID: record}
	if _, err := db.GetQuote(ctx, sB, qa.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("org B fetching org A's quote by id: err = %v, want not_found", err)
	}
	if _, err := db.UpdateQuote(ctx, sB, qa.ID, 0, "u", setTerms(qwoty.Terms{Title: "hijacked", Currency: "USD"})); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("org B editing org A's quote: err = %v, want not_found", err)
	}
}

func TestCustomerNameUpdatesFromRecord(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	exp := time.Now().Add(time.Minute)
	for i, name := range []string{"Acme", "Acme Corp", ""} {
		_, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID,
			Nonce: "n-" + string(rune('a'+i)) + "-0123456789abcdef", NonceExpires: exp, AccountID: "001X", AccountName: name, RecordID: "006X"})
		if err != nil {
			t.Fatal(err)
		}
	}
	var name string
	var n int
	db.Pool().QueryRow(ctx, "SELECT name, (SELECT count(*) FROM customers) FROM customers WHERE crm_account_id = '001X'").Scan(&name, &n)
	if name != "Acme Corp" || n != 1 {
		t.Fatalf("customer = %q (%d rows); want the last non-empty name in one row", name, n)
	}
}

func TestQuoteEditingRecomputesTotalsAndGuardsState(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD", TaxRate: decimal.RequireFromString("20")})
	if err != nil {
		t.Fatal(err)
	}
	line := func(sku, qty, price, disc string) qwoty.LineItem {
		l, err := qwoty.ParseLine(qwoty.LineInput{SKU: sku, Quantity: qty, UnitPrice: price, DiscountPercent: disc})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", addLine(line("A", "3", "19.99", "10")))
	if err != nil {
		t.Fatal(err)
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", addLine(line("B", "1", "100", "0")))
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Totals.Total.StringFixed(2); got != "184.76" || len(q.Lines) != 2 || q.Lines[1].Position != 2 {
		t.Fatalf("total %s with %d lines; want 184.76 with 2", got, len(q.Lines))
	}
	// A stale version is refused, and nothing changes.
	if _, err := db.UpdateQuote(ctx, s, q.ID, q.Version-1, "u", removeLine(q.Lines[0].ID)); qwoty.ErrorCode(err) != qwoty.CodeVersionConflict {
		t.Fatalf("stale edit: err = %v, want version_conflict", err)
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", updateLine(q.Lines[1].ID, line("B", "2", "100", "50")))
	if err != nil {
		t.Fatal(err)
	}
	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "u", removeLine(q.Lines[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Totals.Total.StringFixed(2); got != "120.00" || len(q.Lines) != 1 || q.Lines[0].Position != 1 {
		t.Fatalf("after edit+remove: total %s, %d lines, first position %d; want 120.00, 1, 1", got, len(q.Lines), q.Lines[0].Position)
	}
	// The stored totals match what was returned.
	var stored decimal.Decimal
	db.Pool().QueryRow(ctx, "SELECT total FROM quotes WHERE id = $1", q.ID).Scan(&stored)
	if !stored.Equal(q.Totals.Total) {
		t.Fatalf("stored total %s != returned %s", stored, q.Totals.Total)
	}

	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", moveTo(qwoty.StatusAccepted)); qwoty.ErrorCode(err) != qwoty.CodeInvalidTransition {
		t.Fatalf("draft→accepted: err = %v, want invalid_status_transition", err)
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", moveTo(qwoty.StatusSent)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", addLine(line("C", "1", "1", "0"))); qwoty.ErrorCode(err) != qwoty.CodeQuoteLocked {
		t.Fatalf("editing a sent quote: err = %v, want quote_locked", err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", moveTo(qwoty.StatusAccepted)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", moveTo(qwoty.StatusDraft)); qwoty.ErrorCode(err) != qwoty.CodeInvalidTransition {
		t.Fatalf("accepted→draft: err = %v, want invalid_status_transition", err)
	}
}

// UpdateQuote writes what the domain's change made of the quote, and only
// that: a refused change writes nothing (not even a version), a status
// change is in the audit log under who made it, and a change cannot reach
// a line of another quote.
func TestQuoteChangesAreWrittenAsTheDomainMadeThem(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	l, err := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Quantity: "2", UnitPrice: "10"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if other, err = db.UpdateQuote(ctx, s, other.ID, 0, "u", addLine(l)); err != nil {
		t.Fatal(err)
	}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD", Title: "  Renewal  "})
	if err != nil || q.Title != "Renewal" || q.Status != qwoty.StatusDraft {
		t.Fatalf("created %+v, %v; want a draft titled Renewal", q, err)
	}
	statusChanges := func() int {
		t.Helper()
		entries, err := db.AuditLog(ctx, a.WorkspaceID, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action == "quote.status_changed" {
				n++
			}
		}
		return n
	}
	audited := statusChanges()

	for name, change := range map[string]store.Change{
		"sending it with no line": moveTo(qwoty.StatusSent),
		"an error after a change": func(q *qwoty.Quote) error {
			if err := q.AddLine(l); err != nil {
				return err
			}
			return q.Transition(qwoty.StatusAccepted)
		},
		"a line of another quote": func(q *qwoty.Quote) error {
			q.Lines = append(q.Lines, other.Lines[0])
			return nil
		},
	} {
		if _, err := db.UpdateQuote(ctx, s, q.ID, q.Version, "rep", change); err == nil {
			t.Fatalf("%s: accepted", name)
		}
		got, err := db.GetQuote(ctx, s, q.ID)
		if err != nil || got.Version != q.Version || len(got.Lines) != 0 {
			t.Fatalf("%s: refused, yet the quote is now version %d with %d lines (%v)", name, got.Version, len(got.Lines), err)
		}
	}
	if o, err := db.GetQuote(ctx, s, other.ID); err != nil || o.Version != other.Version || o.Lines[0].QuoteID != other.ID {
		t.Fatalf("the other quote after the refused changes: %+v, %v", o, err)
	}

	q, err = db.UpdateQuote(ctx, s, q.ID, q.Version, "rep", func(q *qwoty.Quote) error {
		if err := q.AddLine(l); err != nil {
			return err
		}
		return q.Transition(qwoty.StatusSent)
	})
	if err != nil || q.Status != qwoty.StatusSent || len(q.Lines) != 1 || q.Lines[0].ID == "" || !q.Totals.Total.Equal(decimal.NewFromInt(20)) {
		t.Fatalf("a line and sent in one change: %+v, %v", q, err)
	}
	entries, err := db.AuditLog(ctx, a.WorkspaceID, 1)
	if err != nil || statusChanges() != audited+1 || entries[0].Actor != "rep" ||
		entries[0].Detail["quote"] != q.Number || entries[0].Detail["from"] != "draft" || entries[0].Detail["to"] != "sent" {
		t.Fatalf("audit after sending: %+v, %v", entries, err)
	}
	// A change that is no status change is not audited.
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep", func(*qwoty.Quote) error { return nil }); err != nil || statusChanges() != audited+1 {
		t.Fatalf("an empty change: %v, %d status changes audited, want %d", err, statusChanges(), audited+1)
	}
}

func TestQuoteNumbersArePerWorkspaceAndUniqueUnderConcurrency(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006A"}
	var wg sync.WaitGroup
	numbers := make(chan string, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR"})
			if err != nil {
				t.Error(err)
				return
			}
			numbers <- q.Number
		}()
	}
	wg.Wait()
	close(numbers)
	seen := map[string]bool{}
	for n := range numbers {
		seen[n] = true
	}
	if len(seen) != 10 || !seen["Q-00001"] || !seen["Q-00010"] {
		t.Fatalf("numbers = %v; want Q-00001..Q-00010 once each", seen)
	}
	qb, err := db.CreateQuote(ctx, store.Scope{WorkspaceID: b.WorkspaceID, ConnectionID: b.ID, RecordID: "006B"}, store.NewQuote{Currency: "EUR"})
	if err != nil || qb.Number != "Q-00001" {
		t.Fatalf("workspace B's first number = %v, %v; want Q-00001", qb, err)
	}
}

func TestDeleteExpiredNonces(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	db.ClaimNonce(ctx, a.ID, "old", time.Now().Add(-time.Minute))
	db.ClaimNonce(ctx, a.ID, "new", time.Now().Add(time.Minute))
	n, err := db.DeleteExpiredNonces(ctx)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want 1", n, err)
	}
	if _, ok, _ := db.ClaimNonce(ctx, a.ID, "new", time.Now().Add(time.Minute)); ok {
		t.Fatal("an unexpired nonce was deleted")
	}
}

func TestClaimAfterCloseFailsInsteadOfHanging(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	db.Close()
	for i := range 50 { // the race between queueing and closing must never hang
		done := make(chan error, 1)
		go func() {
			_, err := db.ClaimAndList(ctx, store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID,
				Nonce: fmt.Sprintf("after-close-%04d-xx", i), NonceExpires: time.Now().Add(time.Minute), RecordID: "006X"})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("a claim on a closed store succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a claim on a closed store hangs")
		}
	}
}

func TestReAddKeepsFrameOriginsUnlessGiven(t *testing.T) {
	db := storetest.New(t)
	p := store.AddConnectionParams{Workspace: "A", Provider: qwoty.ProviderSalesforce, ExternalID: "00D00000000000AAAA",
		MyDomain: "acme", FrameOrigins: []string{"https://sales.acme.example"}}
	if _, err := db.AddConnection(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.FrameOrigins = nil
	c, err := db.AddConnection(ctx, p)
	if err != nil || len(c.FrameOrigins) != 1 || c.FrameOrigins[0] != "https://sales.acme.example" {
		t.Fatalf("re-added without origins: %v, %v; want the stored origin kept", c.FrameOrigins, err)
	}
	p.FrameOrigins = []string{"https://*.acme.example"}
	if _, err := db.AddConnection(ctx, p); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("a wildcard frame origin: err = %v, want validation_failed", err)
	}
}

// The edits these tests make, each through the domain's method.

func addLine(l qwoty.LineItem) store.Change {
	return func(q *qwoty.Quote) error { return q.AddLine(l) }
}

func updateLine(id string, l qwoty.LineItem) store.Change {
	return func(q *qwoty.Quote) error { return q.UpdateLine(id, l) }
}

func removeLine(id string) store.Change {
	return func(q *qwoty.Quote) error { return q.RemoveLine(id) }
}

func setTerms(t qwoty.Terms) store.Change {
	return func(q *qwoty.Quote) error { return q.SetTerms(t) }
}

func moveTo(s qwoty.Status) store.Change {
	return func(q *qwoty.Quote) error { return q.Transition(s) }
}
