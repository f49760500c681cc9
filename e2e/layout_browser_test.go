//go:build browser

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// sidebar is the app and a CRM-like host page on another origin that
// frames the card at the full width of the window, as a record page's
// sidebar or a phone does, and sizes the frame to the card's content from
// its messages. Its connection may be framed by the host and by two
// Salesforce origins that are not the host: the card must talk to the host
// only.
type sidebar struct {
	*env
	host  *httptest.Server
	org   string
	conn  *qwoty.Connection
	scope store.Scope
}

const sidebarRecord = "006000000000777AAA"

func startSidebar(t *testing.T) *sidebar {
	t.Helper()
	e := start(t)
	s := &sidebar{env: e}
	s.host = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		src := r.URL.Query().Get("src")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Record</title>
<style>body{margin:0;background:#eef1f6} iframe{display:block;border:0;width:100%%;height:300px;background:#fff}</style></head>
<body><iframe id="qwoty-frame" title="Qwoty" src="%s"></iframe>
<script>
window.qwoty = {ready: false, heights: []};
addEventListener("message", function (e) {
  if (e.origin !== %q) return;
  var m = e.data || {};
  if (m.source !== "qwoty") return;
  if (m.type === "ready") window.qwoty.ready = true;
  if (m.type === "resize") {
    window.qwoty.heights.push(m.height);
    document.getElementById("qwoty-frame").style.height = m.height + "px";
  }
});
</script></body></html>`, htmlAttr(src), e.appURL)
	}))
	t.Cleanup(s.host.Close)
	org, err := salesforce.NormalizeOrgID("00D000000000SBR")
	if err != nil {
		t.Fatal(err)
	}
	s.org = org
	s.conn, err = e.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Sidebar", Provider: qwoty.ProviderSalesforce,
		ExternalID: org, MyDomain: "sidebar", FrameOrigins: []string{s.host.URL}})
	if err != nil {
		t.Fatal(err)
	}
	s.scope = store.Scope{WorkspaceID: s.conn.WorkspaceID, ConnectionID: s.conn.ID, RecordID: sidebarRecord}
	return s
}

func htmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// embedURL signs a callout for the record as a rep with locale, in
// currency, and returns the card's address (opened on quote, if given).
func (s *sidebar) embedURL(t *testing.T, locale, currency, quote string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"recordId": sidebarRecord, "objectType": "Opportunity",
		"user":   map[string]any{"id": "005000000000001AAA", "name": "Rep", "locale": locale},
		"record": map[string]any{"name": "Globex - 40 seats", "accountId": "001000000000777AAA", "accountName": "Globex", "currencyIsoCode": currency},
	})
	req, _ := http.NewRequest(http.MethodPost, s.appURL+"/api/crm/cardView", strings.NewReader(string(body)))
	req.Header = salesforce.SignedHeaders(s.org, s.conn.Secret, "/api/crm/cardView", body, time.Now(), salesforce.NewNonce())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		EmbedURL string `json:"embedUrl"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &a) != nil || a.EmbedURL == "" {
		t.Fatalf("callout: %d %s", resp.StatusCode, raw)
	}
	if quote != "" {
		return a.EmbedURL + "&quote=" + quote
	}
	return a.EmbedURL
}

// open shows the card in the host page at a window width, and waits until
// the card says it is ready.
func (s *sidebar) open(ctx context.Context, t *testing.T, width int64, embed string) {
	t.Helper()
	if err := bounded(ctx, chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(s.host.URL+"/?src="+urlQuery(embed))); err != nil {
		t.Fatalf("open the host page at %d px: %v", width, err)
	}
	waitFor(ctx, t, "the card says ready", func() bool {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.qwoty && window.qwoty.ready`))
		return err == nil && ready
	})
}

// quote makes a quote on the record through the store, with lines.
func (s *sidebar) quote(t *testing.T, currency string, lines ...qwoty.LineInput) *qwoty.Quote {
	t.Helper()
	ctx := context.Background()
	q, err := s.db.CreateQuote(ctx, s.scope, store.NewQuote{Title: "Globex - 40 seats", Currency: currency, CreatedBy: "005000000000001AAA"})
	if err != nil {
		t.Fatal(err)
	}
	q, err = s.db.UpdateQuote(ctx, s.scope, q.ID, 0, "005000000000001AAA", func(q *qwoty.Quote) error {
		for _, in := range lines {
			l, err := qwoty.ParseLine(in)
			if err != nil {
				return err
			}
			if err := q.AddLine(l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// fiveLines is a quote a rep makes: a long description, a large amount,
// a discount, prices with cents.
var fiveLines = []qwoty.LineInput{
	{SKU: "LIC-ENT-100", Description: "Enterprise licence, annual, per named user, with premium support", Quantity: "40", UnitPrice: "1249.90", DiscountPercent: "12.5"},
	{SKU: "ONB", Description: "Onboarding workshop (2 days, on site)", Quantity: "1", UnitPrice: "4800", DiscountPercent: "0"},
	{SKU: "SUP-24x7", Description: "24×7 support", Quantity: "12", UnitPrice: "49.90", DiscountPercent: "0"},
	{SKU: "STORAGE-TB", Description: "Extra storage", Quantity: "250", UnitPrice: "19.99", DiscountPercent: "5"},
	{SKU: "HW-GW", Description: "Gateway appliance", Quantity: "3", UnitPrice: "123456.78", DiscountPercent: "0"},
}

// frameEval evaluates an expression in the card's frame (an isolated world
// of it: the same DOM, none of the page's scripts) and decodes its value.
func frameEval[T any](ctx context.Context, t *testing.T, expr string) (T, error) {
	t.Helper()
	return chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (T, error) {
		var zero T
		tree, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return zero, err
		}
		if tree.FrameTree == nil || len(tree.FrameTree.ChildFrames) != 1 {
			return zero, fmt.Errorf("want one child frame")
		}
		w, err := cdp.Call(ctx, tg, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: tree.FrameTree.ChildFrames[0].Frame.ID, WorldName: "e2e"})
		if err != nil {
			return zero, err
		}
		return chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.ContextID = w.ExecutionContextID })(ctx, tg)
	})
}

func mustFrameEval[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := frameEval[T](c, t, expr)
	if err != nil {
		t.Fatalf("in the card: %s: %v", expr, err)
	}
	return v
}

// waitFor polls cond for up to 15 s.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting: %s", what)
}

// waitFrame waits until a boolean expression holds in the card's frame.
func waitFrame(ctx context.Context, t *testing.T, what, expr string) {
	t.Helper()
	waitFor(ctx, t, what, func() bool {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ok, err := frameEval[bool](c, t, expr)
		return err == nil && ok
	})
}

// shoot saves the host page with the card to QWOTY_SCREENSHOT_DIR, for
// people to look at.
func shoot(ctx context.Context, t *testing.T, name string) {
	dir := os.Getenv("QWOTY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	time.Sleep(150 * time.Millisecond) // the frame's last resize
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// overflowJS lists what does not fit the frame's width: the page scrolls
// sideways, or an input, amount, or button reaches past the frame's
// visible width, or an amount's text is wider than its box.
const overflowJS = `(() => {
  const out = [];
  const de = document.documentElement, vw = de.clientWidth;
  if (de.scrollWidth > vw) out.push("the page scrolls sideways: " + de.scrollWidth + " > " + vw);
  const name = (el) => el.id || el.name || el.className || el.tagName;
  for (const el of document.querySelectorAll("#main input, #main .amount, #main .q-total, #totals dd, #main button")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.right > vw + 0.5) out.push(name(el) + " spans " + Math.round(r.left) + ".." + Math.round(r.right) + " of " + vw);
    if (el.tagName === "INPUT" && r.width < 40) out.push(name(el) + " is " + Math.round(r.width) + " px wide");
    if (el.tagName !== "INPUT" && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== "inline") out.push(name(el) + " text is cut: " + el.scrollWidth + " > " + el.clientWidth);
  }
  return out;
})()`

// At every width a record page or a phone gives the card, each input,
// amount and button of a 5-line quote is inside the frame, nothing scrolls
// sideways; the frame shrinks back when the content gets shorter; the card
// talks to the host only and logs no htmx error.
func TestCardFitsTheSidebarAndThePhone(t *testing.T) {
	s := startSidebar(t)
	ctx, logs := browser(t)
	q := s.quote(t, "USD", fiveLines...)
	s.quote(t, "USD", fiveLines[:1]...)
	for _, w := range []int64{320, 360, 400, 768, 1280} {
		s.open(ctx, t, w, s.embedURL(t, "en_US", "USD", q.ID))
		waitFrame(ctx, t, "the editor", `document.querySelectorAll("form.line").length === 5`)
		if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
			shoot(ctx, t, fmt.Sprintf("failed-editor-%d", w))
			t.Fatalf("editor at %d px: %s", w, strings.Join(bad, "; "))
		}
		shoot(ctx, t, fmt.Sprintf("editor-%d", w))
		editorHeight := mustFrameEval[float64](ctx, t, `document.documentElement.getBoundingClientRect().height`)

		// Back to the list: shorter, and the frame follows it down.
		if err := bounded(ctx, chromedp.Click(chromedp.CSS("#back"), in(frame(ctx, t)))); err != nil {
			t.Fatal(err)
		}
		waitFrame(ctx, t, "the list", `document.querySelectorAll("#quote-list li").length === 2`)
		if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
			shoot(ctx, t, fmt.Sprintf("failed-list-%d", w))
			t.Fatalf("list at %d px: %s", w, strings.Join(bad, "; "))
		}
		listHeight := mustFrameEval[float64](ctx, t, `document.documentElement.getBoundingClientRect().height`)
		waitFor(ctx, t, "the frame shrinks to the list", func() bool {
			h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("qwoty-frame").getBoundingClientRect().height`))
			return err == nil && h < editorHeight && h <= listHeight+1
		})
		shoot(ctx, t, fmt.Sprintf("list-%d", w))
	}
	for _, bad := range []string{"htmx:", "postMessage", "evalDisallowed"} {
		if logs.has(bad) {
			t.Fatalf("the console has %q: %v", bad, logs.lines)
		}
	}
}

// Keeping the rep's place: Tab after editing a quantity lands on the unit
// price, and typing there (while the first save is still on its way back)
// edits it; after "Add line" the SKU field has the focus.
func TestCardKeepsFocusAcrossSaves(t *testing.T) {
	s := startSidebar(t)
	ctx, logs := browser(t)
	for _, w := range []int64{360, 1280} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			q := s.quote(t, "USD", fiveLines...)
			s.open(ctx, t, w, s.embedURL(t, "en_US", "USD", q.ID))
			f := frame(ctx, t)
			line := `form.line[data-sku="ONB"] `
			if err := bounded(ctx, chromedp.SendKeys(chromedp.CSS(line+`input[name=quantity]`), retype("2")+kb.Tab, in(f)),
				chromedp.KeyEvent("4500"), chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatal(err)
			}
			// Both saves land: 2 × 4500 on the line.
			defer func() {
				if t.Failed() {
					st, _ := frameEval[string](ctx, t, `(() => { const f = document.querySelector('`+line+`'); return [...f.querySelectorAll("input")].map(i => i.name+"="+i.value+"/"+i.defaultValue).join(" ") + " active=" + (document.activeElement && (document.activeElement.id||document.activeElement.tagName)) + " flash=" + document.getElementById("flash").textContent; })()`)
					t.Logf("line state: %s", st)
					for _, l := range logs.lines {
						t.Log(l)
					}
				}
			}()
			waitFrame(ctx, t, "the line saved with both edits", `(() => { const f = document.querySelector('`+line+`');
				return f && f.querySelector("[name=quantity]").defaultValue === "2" && f.querySelector("[name=unit_price]").defaultValue === "4500.00"; })()`)
			if got := mustFrameEval[string](ctx, t, `document.querySelector('`+line+`.amount').textContent`); got != "USD\u00a09,000.00" {
				t.Fatalf("the line's amount reads %q after 2 × 4500", got)
			}
			// The focus went on with the rep: on the discount field, after two Tabs.
			if got := mustFrameEval[string](ctx, t, `document.activeElement && document.activeElement.name || String(document.activeElement && document.activeElement.tagName)`); got != "discount_percent" {
				t.Fatalf("after quantity, Tab, unit price, Tab the focus is on %q, want the discount field", got)
			}
			if err := bounded(ctx, chromedp.KeyEvent("5"), chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatal(err)
			}
			waitFrame(ctx, t, "the discount saved", `document.querySelector('`+line+`[name=discount_percent]').defaultValue === "5"`)

			// Add a line: the SKU field is ready for the next one.
			if err := bounded(ctx,
				chromedp.SendKeys(chromedp.CSS("#new-sku"), "EXTRA", in(f)),
				chromedp.SendKeys(chromedp.CSS("#new-unit_price"), "10", in(f)),
				chromedp.Click(chromedp.CSS("#add-line button[type=submit]"), in(f))); err != nil {
				t.Fatal(err)
			}
			waitFrame(ctx, t, "the sixth line", `document.querySelectorAll("form.line").length === 6`)
			waitFrame(ctx, t, "the focus on the SKU field", `document.activeElement && document.activeElement.id === "new-sku"`)
			if err := bounded(ctx, chromedp.KeyEvent("NEXT")); err != nil {
				t.Fatal(err)
			}
			if got := mustFrameEval[string](ctx, t, `document.getElementById("new-sku").value`); got != "NEXT" {
				t.Fatalf("typing after Add line gave the SKU field %q", got)
			}
			shoot(ctx, t, fmt.Sprintf("focus-%d", w))
		})
	}
	if logs.has("htmx:") {
		t.Fatalf("the console has htmx errors: %v", logs.lines)
	}
}

// A refused value is marked invalid, with its message beside it and tied
// to it; the line's amount and the totals say they are the last saved ones
// until the value is restored or corrected.
func TestCardRefusedValueIsMarked(t *testing.T) {
	s := startSidebar(t)
	ctx, _ := browser(t)
	for _, w := range []int64{360, 1280} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			q := s.quote(t, "USD", fiveLines...)
			s.open(ctx, t, w, s.embedURL(t, "en_US", "USD", q.ID))
			f := frame(ctx, t)
			field := `form.line[data-sku="ONB"] input[name=discount_percent]`
			if err := bounded(ctx, chromedp.SendKeys(chromedp.CSS(field), retype("150")+kb.Tab, in(f))); err != nil {
				t.Fatal(err)
			}
			waitFrame(ctx, t, "the field marked invalid", `document.querySelector('`+field+`').getAttribute("aria-invalid") === "true"`)
			msg := mustFrameEval[string](ctx, t, `(() => { const el = document.querySelector('`+field+`');
				const d = document.getElementById(el.getAttribute("aria-describedby")); return d ? d.textContent : ""; })()`)
			if !strings.Contains(msg, "Discount 150% is out of range") {
				t.Fatalf("the field's description is %q", msg)
			}
			if got := mustFrameEval[string](ctx, t, `document.querySelector('`+field+`').value`); got != "150" {
				t.Fatalf("the field holds %q: want what the rep typed, to fix it", got)
			}
			honest := `document.getElementById("totals").classList.contains("stale") && !document.getElementById("stale-note").hidden &&
				!!document.querySelector('form.line[data-sku="ONB"] .stale-tag')`
			if !mustFrameEval[bool](ctx, t, honest) {
				t.Fatal("the totals do not say they leave out the refused value")
			}
			shoot(ctx, t, fmt.Sprintf("refused-%d", w))
			// Restore the saved value: the marks go.
			if err := bounded(ctx, chromedp.Click(chromedp.CSS(`form.line[data-sku="ONB"] .restore`), in(f))); err != nil {
				t.Fatal(err)
			}
			if !mustFrameEval[bool](ctx, t, `(() => { const el = document.querySelector('`+field+`');
				return el.value === "0" && !el.hasAttribute("aria-invalid") && !document.getElementById("totals").classList.contains("stale") &&
					document.getElementById("stale-note").hidden && !document.querySelector(".stale-tag, .field-error"); })()`) {
				t.Fatal("restoring the saved value left marks behind")
			}
			// A quantity in words is refused too.
			qty := `form.line[data-sku="ONB"] input[name=quantity]`
			if err := bounded(ctx, chromedp.SendKeys(chromedp.CSS(qty), retype("two")+kb.Tab, in(f))); err != nil {
				t.Fatal(err)
			}
			waitFrame(ctx, t, "the quantity marked invalid", `document.querySelector('`+qty+`').getAttribute("aria-invalid") === "true"`)
		})
	}
}

// Money reads the same in the list and the editor, in the rep's locale and
// the currency's minor units.
func TestCardMoneyReadsTheSame(t *testing.T) {
	s := startSidebar(t)
	ctx, _ := browser(t)
	for _, c := range []struct{ locale, currency, want string }{
		{"en_US", "USD", "USD\u00a010,146.42"},
		{"fr_FR", "EUR", "10\u202f146,42\u00a0EUR"},
		{"en_US", "JPY", "JPY\u00a010,147"},
	} {
		t.Run(c.currency, func(t *testing.T) {
			q := s.quote(t, c.currency, fiveLines[1:4]...)
			s.open(ctx, t, 400, s.embedURL(t, c.locale, c.currency, ""))
			f := frame(ctx, t)
			row := `[data-number="` + q.Number + `"]`
			inList := mustFrameEval[string](ctx, t, `(() => { const r = document.querySelector('`+row+`');
				return r ? r.querySelector(".q-total, td.num").textContent.trim() : "no row"; })()`)
			if err := bounded(ctx, chromedp.Click(chromedp.CSS(row), in(f))); err != nil {
				t.Fatal(err)
			}
			waitFrame(ctx, t, "the editor", `!!document.getElementById("total")`)
			inEditor := mustFrameEval[string](ctx, t, `document.getElementById("total").textContent.trim()`)
			subtotal := mustFrameEval[string](ctx, t, `document.getElementById("subtotal").textContent.trim()`)
			shoot(ctx, t, "money-"+c.currency)
			if inList != inEditor || inEditor != c.want {
				t.Fatalf("%s %s: the list reads %q, the editor %q, want %q in both", c.locale, c.currency, inList, inEditor, c.want)
			}
			if !strings.Contains(subtotal, c.currency) {
				t.Fatalf("the subtotal %q does not name the currency", subtotal)
			}
		})
	}
}

// A quote changed elsewhere while the card shows it: the rep's edit is
// refused in words, without version numbers, and "Reload the quote" shows
// what is saved now.
func TestCardVersionConflictOffersReload(t *testing.T) {
	s := startSidebar(t)
	ctx, _ := browser(t)
	q := s.quote(t, "USD", fiveLines[:2]...)
	s.open(ctx, t, 400, s.embedURL(t, "en_US", "USD", q.ID))
	f := frame(ctx, t)
	if _, err := s.db.UpdateQuote(context.Background(), s.scope, q.ID, 0, "005000000000002AAA", func(q *qwoty.Quote) error {
		return q.SetTerms(qwoty.Terms{Title: "Renamed by a colleague", Currency: "USD"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := bounded(ctx, chromedp.SendKeys(chromedp.CSS("#title"), " (mine)"+kb.Tab, in(f))); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "the conflict message", `!!document.querySelector("#flash [data-reload]")`)
	msg := mustFrameEval[string](ctx, t, `document.getElementById("flash").textContent`)
	if !strings.Contains(msg, "changed elsewhere") || strings.ContainsAny(msg, "0123456789") {
		t.Fatalf("the conflict reads %q: want it in words, without versions", msg)
	}
	shoot(ctx, t, "conflict")
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#flash [data-reload]"), in(f))); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, "the saved quote", `document.getElementById("title").value === "Renamed by a colleague" && document.getElementById("flash").textContent === ""`)
}
