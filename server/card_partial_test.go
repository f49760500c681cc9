package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// element is the span [start, end) of the element whose start tag begins
// at start in page: to the end of its matching end tag.
func element(t *testing.T, page string, start int) int {
	t.Helper()
	name := page[start+1:]
	name = name[:strings.IndexAny(name, " >")]
	open, closing := "<"+name, "</"+name+">"
	depth := 0
	for j := start; j < len(page); {
		o := strings.Index(page[j:], open)
		c := strings.Index(page[j:], closing)
		if c < 0 {
			break
		}
		if o >= 0 && o < c && strings.ContainsAny(page[j+o+len(open):j+o+len(open)+1], " >") {
			depth++
			j += o + len(open)
			continue
		}
		if o >= 0 && o < c {
			j += o + len(open)
			continue
		}
		depth--
		j += c + len(closing)
		if depth == 0 {
			return j
		}
	}
	t.Fatalf("no end of the <%s> at %d", name, start)
	return 0
}

// byID is the span of the element with id in page.
func byID(t *testing.T, page, id string) (int, int) {
	t.Helper()
	i := strings.Index(page, ` id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element #%s", id)
	}
	start := strings.LastIndex(page[:i], "<")
	return start, element(t, page, start)
}

var (
	fragmentID = regexp.MustCompile(`^<[a-z]+[^>]* id="([^"]+)"`)
	oobAttr    = regexp.MustCompile(` hx-swap-oob="true"`)
	editorTag  = regexp.MustCompile(`<section id="editor"[^>]*>`)
	dataVer    = regexp.MustCompile(`data-version="(\d+)"`)
	openForm   = regexp.MustCompile(`<form class="line" id="line-([0-9a-f-]+)"`)
)

// swapped is page after htmx swaps a partial answer in as the card does:
// the answer's first element in place of the retargeted one, every other
// (hx-swap-oob) in place of the element with its id, and the quote's new
// version from X-Quote-Version on the editor (card.js).
func swapped(t *testing.T, page string, r response) string {
	t.Helper()
	target := strings.TrimPrefix(r.header.Get("HX-Retarget"), "#")
	if target == "" || r.header.Get("HX-Reswap") != "outerHTML" {
		t.Fatalf("not a partial answer: %v\n%.500s", r.header, r.body)
	}
	body := strings.TrimSpace(string(r.body))
	for first := true; body != ""; first = false {
		end := element(t, body, 0)
		frag := body[:end]
		body = strings.TrimSpace(body[end:])
		id := target
		if !first {
			m := fragmentID.FindStringSubmatch(frag)
			if m == nil || !oobAttr.MatchString(frag) {
				t.Fatalf("fragment %.200s is neither the target nor out of band", frag)
			}
			id = m[1]
		}
		frag = oobAttr.ReplaceAllString(frag, "")
		s, e := byID(t, page, id)
		page = page[:s] + frag + page[e:]
	}
	v := r.header.Get("X-Quote-Version")
	tag := editorTag.FindString(page)
	old := dataVer.FindStringSubmatch(tag)
	if v == "" || old == nil {
		t.Fatalf("no new version (%q) or none on the editor", v)
	}
	now := strings.NewReplacer(`data-version="`+old[1]+`"`, `data-version="`+v+`"`,
		`&#34;version&#34;:&#34;`+old[1]+`&#34;`, `&#34;version&#34;:&#34;`+v+`&#34;`).Replace(tag)
	return strings.Replace(page, tag, now, 1)
}

// After a partial answer (a line saved in a quote of PartialFrom lines or
// more, opened from its row) the card shows what the whole editor, rendered
// again, would show, with the lines the rep opened as their forms: the
// line, the totals, and every other line whose shown figures moved,
// with a quote discount shared across lines and a tax per line, through
// edits of a quantity, a discount and a tax rate.
func TestPartialAnswerLeavesTheCardAsAFullRenderWould(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, _ := cardQuote(t, a)
	id := strings.TrimPrefix(base, "/embed/api/quotes/")
	inputs := []qwoty.LineInput{
		{SKU: "LIC", Description: "Seats", Quantity: "25", UnitPrice: "49.90", DiscountPercent: "10"},
		{SKU: "SUP", Description: "Support", Quantity: "1", UnitPrice: "1200", TaxRate: "7"},
		{SKU: "TRN", Description: "Training", Quantity: "2.5", UnitPrice: "899.995", DiscountPercent: "12.5"},
		{SKU: "ODD", Description: "Odd cents", Quantity: "3", UnitPrice: "0.333", TaxRate: "19"},
	}
	q, err := a.db.UpdateQuote(context.Background(), scopeFor(conn, recordA), id, 0, "", func(q *qwoty.Quote) error {
		if err := addLines(t, inputs, PartialFrom+20)(q); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	full := func() string {
		t.Helper()
		r := a.send(http.MethodGet, base, tok, nil, true)
		if r.status != http.StatusOK {
			t.Fatalf("editor: %d %s", r.status, r.body)
		}
		return string(r.body)
	}
	edits := []struct {
		line   int
		change func(url.Values)
	}{
		{60, func(f url.Values) { f.Set("quantity", "7") }},
		{61, func(f url.Values) { f.Set("discount_percent", "33.3") }},
		{3, func(f url.Values) { f.Set("tax_rate", "21") }},
		{0, func(f url.Values) { f.Set("unit_price", "0.01") }},
		{60, func(f url.Values) { f.Set("quantity", "1") }},
	}
	// A percent of the quote, then an amount: the amount's shares move
	// with every line's net, and with them other lines' tax.
	for _, disc := range []qwoty.QuoteDiscount{
		{Kind: qwoty.DiscountPercent, Value: decimal.RequireFromString("3.7")},
		{Kind: qwoty.DiscountAmount, Value: decimal.RequireFromString("1234.57")},
	} {
		q, err = a.db.UpdateQuote(context.Background(), scopeFor(conn, recordA), id, 0, "", func(q *qwoty.Quote) error {
			return q.SetTerms(qwoty.Terms{Title: q.Title, TaxRate: q.TaxRate, TaxMode: qwoty.TaxPerLine, Discount: &disc})
		})
		if err != nil {
			t.Fatal(err)
		}
		page, version := full(), q.Version
		for n, e := range edits {
			l := q.Lines[e.line]
			form := url.Values{"version": {fmt.Sprint(version)}, "product_id": {l.ProductID}, "sku": {l.SKU}, "description": {l.Description},
				"quantity": {l.Quantity.String()}, "unit_price": {l.UnitPrice.String()}, "discount_percent": {l.DiscountPercent.String()}, "tax_rate": {""}}
			if l.TaxRate.Valid {
				form.Set("tax_rate", l.TaxRate.Decimal.String())
			}
			e.change(form)
			// The rep opens the line's row for editing, then saves it.
			opened := a.send(http.MethodGet, base+"/lines/"+l.ID, tok, nil, true)
			if opened.status != http.StatusOK || !strings.HasPrefix(string(opened.body), `<form class="line" id="line-`+l.ID+`"`) {
				t.Fatalf("opening line %d: %d %.300s", e.line, opened.status, opened.body)
			}
			s, end := byID(t, page, "line-"+l.ID)
			page = page[:s] + string(opened.body) + page[end:]
			r := a.send(http.MethodPut, base+"/lines/"+l.ID, tok, form, true)
			if r.status != http.StatusOK {
				t.Fatalf("%s, edit %d: %d %s", disc.Kind, n, r.status, r.body)
			}
			if forms := strings.Count(string(r.body), ` class="line`); forms == len(q.Lines) {
				t.Fatalf("%s, edit %d answered every line: not a partial answer", disc.Kind, n)
			}
			page = swapped(t, page, r)
			// The full editor shows every line as a row; the card shows
			// the lines the rep opened (still open) as their forms.
			want := full()
			for _, m := range openForm.FindAllStringSubmatch(page, -1) {
				f := a.send(http.MethodGet, base+"/lines/"+m[1], tok, nil, true)
				s, end := byID(t, want, "line-"+m[1])
				want = want[:s] + string(f.body) + want[end:]
			}
			if page != want {
				i := 0
				for i < len(page) && i < len(want) && page[i] == want[i] {
					i++
				}
				t.Fatalf("%s, edit %d: the card differs from the editor rendered again, at byte %d:\ncard:  …%.300s\nfull:  …%.300s",
					disc.Kind, n, i, page[max(0, i-200):], want[max(0, i-200):])
			}
			fmt.Sscan(r.header.Get("X-Quote-Version"), &version)
			if q, err = a.db.GetQuote(context.Background(), scopeFor(conn, recordA), id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A line opened for editing is read in the quote's scope: a line of another
// quote, or no line at all, is not_found.
func TestLineOpenedForEditingIsScoped(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, _ := cardQuote(t, a)
	other, err := a.db.CreateQuote(context.Background(), scopeFor(conn, recordA), store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := qwoty.ParseLine(qwoty.LineInput{SKU: "X", Quantity: "1", UnitPrice: "1"})
	if other, err = a.db.UpdateQuote(context.Background(), scopeFor(conn, recordA), other.ID, 0, "", func(q *qwoty.Quote) error { return q.AddLine(l) }); err != nil {
		t.Fatal(err)
	}
	q, err := a.db.GetQuote(context.Background(), scopeFor(conn, recordA), strings.TrimPrefix(base, "/embed/api/quotes/"))
	if err != nil {
		t.Fatal(err)
	}
	if r := a.send(http.MethodGet, base+"/lines/"+q.Lines[0].ID, tok, nil, true); r.status != http.StatusOK || !strings.Contains(string(r.body), `id="l-`+q.Lines[0].ID+`-sku"`) {
		t.Fatalf("own line: %d %.300s", r.status, r.body)
	}
	for _, id := range []string{other.Lines[0].ID, "not-a-line"} {
		a.action(http.MethodGet, base+"/lines/"+id, tok, nil).wantError(t, http.StatusNotFound, qwoty.CodeNotFound)
	}
}
