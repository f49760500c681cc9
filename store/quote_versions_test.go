package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

func move(to qwoty.Status) store.Change {
	return func(q *qwoty.Quote) error { return q.Transition(to) }
}

func revise(q *qwoty.Quote) error { return q.Revise() }

// sentQuote is a quote of one line (2 × 10) on s's record.
func sentQuote(t *testing.T, db *store.DB, s store.Scope) *qwoty.Quote {
	t.Helper()
	l, err := qwoty.ParseLine(qwoty.LineInput{SKU: "A", Description: "Desk", Quantity: "2", UnitPrice: "10"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", Title: "Fit-out"})
	if err != nil {
		t.Fatal(err)
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u", addLine(l)); err != nil {
		t.Fatal(err)
	}
	if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "rep-1", move(qwoty.StatusSent)); err != nil {
		t.Fatal(err)
	}
	return q
}

// Sending freezes the revision sent, once, as the customer got it; its
// validity is the workspace's days; revising makes the next revision a
// draft (its lines kept, its date cleared) and leaves the frozen one as
// it was; sending that one freezes it beside the first.
func TestSendFreezesEachRevisionOnce(t *testing.T) {
	now := time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC)
	db := storetest.Open(t, storetest.NewDatabase(t), store.Options{Now: func() time.Time { return now }})
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	if err := db.SetQuoteDefaults(ctx, a.WorkspaceID, "admin@a.example", store.QuoteDefaults{ValidDays: 10, Rounding: qwoty.RoundLineHalfUp, Terms: "Net 30."}); err != nil {
		t.Fatal(err)
	}
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q := sentQuote(t, db, s)
	if q.Revision != 1 || q.ValidUntil == nil || q.ValidUntil.Format(time.DateOnly) != "2026-02-09" || q.Terms != "Net 30." {
		t.Fatalf("sent: revision %d valid until %v terms %q; want 1, 2026-02-09 (10 days), the workspace's terms", q.Revision, q.ValidUntil, q.Terms)
	}
	vs, err := db.QuoteVersions(ctx, s, q.ID)
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions %+v, %v; want one", vs, err)
	}
	v := vs[0]
	sum := sha256.Sum256(v.JSON)
	if v.Revision != 1 || !v.Intact || v.SHA256 != hex.EncodeToString(sum[:]) || v.SHA256 != qwoty.VersionHash(q) ||
		string(v.JSON) != string(qwoty.Snapshot(q).JSON()) || v.FrozenBy != "rep-1" || v.Total.String() != "20" || v.Snapshot.Lines[0].SKU != "A" {
		t.Fatalf("frozen version %+v (%s), want revision 1 as sent, hashed", v, v.JSON)
	}

	// Viewed, then revised: revision 2 is a draft with the same line.
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "c", move(qwoty.StatusViewed)); err != nil {
		t.Fatal(err)
	}
	r, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-2", revise)
	if err != nil || r.Status != qwoty.StatusDraft || r.Revision != 2 || r.ValidUntil != nil || len(r.Lines) != 1 {
		t.Fatalf("revised: %+v, %v", r, err)
	}
	// Edited and sent again (later): revision 2 frozen beside revision 1.
	now = now.Add(48 * time.Hour)
	l2, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "B", Quantity: "1", UnitPrice: "5"})
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-2", addLine(l2)); err != nil {
		t.Fatal(err)
	}
	r2, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-2", move(qwoty.StatusSent))
	if err != nil || r2.ValidUntil.Format(time.DateOnly) != "2026-02-11" {
		t.Fatalf("sent again: %+v, %v", r2, err)
	}
	vs, err = db.QuoteVersions(ctx, s, q.ID)
	if err != nil || len(vs) != 2 || vs[0].SHA256 != v.SHA256 || string(vs[0].JSON) != string(v.JSON) || vs[1].Revision != 2 ||
		vs[1].SHA256 != qwoty.VersionHash(r2) || len(vs[1].Snapshot.Lines) != 2 {
		t.Fatalf("versions after revision 2: %+v, %v", vs, err)
	}
	// Sent a second time in the same revision (a path that re-sends):
	// still two versions, revision 2 unchanged.
	if _, err := db.Pool().Exec(ctx, `UPDATE quotes SET status = 'draft' WHERE id = $1`, q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep-3", move(qwoty.StatusSent)); err != nil {
		t.Fatal(err)
	}
	again, err := db.QuoteVersions(ctx, s, q.ID)
	if err != nil || len(again) != 2 || again[1].FrozenBy != "rep-2" || again[1].SHA256 != vs[1].SHA256 {
		t.Fatalf("re-sent revision 2: %+v, %v; want it frozen once", again, err)
	}
	// An accepted quote cannot be revised.
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "c", move(qwoty.StatusAccepted)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "rep", revise); qwoty.ErrorCode(err) != qwoty.CodeInvalidTransition {
		t.Fatalf("revise an accepted quote: %v, want invalid_status_transition", err)
	}
	// Another record's scope, another connection: not found.
	for _, other := range []store.Scope{{WorkspaceID: s.WorkspaceID, ConnectionID: s.ConnectionID, RecordID: "other"},
		{WorkspaceID: s.WorkspaceID, ConnectionID: addOrg(t, db, "B", "00D00000000000BBBB").ID, RecordID: s.RecordID}} {
		if _, err := db.QuoteVersions(ctx, other, q.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
			t.Errorf("versions from %+v: %v, want not_found", other, err)
		}
	}
}

// The database itself refuses to change or delete a frozen version, or to
// drop the quote under it, whoever asks; an insert whose hash is not its
// snapshot's is refused too; and a version whose bytes were changed behind
// the database's back reads as not intact.
func TestFrozenVersionsAreImmutable(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID, RecordID: "006000000000001AAA"}
	q := sentQuote(t, db, s)
	for _, sql := range []string{
		`UPDATE quote_versions SET snapshot = 'x' WHERE quote_id = $1`,
		`UPDATE quote_versions SET frozen_by = 'someone' WHERE quote_id = $1`,
		`DELETE FROM quote_versions WHERE quote_id = $1`,
		`DELETE FROM quotes WHERE id = $1`,
		`TRUNCATE quote_versions`,
	} {
		var err error
		if strings.Contains(sql, "$1") {
			_, err = db.Pool().Exec(ctx, sql, q.ID)
		} else {
			_, err = db.Pool().Exec(ctx, sql)
		}
		if err == nil {
			t.Errorf("%s: allowed", sql)
		}
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO quote_versions (quote_id, revision, workspace_id, connection_id, snapshot, sha256, currency, total)
		VALUES ($1, 9, $2, $3, '{}', $4, 'EUR', 0)`, q.ID, a.WorkspaceID, a.ID, strings.Repeat("0", 64)); err == nil {
		t.Error("a version whose hash is not its snapshot's was stored")
	}
	vs, err := db.QuoteVersions(ctx, s, q.ID)
	if err != nil || len(vs) != 1 || !vs[0].Intact || vs[0].SHA256 != qwoty.VersionHash(q) {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	// Behind the database's back (the trigger disabled, as only a
	// superuser can): the read re-checks the hash.
	if _, err := db.Pool().Exec(ctx, `ALTER TABLE quote_versions DISABLE TRIGGER ALL;
		ALTER TABLE quote_versions DROP CONSTRAINT quote_versions_check;
		UPDATE quote_versions SET snapshot = convert_to(replace(convert_from(snapshot, 'UTF8'), '"Desk"', '"Chair"'), 'UTF8');
		ALTER TABLE quote_versions ENABLE TRIGGER ALL`); err != nil {
		t.Fatal(err)
	}
	vs, err = db.QuoteVersions(ctx, s, q.ID)
	if err != nil || len(vs) != 1 || vs[0].Intact || vs[0].Snapshot.Lines[0].Description != "Chair" {
		t.Fatalf("tampered version %+v, %v; want it read as not intact", vs, err)
	}
}

// The workspace's quote defaults: bounded, each refusal naming its field.
func TestQuoteDefaults(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	d, err := db.QuoteDefaults(ctx, a.WorkspaceID)
	if err != nil || d.ValidDays != 30 || d.Rounding != qwoty.RoundLineHalfUp || d.Terms != "" {
		t.Fatalf("defaults %+v, %v", d, err)
	}
	for _, c := range []struct {
		d     store.QuoteDefaults
		field string
	}{
		{store.QuoteDefaults{ValidDays: 0, Rounding: qwoty.RoundLineHalfUp}, "valid_days"},
		{store.QuoteDefaults{ValidDays: 366, Rounding: qwoty.RoundLineHalfUp}, "valid_days"},
		{store.QuoteDefaults{ValidDays: 30, Rounding: "line-half-down"}, "rounding"},
		{store.QuoteDefaults{ValidDays: 30, Rounding: qwoty.RoundLineHalfUp, Terms: strings.Repeat("é", qwoty.MaxTermsLen+1)}, "terms"},
		{store.QuoteDefaults{ValidDays: 365, Rounding: qwoty.RoundDocumentHalfEven, Terms: strings.Repeat("é", qwoty.MaxTermsLen)}, ""},
	} {
		err := db.SetQuoteDefaults(ctx, a.WorkspaceID, "admin", c.d)
		if e := qwoty.AsError(err); (c.field == "" && err != nil) || (c.field != "" && (e.Code != qwoty.CodeValidation || e.Field != c.field || e.Hint == "")) {
			t.Errorf("%+v: %v, want field %q", c.d.ValidDays, err, c.field)
		}
	}
	if d, _ := db.QuoteDefaults(ctx, a.WorkspaceID); d.ValidDays != 365 || d.Rounding != qwoty.RoundDocumentHalfEven {
		t.Errorf("saved %+v", d)
	}
}

// A stage moved in the CRM moves the quote as a rep's move would: back to
// draft is a revision, sent freezes the revision and sets its validity.
func TestStageFromCRMRevisesAndFreezes(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006A"}
	q := sentQuote(t, db, s)
	if _, err := db.SaveMapping(ctx, c.WorkspaceID, c.ID, qwoty.Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "StageName",
		Direction: qwoty.BothWays, Policy: qwoty.LastWriteWins, ValueMap: map[string]string{"draft": "Qualification", "sent": "Proposal"}, Standard: true}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour)
	pull := func(stage string) {
		t.Helper()
		at = at.Add(time.Second)
		if _, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindDeal, ID: "006A", Modified: at,
			Deal: &crm.PulledDeal{Name: "A", Stage: stage}}}); err != nil {
			t.Fatal(err)
		}
	}
	pull("Proposal")
	pull("Qualification")
	got, err := db.GetQuote(ctx, s, q.ID)
	if err != nil || got.Status != qwoty.StatusDraft || got.Revision != 2 || got.ValidUntil != nil {
		t.Fatalf("after the CRM's Qualification: %+v, %v; want revision 2, a draft without a date", got, err)
	}
	pull("Proposal")
	got, _ = db.GetQuote(ctx, s, q.ID)
	vs, err := db.QuoteVersions(ctx, s, q.ID)
	if got.Status != qwoty.StatusSent || got.ValidUntil == nil || err != nil || len(vs) != 2 || vs[1].Revision != 2 ||
		vs[1].SHA256 != qwoty.VersionHash(got) || vs[1].FrozenBy != "crm" {
		t.Fatalf("after the CRM's Proposal: %+v; versions %+v, %v", got, vs, err)
	}
}
