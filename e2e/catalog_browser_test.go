//go:build browser

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// A rep adds a catalogue line by typing part of a product's name: the
// search lists the CRM account's products priced in the quote's currency,
// and the picked one fills the line with its catalogue price and is stored
// linked to its CRM product. At 360 px (a sidebar, by keyboard: ↓ then
// Enter) and at 1280 px (by mouse). Then Sync now says it was requested.
func TestCardCatalogueLine(t *testing.T) {
	s := startSidebar(t)
	ctx, logs := browser(t)
	prod := func(id, sku, name, usd, eur string) crm.Pulled {
		return crm.Pulled{Kind: crm.KindProduct, ID: id, Modified: time.Now(), Product: &crm.PulledProduct{SKU: sku, Name: name, Active: true,
			Prices: []crm.PulledPrice{{Currency: "USD", UnitPrice: decimal.RequireFromString(usd), Active: true},
				{Currency: "EUR", UnitPrice: decimal.RequireFromString(eur), Active: true}}}}
	}
	if _, err := s.db.StorePulled(context.Background(), s.conn.WorkspaceID, s.conn.ID, []crm.Pulled{
		prod("01t000000000001AAA", "HW-GW-200", "Gateway appliance, rack-mounted, dual power supply", "1249.50", "1100"),
		prod("01t000000000002AAA", "HW-GW-100", "Gateway appliance", "499", "450"),
		prod("01t000000000003AAA", "LIC-ENT", "Enterprise licence", "99", "90"),
	}); err != nil {
		t.Fatal(err)
	}
	q := s.quote(t, "USD")
	for i, w := range []int64{360, 1280} {
		s.open(ctx, t, w, s.embedURL(t, "en_US", "USD", q.ID))
		f := frame(ctx, t)
		if err := bounded(ctx, chromedp.Click(chromedp.CSS("#catalog-q"), in(f)), chromedp.SendKeys(chromedp.CSS("#catalog-q"), "gatew", in(f))); err != nil {
			t.Fatalf("type in the search at %d px: %v", w, err)
		}
		waitFrame(ctx, t, "two matches", `document.querySelectorAll("#catalog-results .cat-item").length === 2`)
		if shown := mustFrameEval[bool](ctx, t, `document.getElementById("catalog-picked").getClientRects().length > 0`); shown && i == 0 {
			t.Fatalf("at %d px the picked product's note shows before anything was picked", w)
		}
		first := mustFrameEval[string](ctx, t, `document.querySelector("#catalog-results .cat-item").textContent.replace(/\s+/g, " ").trim()`)
		if first != "HW-GW-100 Gateway appliance USD 499.00" {
			t.Fatalf("the first match at %d px reads %q", w, first)
		}
		if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
			shoot(ctx, t, fmt.Sprintf("failed-catalog-%d", w))
			t.Fatalf("search at %d px: %s", w, strings.Join(bad, "; "))
		}
		shoot(ctx, t, fmt.Sprintf("catalog-search-%d", w))
		// The rack-mounted one, the second match.
		if i == 0 {
			err := bounded(ctx, chromedp.SendKeys(chromedp.CSS("#catalog-q"), kb.ArrowDown, in(f)))
			if err == nil {
				waitFrame(ctx, t, "the first match has the focus", `document.activeElement && document.activeElement.classList.contains("cat-item")`)
				err = bounded(ctx, chromedp.SendKeys(chromedp.CSS(".cat-item:focus"), kb.ArrowDown, in(f)))
			}
			if err == nil {
				waitFrame(ctx, t, "the second match has the focus", `document.activeElement && document.activeElement.id === "cat-01t000000000001AAA"`)
				err = bounded(ctx, chromedp.SendKeys(chromedp.CSS(".cat-item:focus"), kb.Enter, in(f)))
			}
			if err != nil {
				t.Fatalf("pick by keyboard: %v", err)
			}
		} else if err := bounded(ctx, chromedp.Click(chromedp.CSS("#cat-01t000000000001AAA"), in(f))); err != nil {
			t.Fatalf("pick by mouse: %v", err)
		}
		waitFrame(ctx, t, "the line is filled", `document.getElementById("new-sku").value === "HW-GW-200" && document.getElementById("new-unit_price").value === "1249.50"
			&& document.getElementById("new-product_id").value === "01t000000000001AAA" && document.activeElement.id === "new-quantity" && !document.getElementById("catalog-picked").hidden`)
		shoot(ctx, t, fmt.Sprintf("catalog-picked-%d", w))
		if err := bounded(ctx, chromedp.Click(chromedp.CSS("#add-line-submit"), in(f))); err != nil {
			t.Fatal(err)
		}
		want := decimal.RequireFromString("1249.50").Mul(decimal.NewFromInt(int64(i + 1)))
		waitFrame(ctx, t, "the total", fmt.Sprintf(`document.getElementById("total").textContent.trim() === "USD\u00a0%s"`, groupThousands(want.StringFixed(2))))
		shoot(ctx, t, fmt.Sprintf("catalog-added-%d", w))
	}
	got, err := s.db.GetQuote(context.Background(), s.scope, q.ID)
	if err != nil || len(got.Lines) != 2 {
		t.Fatalf("stored: %+v, %v", got, err)
	}
	for _, l := range got.Lines {
		if l.ProductID != "01t000000000001AAA" || !l.UnitPrice.Equal(decimal.RequireFromString("1249.50")) || l.SKU != "HW-GW-200" {
			t.Fatalf("stored line: %+v", l)
		}
	}
	// Sync now, from the editor.
	f := frame(ctx, t)
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#sync-now"), in(f))); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "Sync requested", `!!document.getElementById("sync-requested")`)
	shoot(ctx, t, "catalog-sync-now-1280")
	for _, bad := range []string{"htmx:", "evalDisallowed"} {
		if logs.has(bad) {
			t.Fatalf("the console has %q: %v", bad, logs.lines)
		}
	}
}

// groupThousands writes 2499.00 as 2,499.00 (en_US).
func groupThousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}
