package web

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
)

func TestAcceptedEncoding(t *testing.T) {
	for h, want := range map[string]encoding{
		"": identity, "br": encBrotli, "gzip": encGzip, "GZIP": encGzip, "x-gzip": encGzip, "deflate": identity,
		"gzip, br": encBrotli, "br;q=0": identity, "br;q=0, *": encGzip, "*;q=0": identity, "br; q=0.001": encBrotli,
		"identity;q=1, *;q=0": identity, "gzip;q=bogus": encGzip,
	} {
		if got := acceptedEncoding(h); got != want {
			t.Errorf("acceptedEncoding(%q) = %v, want %v", h, got, want)
		}
	}
}

// BenchmarkCompressEditor is what compressing costs on a card action: the
// editor of a 5-line quote, at the levels render uses.
func BenchmarkCompressEditor(b *testing.B) {
	q := &qwoty.Quote{ID: "7b0f3c1e-1d2a-4c55-9a0e-5b1f2f0c9d11", Number: "Q-00042", Title: "Acme - 200 licences", Status: qwoty.StatusDraft,
		Currency: "USD", Version: 7}
	for i := range 5 {
		q.Lines = append(q.Lines, qwoty.LineItem{ID: fmt.Sprintf("0f6c2b9e-8a1d-4e3b-9c7f-%012d", i), SKU: fmt.Sprintf("SKU-%d", i),
			Description: "Enterprise licence, annual, per named user", Quantity: decimal.NewFromInt(40), UnitPrice: decimal.RequireFromString("1249.90"),
			DiscountPercent: decimal.NewFromInt(10)})
	}
	q.Totals = qwoty.ComputeTotals(q.Lines, q.TaxRate, q.Currency)
	var html bytes.Buffer
	if err := templates.QuoteEditor(q, qwoty.MoneyFor("en_US")).Render(context.Background(), &html); err != nil {
		b.Fatal(err)
	}
	for _, enc := range []encoding{encBrotli, encGzip} {
		b.Run(enc.token(), func(b *testing.B) {
			b.SetBytes(int64(html.Len()))
			var n int
			for b.Loop() {
				n = len(compressFast(enc, html.Bytes()))
			}
			b.ReportMetric(float64(n), "bytes-out")
		})
	}
}
