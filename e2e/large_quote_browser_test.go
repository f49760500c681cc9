//go:build browser

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// largeQuoteLines are the lines of the 2,000-line quote, taxed per line
// with a quote discount (the editor's longest form).
var largeQuoteLines = []qwoty.LineInput{
	{SKU: "LIC-STD", Description: "Standard licence, per seat and year", Quantity: "25", UnitPrice: "49.90", DiscountPercent: "10"},
	{SKU: "SUP", Description: "Support, business hours", Quantity: "1", UnitPrice: "1200", TaxRate: "7"},
	{SKU: "TRAIN", Description: "Training day on site", Quantity: "2.5", UnitPrice: "899.995", DiscountPercent: "12.5"},
}

// cardTiming is what the card's frame measured of its own first load.
type cardTiming struct {
	ResponseEnd float64 `json:"responseEnd"` // ms since navigation start: the editor's HTML received
	FCP         float64 `json:"fcp"`         // first contentful paint
	DOMReady    float64 `json:"domReady"`    // DOMContentLoaded ended (htmx and card.js ran)
	Load        float64 `json:"load"`        // load event ended
	Nodes       int     `json:"nodes"`       // elements in the document
	Height      int     `json:"height"`      // the document's height, px
	LongTasks   int     `json:"longTasks"`   // tasks over 50 ms so far
	LongestTask float64 `json:"longestTask"` // ms
	TotalLong   float64 `json:"totalLong"`   // ms spent in long tasks beyond 50 ms each
}

// scrollTiming is a scroll through the whole card in steps, one step a
// frame, timed with requestAnimationFrame in the host page.
type scrollTiming struct {
	Steps   int     `json:"steps"`
	Total   float64 `json:"total"` // ms
	P50     float64 `json:"p50"`   // frame interval, ms
	P95     float64 `json:"p95"`
	Max     float64 `json:"max"`
	Over50  int     `json:"over50"` // frames of more than 50 ms
	Checked int     `json:"checked"`
}

// The card's frame records its long tasks from the start (an observer with
// the buffered entries) in a data attribute, which any world can read.
const longTaskObserverJS = `(() => {
  const de = document.documentElement;
  if (de.dataset.ltObserved) return true;
  de.dataset.ltObserved = "1";
  const add = (list) => {
    for (const e of list.getEntries()) {
      de.dataset.ltCount = (+(de.dataset.ltCount || 0) + 1);
      de.dataset.ltMax = Math.max(+(de.dataset.ltMax || 0), e.duration);
      de.dataset.ltTotal = (+(de.dataset.ltTotal || 0)) + Math.max(0, e.duration - 50);
    }
  };
  new PerformanceObserver(add).observe({type: "longtask", buffered: true});
  return true;
})()`

const cardTimingJS = `(() => {
  const n = performance.getEntriesByType("navigation")[0] || {};
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const de = document.documentElement;
  return {responseEnd: n.responseEnd || 0, fcp: fcp ? fcp.startTime : 0, domReady: n.domContentLoadedEventEnd || 0,
    load: n.loadEventEnd || 0, nodes: document.getElementsByTagName("*").length, height: de.scrollHeight,
    longTasks: +(de.dataset.ltCount || 0), longestTask: +(de.dataset.ltMax || 0), totalLong: +(de.dataset.ltTotal || 0)};
})()`

// scrollJS scrolls the host page (the frame is as tall as the card) from
// top to bottom and back to the middle, a step a frame, and times the
// frames.
const scrollJS = `new Promise((done) => {
  const max = document.documentElement.scrollHeight - innerHeight;
  const step = Math.max(400, Math.ceil(max / 150));
  const targets = [];
  for (let y = 0; y <= max; y += step) targets.push(y);
  for (let y = max; y >= max / 2; y -= step) targets.push(y);
  const gaps = [];
  let last = performance.now(), i = 0;
  const began = last;
  const tick = (now) => {
    gaps.push(now - last);
    last = now;
    if (i >= targets.length) {
      gaps.sort((a, b) => a - b);
      const pct = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
      done({steps: targets.length, total: now - began, p50: pct(0.5), p95: pct(0.95), max: gaps[gaps.length - 1],
        over50: gaps.filter((g) => g > 50).length, checked: Math.round(scrollY)});
      return;
    }
    scrollTo(0, targets[i++]);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})`

// A quote of 2,000 lines opens in the card at 360 px (a phone) and scrolls
// through: how long until it shows, how long the browser is busy, and the
// frames of a scroll from top to bottom and back, in the host page as a
// record page frames the card. The bounds are generous (a shared machine);
// docs/performance.md has the figures.
func TestLargeQuoteCardOpensAndScrolls(t *testing.T) {
	s := startSidebar(t)
	ctx, _ := browser(t)
	q := s.quote(t, "EUR", largeQuoteLines[:1]...)
	var err error
	q, err = s.db.UpdateQuote(context.Background(), s.scope, q.ID, 0, "005000000000001AAA", func(q *qwoty.Quote) error {
		for i := len(q.Lines); i < qwoty.MaxLines; i++ {
			l, err := qwoty.ParseLine(largeQuoteLines[i%len(largeQuoteLines)])
			if err != nil {
				return err
			}
			if err := q.AddLine(l); err != nil {
				return err
			}
		}
		disc := qwoty.QuoteDiscount{Kind: qwoty.DiscountPercent, Value: decimal.RequireFromString("2.5")}
		return q.SetTerms(qwoty.Terms{Title: q.Title, TaxRate: decimal.RequireFromString("19"), TaxMode: qwoty.TaxPerLine, Discount: &disc})
	})
	if err != nil || len(q.Lines) != qwoty.MaxLines {
		t.Fatalf("the quote: %v", err)
	}
	for _, width := range []int64{360, 1280} {
		began := time.Now()
		s.open(ctx, t, width, s.embedURL(t, "de_DE", "EUR", q.ID))
		ready := time.Since(began)
		waitFrame(ctx, t, "the editor shows its last line", `document.querySelectorAll("#lines .line").length === `+itoa(qwoty.MaxLines))
		mustFrameEval[bool](ctx, t, longTaskObserverJS)
		time.Sleep(500 * time.Millisecond) // the history's and versions' loads
		open := mustFrameEval[cardTiming](ctx, t, cardTimingJS)
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		sc, err := chromedp.Run(c, chromedp.Evaluate[scrollTiming](scrollJS, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatalf("scroll at %d px: %v", width, err)
		}
		after := mustFrameEval[cardTiming](ctx, t, cardTimingJS)
		t.Logf("%d px: ready after %s; HTML in %.0f ms, first paint %.0f ms, DOM ready %.0f ms, load %.0f ms; %d elements, %d px tall; long tasks while opening %d (longest %.0f ms, %.0f ms over 50 ms)",
			width, ready.Round(time.Millisecond), open.ResponseEnd, open.FCP, open.DOMReady, open.Load, open.Nodes, open.Height, open.LongTasks, open.LongestTask, open.TotalLong)
		t.Logf("%d px: scroll of %d steps in %.0f ms: frame p50 %.1f ms, p95 %.1f ms, max %.1f ms, %d frames over 50 ms; long tasks during it %d (longest %.0f ms)",
			width, sc.Steps, sc.Total, sc.P50, sc.P95, sc.Max, sc.Over50, after.LongTasks-open.LongTasks, after.LongestTask)
		shoot(ctx, t, "large-quote-"+itoa(int(width)))
	}
}
