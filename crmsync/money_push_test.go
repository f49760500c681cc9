package crmsync_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// What the CRM holds adds up to the quote's total where rounding matters
// (docs/money.md, "What the CRM receives"): a document-rounded EUR quote
// whose own rounded lines are a cent over its total, and a KWD quote whose
// third decimal the test CRM's 2-decimal money fields cannot hold.
func TestPushedFiguresAddUpToTheQuotesTotal(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	setRounding := func(r qwoty.Rounding) {
		if err := w.DB.SetRounding(ctx, w.Admin.WorkspaceID, r, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, record, currency string
		rounding               qwoty.Rounding
		prices                 []string
		quoteTotal             string
		amount                 string
		nets                   []string
	}{
		// Per document, 3 × 0.125 = 0.375 rounds once to 0.38; each line
		// shows 0.13, which would make 0.39 in the CRM.
		{"EUR per document", "D-MONEY-EUR", "EUR", qwoty.RoundDocumentHalfUp, []string{"0.125", "0.125", "0.125"}, "0.38", "0.38",
			[]string{"0.13", "0.13", "0.12"}},
		// KWD 1.005 + 1.005 = 2.010: the CRM holds 2.01, and lines of
		// 1.01 and 1.00 (each rounded alone, 2.02).
		{"KWD in a 2-decimal CRM", "D-MONEY-KWD", "KWD", qwoty.RoundLineHalfUp, []string{"1.005", "1.005"}, "2.010", "2.01",
			[]string{"1.01", "1.00"}},
	} {
		setRounding(c.rounding)
		w.Currency = c.currency
		var lines []crmsynctest.Line
		for i, p := range c.prices {
			lines = append(lines, crmsynctest.Line{SKU: string(rune('A' + i)), Quantity: 1, Price: p})
		}
		q := w.Quote(c.record, lines...)
		q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
		if got := qwoty.FormatAmount(q.Totals.Total, c.currency); got != c.quoteTotal || q.Rounding != c.rounding {
			t.Fatalf("%s: the quote's total %s (%s), want %s (%s)", c.name, got, q.Rounding, c.quoteTotal, c.rounding)
		}
		d, _ := emu.Synced(c.record)
		if d.Amount != c.amount || len(d.Lines) != len(c.nets) {
			t.Fatalf("%s: the CRM holds %s with %d lines, want %s with %d", c.name, d.Amount, len(d.Lines), c.amount, len(c.nets))
		}
		sum := decimal.Zero
		for i, l := range d.Lines {
			if l.Net != c.nets[i] {
				t.Errorf("%s: line %d net %s, want %s", c.name, i+1, l.Net, c.nets[i])
			}
			sum = sum.Add(decimal.RequireFromString(l.Net))
		}
		if !sum.Equal(decimal.RequireFromString(d.Amount)) {
			t.Errorf("%s: the CRM's lines add up to %s, its amount is %s", c.name, sum, d.Amount)
		}
	}
}
