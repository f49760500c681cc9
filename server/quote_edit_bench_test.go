package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// TestQuoteEdit2000Lines is `make bench-quote-edit`: a quote of 2,000
// lines in PostgreSQL (taxed per line, with a quote-level discount: the
// engine's longest path), then one line edited 200 times through the real
// card handler (the card's PUT of a line form with the quote's version, as
// htmx sends it, answered with the line, the totals and any other line whose
// shown figures moved: LineSaved), timed in the server: p50, p99 and
// max against the 50 ms target (docs/performance.md). It fails when the
// p50 is 50 ms or more; the p99 is reported (a shared machine's noise lands
// there). Skipped unless QWOTY_BENCH_QUOTE_EDIT=1.
func TestQuoteEdit2000Lines(t *testing.T) {
	if os.Getenv("QWOTY_BENCH_QUOTE_EDIT") != "1" {
		t.Skip("set QWOTY_BENCH_QUOTE_EDIT=1 (make bench-quote-edit)")
	}
	const edits, target = 200, 50 * time.Millisecond
	a := newApp(t, "", nil)
	conn, tok, base, _ := cardQuote(t, a)
	id := strings.TrimPrefix(base, "/embed/api/quotes/")
	inputs := []qwoty.LineInput{
		{SKU: "LIC-STD", Description: "Standard licence, per seat and year", Quantity: "25", UnitPrice: "49.90", DiscountPercent: "10"},
		{SKU: "SUP", Description: "Support, business hours", Quantity: "1", UnitPrice: "1200", TaxRate: "7"},
		{SKU: "TRAIN", Description: "Training day on site", Quantity: "2.5", UnitPrice: "899.995", DiscountPercent: "12.5"},
	}
	start := time.Now()
	add := addLines(t, inputs, qwoty.MaxLines-1)
	q, err := a.db.UpdateQuote(context.Background(), scopeFor(conn, recordA), id, 0, "", func(q *qwoty.Quote) error {
		if err := add(q); err != nil {
			return err
		}
		disc := qwoty.QuoteDiscount{Kind: qwoty.DiscountPercent, Value: decimal.RequireFromString("2.5")}
		return q.SetTerms(qwoty.Terms{Title: q.Title, TaxRate: q.TaxRate, TaxMode: qwoty.TaxPerLine, Discount: &disc})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Lines) != qwoty.MaxLines {
		t.Fatalf("%d lines, want %d", len(q.Lines), qwoty.MaxLines)
	}
	t.Logf("a quote of %d lines stored in %s", len(q.Lines), time.Since(start).Round(time.Millisecond))

	line := q.Lines[len(q.Lines)/2]
	h := a.srv.Handler()
	version := q.Version // the card sends the version its editor shows, and takes the new one from X-Quote-Version
	edit := func(i int) (time.Duration, int, int) {
		form := url.Values{"version": {fmt.Sprint(version)}, "sku": {line.SKU}, "description": {line.Description}, "quantity": {fmt.Sprint(1 + i%7)},
			"unit_price": {"49.90"}, "discount_percent": {"10"}, "tax_rate": {"7"}}
		req := httptest.NewRequest(http.MethodPut, base+"/lines/"+line.ID, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("HX-Request", "true")
		w := httptest.NewRecorder()
		began := time.Now()
		h.ServeHTTP(w, req)
		took := time.Since(began)
		fmt.Sscan(w.Header().Get("X-Quote-Version"), &version)
		return took, w.Code, w.Body.Len()
	}
	for i := range 5 { // warm-up: connections, caches
		if _, code, _ := edit(i); code != http.StatusOK {
			t.Fatalf("warm-up edit: %d", code)
		}
	}
	runtime.GC()
	times := make([]time.Duration, 0, edits)
	var size int
	for i := range edits {
		took, code, n := edit(i)
		if code != http.StatusOK {
			t.Fatalf("edit %d: %d", i, code)
		}
		times = append(times, took)
		size = n
	}
	slices.Sort(times)
	pct := func(p float64) time.Duration { return times[int(p*float64(len(times)-1))].Round(10 * time.Microsecond) }
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("one line of %d edited through the card handler, %d times: p50 %s, p99 %s, max %s (target %s); editor %d KiB; load average %s",
		qwoty.MaxLines, edits, pct(0.50), pct(0.99), times[len(times)-1].Round(10*time.Microsecond), target, size>>10,
		strings.Join(strings.Fields(string(load))[:3], " "))
	if pct(0.50) >= target {
		t.Fatalf("p50 %s is over the %s target", pct(0.50), target)
	}
}
