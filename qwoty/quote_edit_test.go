package qwoty

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// quoteIn is a quote of n priced lines (ids l1, l2, ...) in status s.
func quoteIn(s Status, n int) *Quote {
	q := &Quote{ID: "q", Number: "Q-00001", Status: s, Currency: "USD", TaxRate: dec("20"), Version: 3}
	for i := range n {
		q.Lines = append(q.Lines, LineItem{ID: "l" + string(rune('1'+i)), QuoteID: "q", SKU: "S", Quantity: dec("1"), UnitPrice: dec("10")})
	}
	q.Reprice()
	return q
}

func goodLine() LineItem {
	return LineItem{SKU: "LIC", Description: "Licence", Quantity: dec("3"), UnitPrice: dec("19.99"), DiscountPercent: dec("10")}
}

// wantErr checks err against the code and a part of the message ("" for
// no error).
func wantErr(t *testing.T, name string, err error, code Code, says string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: err = %v, want none", name, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, says) || e.Hint == "" {
		t.Errorf("%s: err = %v, want %s saying %q, with a hint", name, err, code, says)
	}
}

func TestCheckVersion(t *testing.T) {
	for _, c := range []struct {
		name   string
		edited int
		code   Code
	}{
		{"the version the form was rendered with", 3, ""},
		{"no version: last write wins", 0, ""},
		{"an older version", 2, CodeVersionConflict},
		{"a version from the future", 4, CodeVersionConflict},
	} {
		wantErr(t, c.name, quoteIn(StatusDraft, 0).CheckVersion(c.edited), c.code, "changed by someone else")
	}
}

// Only drafts change: every edit of lines or terms is refused with
// quote_locked in any other status, and the quote is left as it was.
func TestEditsNeedADraft(t *testing.T) {
	edits := map[string]func(q *Quote) error{
		"add line":    func(q *Quote) error { return q.AddLine(goodLine()) },
		"update line": func(q *Quote) error { return q.UpdateLine("l1", goodLine()) },
		"remove line": func(q *Quote) error { return q.RemoveLine("l1") },
		"set terms":   func(q *Quote) error { return q.SetTerms(Terms{Title: "New", Currency: "EUR"}) },
	}
	for _, s := range Statuses {
		for name, edit := range edits {
			q := quoteIn(s, 1)
			err := edit(q)
			if s == StatusDraft {
				wantErr(t, string(s)+" "+name, err, "", "")
				continue
			}
			wantErr(t, string(s)+" "+name, err, CodeQuoteLocked, "only draft quotes can be edited")
			if want := quoteIn(s, 1); fmt.Sprintf("%+v", q) != fmt.Sprintf("%+v", want) {
				t.Errorf("%s %s: refused, yet the quote changed: %+v", s, name, q)
			}
		}
	}
}

func TestAddLine(t *testing.T) {
	tooMany := goodLine()
	tooMany.Quantity, tooMany.UnitPrice = dec("1000000000"), dec("1000000000000")
	fraction := goodLine()
	fraction.Quantity = dec("0.00001")
	unnamed := goodLine()
	unnamed.SKU, unnamed.Description = "", ""
	for _, c := range []struct {
		name  string
		lines int
		line  LineItem
		code  Code
		says  string
	}{
		{"the first line", 0, goodLine(), "", ""},
		{"the last line a quote holds", MaxLines - 1, goodLine(), "", ""},
		{"one line past the cap", MaxLines, goodLine(), CodeValidation, "at most 2000 lines"},
		{"a line past a line's amount", 1, tooMany, CodeValidation, "a line may hold"},
		{"more decimals than the column keeps", 1, fraction, CodeValidation, "more than 4 decimals"},
		{"a line with neither SKU nor description", 1, unnamed, CodeValidation, "a SKU or a description"},
	} {
		q := quoteIn(StatusDraft, c.lines)
		l := c.line
		l.ID, l.Position = "made-up", 7 // a new line's id and place are the quote's to give
		err := q.AddLine(l)
		wantErr(t, c.name, err, c.code, c.says)
		if err != nil {
			if len(q.Lines) != c.lines {
				t.Errorf("%s: refused, yet the quote has %d lines", c.name, len(q.Lines))
			}
			continue
		}
		added := q.Lines[len(q.Lines)-1]
		if len(q.Lines) != c.lines+1 || added.ID != "" || added.QuoteID != "q" || added.SKU != "LIC" || !added.Quantity.Equal(dec("3")) {
			t.Errorf("%s: added %+v (%d lines)", c.name, added, len(q.Lines))
		}
	}
}

func TestUpdateAndRemoveLine(t *testing.T) {
	bad := goodLine()
	bad.DiscountPercent = dec("150")
	for _, c := range []struct {
		name string
		edit func(q *Quote) error
		code Code
		says string
		want []string // SKUs left, in order
	}{
		{"update", func(q *Quote) error { return q.UpdateLine("l2", goodLine()) }, "", "", []string{"S", "LIC", "S"}},
		{"update a line not on the quote", func(q *Quote) error { return q.UpdateLine("l9", goodLine()) }, CodeNotFound, "line l9 is not on this quote", []string{"S", "S", "S"}},
		{"update a line with no id", func(q *Quote) error { return q.UpdateLine("", goodLine()) }, CodeNotFound, "is not on this quote", []string{"S", "S", "S"}},
		{"update out of range", func(q *Quote) error { return q.UpdateLine("l2", bad) }, CodeValidation, "discount 150% is out of range", []string{"S", "S", "S"}},
		{"remove", func(q *Quote) error { return q.RemoveLine("l1") }, "", "", []string{"S", "S"}},
		{"remove a line not on the quote", func(q *Quote) error { return q.RemoveLine("l9") }, CodeNotFound, "line l9 is not on this quote", []string{"S", "S", "S"}},
	} {
		q := quoteIn(StatusDraft, 3)
		wantErr(t, c.name, c.edit(q), c.code, c.says)
		var skus []string
		for _, l := range q.Lines {
			skus = append(skus, l.SKU)
		}
		if strings.Join(skus, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: lines %v, want %v", c.name, skus, c.want)
		}
	}
	// An updated line keeps its id and its place; a removal keeps the
	// others' ids in order.
	q := quoteIn(StatusDraft, 3)
	if err := q.UpdateLine("l2", goodLine()); err != nil || q.Lines[1].ID != "l2" || q.Lines[1].Position != 2 {
		t.Errorf("updated line %+v, %v", q.Lines[1], err)
	}
	if err := q.RemoveLine("l2"); err != nil || q.Lines[0].ID != "l1" || q.Lines[1].ID != "l3" {
		t.Errorf("after removal %+v, %v", q.Lines, err)
	}
}

func TestSetTerms(t *testing.T) {
	for _, c := range []struct {
		name                  string
		terms                 Terms
		code                  Code
		says                  string
		title, currency, rate string // as set
	}{
		{"all three", Terms{Title: " Renewal ", Currency: "EUR", TaxRate: dec("7.5")}, "", "", "Renewal", "EUR", "7.5"},
		{"no currency keeps the quote's", Terms{Title: "T", TaxRate: dec("0")}, "", "", "T", "USD", "0"},
		{"a currency not ISO 4217's form", Terms{Title: "T", Currency: "usd"}, CodeValidation, `currency "usd" is not valid`, "", "USD", "20"},
		{"a title too long", Terms{Title: strings.Repeat("t", MaxTitleLen+1), Currency: "EUR"}, CodeValidation, "title is longer than 200", "", "USD", "20"},
		{"a NUL in the title", Terms{Title: "a\x00", Currency: "EUR"}, CodeValidation, "title holds a NUL", "", "USD", "20"},
		{"a tax rate past 100", Terms{Title: "T", TaxRate: dec("100.5")}, CodeValidation, "tax rate 100.5% is out of range", "", "USD", "20"},
		{"a tax rate below 0", Terms{Title: "T", TaxRate: dec("-1")}, CodeValidation, "tax rate -1% is out of range", "", "USD", "20"},
	} {
		q := quoteIn(StatusDraft, 0)
		wantErr(t, c.name, q.SetTerms(c.terms), c.code, c.says)
		if q.Title != c.title || q.Currency != c.currency || !q.TaxRate.Equal(dec(c.rate)) {
			t.Errorf("%s: terms %q %s %s, want %q %s %s", c.name, q.Title, q.Currency, q.TaxRate, c.title, c.currency, c.rate)
		}
	}
}

func TestTransition(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to Status
		lines    int
		code     Code
		says     string
		hint     string
	}{
		{"send a draft with a line", StatusDraft, StatusSent, 1, "", "", ""},
		{"send a draft with no line", StatusDraft, StatusSent, 0, CodeValidation, "quote Q-00001 has no lines", "Add at least one line before sending."},
		{"accept a draft", StatusDraft, StatusAccepted, 1, CodeInvalidTransition, "cannot move from draft to accepted", "From draft it can move to sent."},
		{"revise a rejected quote", StatusRejected, StatusDraft, 1, "", "", ""},
		{"revise an accepted quote", StatusAccepted, StatusDraft, 1, CodeInvalidTransition, "accepted and cannot be revised", "Quote status accepted is final."},
		{"revise a draft", StatusDraft, StatusDraft, 1, CodeInvalidTransition, "nothing to revise", "A draft can be edited as it is; revise a quote once it has been sent."},
		{"accept a viewed quote", StatusViewed, StatusAccepted, 1, "", "", ""},
		{"send a sent quote again", StatusSent, StatusSent, 1, CodeInvalidTransition, "cannot move from sent to sent", "From sent it can move to viewed, accepted, rejected, expired, draft."},
	} {
		q := quoteIn(c.from, c.lines)
		err := q.Transition(c.to)
		wantErr(t, c.name, err, c.code, c.says)
		if err != nil && AsError(err).Hint != c.hint {
			t.Errorf("%s: hint %q, want %q", c.name, AsError(err).Hint, c.hint)
		}
		want := c.to
		if err != nil {
			want = c.from
		}
		if q.Status != want {
			t.Errorf("%s: status %s, want %s", c.name, q.Status, want)
		}
	}
}

// Every pair of statuses, written out here apart from the domain's table:
// exactly these moves are allowed, every move back to draft is a revision
// (the next revision, its validity cleared, its lines kept), and every
// other move keeps the revision and the validity.
func TestEveryTransition(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusDraft, StatusSent}:      true,
		{StatusSent, StatusViewed}:     true,
		{StatusSent, StatusAccepted}:   true,
		{StatusSent, StatusRejected}:   true,
		{StatusSent, StatusExpired}:    true,
		{StatusSent, StatusDraft}:      true,
		{StatusViewed, StatusAccepted}: true,
		{StatusViewed, StatusRejected}: true,
		{StatusViewed, StatusExpired}:  true,
		{StatusViewed, StatusDraft}:    true,
		{StatusRejected, StatusDraft}:  true,
		{StatusExpired, StatusDraft}:   true,
	}
	valid := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	for _, from := range Statuses {
		for _, to := range Statuses {
			name := string(from) + " → " + string(to)
			q := quoteIn(from, 2)
			q.Revision, q.ValidUntil = 3, &valid
			err := q.Transition(to)
			if allowed[[2]Status{from, to}] != (err == nil) {
				t.Errorf("%s: err = %v, allowed %v", name, err, allowed[[2]Status{from, to}])
				continue
			}
			if from.CanMoveTo(to) != (err == nil) {
				t.Errorf("%s: CanMoveTo says %v", name, from.CanMoveTo(to))
			}
			if err != nil {
				wantErr(t, name, err, CodeInvalidTransition, string(from))
				if q.Status != from || q.Revision != 3 || q.ValidUntil == nil {
					t.Errorf("%s: refused, yet the quote changed: %s r%d %v", name, q.Status, q.Revision, q.ValidUntil)
				}
				continue
			}
			wantRev, wantValid := 3, true
			if to == StatusDraft {
				wantRev, wantValid = 4, false
			}
			if q.Status != to || q.Revision != wantRev || (q.ValidUntil != nil) != wantValid || len(q.Lines) != 2 {
				t.Errorf("%s: %s r%d valid %v, %d lines; want %s r%d valid %v, 2 lines", name, q.Status, q.Revision, q.ValidUntil, len(q.Lines), to, wantRev, wantValid)
			}
			// Revise is the same move, where it is allowed.
			r := quoteIn(from, 2)
			can := r.CanRevise()
			if rerr := r.Revise(); (rerr == nil) != allowed[[2]Status{from, StatusDraft}] || can != (rerr == nil) {
				t.Errorf("Revise from %s: %v (CanRevise %v)", from, rerr, can)
			}
		}
	}
}

func TestValidity(t *testing.T) {
	today := time.Date(2026, 1, 30, 15, 4, 0, 0, time.UTC)
	q := quoteIn(StatusSent, 1)
	q.SetValidity(today, 30)
	if q.ValidUntil == nil || q.ValidUntil.Format(time.DateOnly) != "2026-03-01" {
		t.Fatalf("valid until %v, want 2026-03-01", q.ValidUntil)
	}
	set := *q.ValidUntil
	q.SetValidity(today, 5) // a date set stays
	if !q.ValidUntil.Equal(set) {
		t.Errorf("a set date changed: %v", q.ValidUntil)
	}
	for day, want := range map[string]bool{"2026-02-28": false, "2026-03-01": false, "2026-03-02": true, "2027-01-01": true} {
		d, _ := time.Parse(time.DateOnly, day)
		if got := q.Expired(d.Add(23 * time.Hour)); got != want {
			t.Errorf("expired on %s: %v, want %v", day, got, want)
		}
	}
	if quoteIn(StatusSent, 1).Expired(today) {
		t.Error("a quote without a date expired")
	}
}

func TestNewDraft(t *testing.T) {
	for _, c := range []struct {
		name, title, currency, rate string
		code                        Code
		says                        string
	}{
		{"a draft", " Renewal ", "JPY", "20", "", ""},
		{"a currency in lower case", "T", "usd", "0", CodeValidation, `currency "usd" is not valid`},
		{"no currency", "T", "", "0", CodeValidation, `currency "" is not valid`},
		{"a title too long", strings.Repeat("é", MaxTitleLen+1), "USD", "0", CodeValidation, "title is longer than 200"},
		{"a tax rate past 100", "T", "USD", "101", CodeValidation, "tax rate 101% is out of range"},
		{"a tax rate finer than the column", "T", "USD", "1.00001", CodeValidation, "more than 4 decimals"},
	} {
		q, err := NewDraft(c.title, c.currency, dec(c.rate))
		wantErr(t, c.name, err, c.code, c.says)
		if err == nil && (q.Status != StatusDraft || q.Title != "Renewal" || q.Currency != "JPY" || len(q.Lines) != 0) {
			t.Errorf("%s: %+v", c.name, q)
		}
	}
}

func TestCurrencyFrom(t *testing.T) {
	for in, want := range map[string]string{"EUR": "EUR", "eur": "EUR", "": DefaultCurrency, "EURO": DefaultCurrency, "E1R": DefaultCurrency, " EUR": DefaultCurrency} {
		if got := CurrencyFrom(in); got != want {
			t.Errorf("CurrencyFrom(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReprice(t *testing.T) {
	q := quoteIn(StatusDraft, 3)
	if err := q.RemoveLine("l1"); err != nil {
		t.Fatal(err)
	}
	if err := q.AddLine(goodLine()); err != nil {
		t.Fatal(err)
	}
	q.Reprice()
	// 10 + 10 + 3 × 19.99 − 10 %: subtotal 79.97, discount 6.00, tax 20 %.
	if got := []string{q.Totals.Subtotal.StringFixed(2), q.Totals.Discount.StringFixed(2), q.Totals.Tax.StringFixed(2), q.Totals.Total.StringFixed(2)}; strings.Join(got, " ") != "79.97 6.00 14.79 88.76" {
		t.Errorf("totals %v", got)
	}
	for i, l := range q.Lines {
		if l.Position != i+1 {
			t.Errorf("line %d at position %d", i, l.Position)
		}
	}
	if !q.Lines[2].Net.Equal(dec("53.97")) {
		t.Errorf("added line priced %+v", q.Lines[2])
	}
}
