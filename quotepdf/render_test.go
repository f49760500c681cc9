package quotepdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

const greekWord = "Ελληνικά"

// sampleQuote is a quote of n lines priced by the money engine, as the
// server holds it.
func sampleQuote(n int) qwoty.Quote {
	q := qwoty.Quote{
		Number: "Q-00042", Title: "Office fit-out " + greekWord, Status: qwoty.StatusSent,
		Currency: "EUR", TaxRate: decimal.RequireFromString("20"), Version: 3,
		CustomerName: "ООО Ромашка",
		CreatedAt:    time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
	}
	for i := 1; i <= n; i++ {
		q.Lines = append(q.Lines, qwoty.LineItem{
			SKU:             fmt.Sprintf("SKU-%04d", i),
			Description:     fmt.Sprintf("Item %d", i),
			Quantity:        decimal.NewFromInt(int64(i%7 + 1)),
			UnitPrice:       decimal.RequireFromString("19.99").Add(decimal.NewFromInt(int64(i))),
			DiscountPercent: decimal.NewFromInt(int64(i % 3 * 5)),
		})
	}
	q.Totals = qwoty.ComputeTotals(q.Lines, q.TaxRate, q.Currency)
	return q
}

// documentOf maps a quote to the PDF's model the way the server does.
func documentOf(q qwoty.Quote) Document {
	d := Document{
		Workspace: "Acme Supplies GmbH",
		Number:    q.Number, Title: q.Title, Version: q.Version, Status: q.Status,
		Created: q.CreatedAt, ValidUntil: q.CreatedAt.AddDate(0, 0, 30),
		Customer:       Customer{Name: q.CustomerName, Address: []string{"ул. Ленина, 1", "Москва 101000"}, Email: "buyer@romashka.example"},
		Currency:       q.Currency,
		Totals:         TotalsOf(&q),
		RoundingPolicy: "Amounts are rounded half away from zero per line.",
		Terms:          "Payment within 30 days of invoice.\nDelivery ex works.",
	}
	for i, l := range q.Lines {
		d.Lines = append(d.Lines, Line{
			SKU: l.SKU, Name: fmt.Sprintf("Product %d", i+1), Description: l.Description,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent,
			DiscountAmount: l.Discount, Amount: l.Net,
		})
	}
	return d
}

func render(t testing.TB, d Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, d); err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("Render wrote %q…, want a PDF", buf.Bytes()[:min(buf.Len(), 16)])
	}
	return buf.Bytes()
}

// poppler runs one of poppler-utils' tools (pdftotext, pdfimages) on pdf.
// Without the tool the test is skipped, unless QWOTY_REQUIRE_PDFTOTEXT=1
// (make test sets it), when it fails.
func poppler(t *testing.T, pdf []byte, tool string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		msg := tool + " is not installed: install Debian's poppler-utils (apt-get install poppler-utils), or run make test, which does"
		if os.Getenv("QWOTY_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	in := t.TempDir() + "/quote.pdf"
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, in)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, args, err, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Fatalf("%s complained about the PDF: %s", tool, errOut.String())
	}
	return out.String()
}

// pages is the PDF's text, page by page, with the layout kept (a row of
// the table on one line of text).
func pages(t *testing.T, pdf []byte) []string {
	t.Helper()
	text := poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8")
	p := strings.Split(text, "\f")
	if len(p) > 0 && strings.TrimSpace(p[len(p)-1]) == "" {
		p = p[:len(p)-1]
	}
	return p
}

// words makes a regular expression of words separated by any run of space.
func words(ws ...string) *regexp.Regexp {
	for i, w := range ws {
		ws[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(ws, `\s+`))
}

func TestRenderShowsTheQuote(t *testing.T) {
	q := sampleQuote(3)
	d := documentOf(q)
	p := pages(t, render(t, d))
	if len(p) != 1 {
		t.Fatalf("a 3-line quote has %d pages, want 1", len(p))
	}
	text := p[0]
	for i, l := range q.Lines {
		row := []string{l.SKU, "Product", fmt.Sprint(i + 1), l.Quantity.String(), qwoty.FormatAmount(l.UnitPrice, "EUR")}
		if !l.DiscountPercent.IsZero() {
			row = append(row, l.DiscountPercent.String()+"%")
		}
		want := words(append(row, qwoty.FormatAmount(l.Net, "EUR"))...)
		if !want.MatchString(text) {
			t.Errorf("no row %q in the text:\n%s", want, text)
		}
		if !strings.Contains(text, l.Description) {
			t.Errorf("line %s's description %q missing", l.SKU, l.Description)
		}
	}
	tt := q.Totals
	for _, want := range []*regexp.Regexp{
		words("Subtotal", "EUR", qwoty.FormatAmount(tt.Subtotal, "EUR")),
		words("Discount", "EUR", qwoty.FormatAmount(tt.Discount.Neg(), "EUR")),
		words("Tax", "(20%)", "EUR", qwoty.FormatAmount(tt.Tax, "EUR")),
		words("Total", "EUR", qwoty.FormatAmount(tt.Total, "EUR")),
		words("ООО", "Ромашка"), words("ул.", "Ленина,", "1"), words("Office", "fit-out", greekWord),
		words("Acme", "Supplies", "GmbH"), words("QUOTE"), words("Q-00042", "·", "version", "3"),
		words("Status", "Sent"), words("Date", "2026-11-29"), words("Valid", "until", "2026-12-29"),
		words("This", "quote", "is", "valid", "until", "2026-12-29."),
		words("Amounts", "are", "rounded", "half", "away", "from", "zero", "per", "line."),
		words("Terms"), words("Payment", "within", "30", "days", "of", "invoice."), words("Delivery", "ex", "works."),
		words("SKU", "Item", "Qty", "Unit", "price", "(EUR)", "Discount", "Amount", "(EUR)"),
		words("Page", "1", "of", "1"),
	} {
		if !want.MatchString(text) {
			t.Errorf("no %q in the text:\n%s", want, text)
		}
	}
	if strings.ContainsRune(text, replacement) {
		t.Errorf("the text has a replacement character, want every character shown:\n%s", text)
	}
}

// rowRE finds the table's rows by their SKU.
var rowRE = regexp.MustCompile(`SKU-\d{4}`)

func TestRenderBreaksTheTableAcrossPages(t *testing.T) {
	const n = 150
	q := sampleQuote(n)
	d := documentOf(q)
	for i := range d.Lines {
		// Rows of five lines, which could be cut at a page's foot.
		d.Lines[i].Description = fmt.Sprintf("Item %d\nmade of parts\nassembled\nend of row %d.", i+1, i+1)
	}
	p := pages(t, render(t, d))
	if len(p) < 3 {
		t.Fatalf("a %d-line quote has %d pages, want at least 3", n, len(p))
	}
	head := words("SKU", "Item", "Qty", "Unit", "price", "(EUR)", "Discount", "Amount", "(EUR)")
	var skus []string
	for i, page := range p {
		if want := words("Page", fmt.Sprint(i+1), "of", fmt.Sprint(len(p))); !want.MatchString(page) {
			t.Errorf("page %d has no %q", i+1, want)
		}
		rows := rowRE.FindAllString(page, -1)
		if len(rows) > 0 {
			if !head.MatchString(page) {
				t.Errorf("page %d has %d rows but no header row", i+1, len(rows))
			}
			first := rowRE.FindStringIndex(page)
			if h := head.FindStringIndex(page); h != nil && h[0] > first[0] {
				t.Errorf("page %d: the header row comes after the first row", i+1)
			}
		}
		for _, sku := range rows {
			if end := fmt.Sprintf("end of row %s.", strings.TrimLeft(sku[4:], "0")); !strings.Contains(page, end) {
				t.Errorf("page %d: row %s is cut, its %q is not on the page", i+1, sku, end)
			}
		}
		if i > 0 && !words("Acme", "Supplies", "GmbH", "Q-00042", "·", "version", "3").MatchString(page) {
			t.Errorf("page %d has no running header", i+1)
		}
		skus = append(skus, rows...)
	}
	if len(skus) != n {
		t.Fatalf("the pages hold %d rows, want %d", len(skus), n)
	}
	for i, s := range skus {
		if want := fmt.Sprintf("SKU-%04d", i+1); s != want {
			t.Fatalf("row %d is %s, want %s (each line once, in order)", i+1, s, want)
		}
	}
	all := strings.Join(p, "\f")
	total := words("Total", "EUR", qwoty.FormatAmount(q.Totals.Total, "EUR")).FindStringIndex(all)
	if total == nil || total[0] < strings.Index(all, fmt.Sprintf("SKU-%04d", n)) {
		t.Errorf("no total after the last row:\n%s", all)
	}
}

func TestRender2000Lines(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 lines: not in -short")
	}
	const n = 2000
	q := sampleQuote(n)
	p := pages(t, render(t, documentOf(q)))
	text := strings.Join(p, "\n")
	if got := len(rowRE.FindAllString(text, -1)); got != n {
		t.Fatalf("the PDF holds %d rows, want %d", got, n)
	}
	if want := words("Page", fmt.Sprint(len(p)), "of", fmt.Sprint(len(p))); !want.MatchString(p[len(p)-1]) {
		t.Errorf("the last page has no %q", want)
	}
	if !words("Total", "EUR", qwoty.FormatAmount(q.Totals.Total, "EUR")).MatchString(text) {
		t.Errorf("no total")
	}
}

// logoPNG is a w×h PNG of two colours.
func logoPNG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{31, 64, 122, 255}
			if x > w/2 {
				c = color.RGBA{240, 160, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imagesRE reads a row of pdfimages -list: page, number, type, width, height.
var imagesRE = regexp.MustCompile(`(?m)^\s*(\d+)\s+\d+\s+(\w+)\s+(\d+)\s+(\d+)\s`)

// encodeLogo writes img as PNG, or JPEG when jpg.
func encodeLogo(t testing.TB, img image.Image, jpg bool) []byte {
	var buf bytes.Buffer
	var err error
	if jpg {
		err = jpeg.Encode(&buf, img, nil)
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderShowsTheLogo(t *testing.T) {
	// A 16-bit PNG with transparency, which fpdf cannot read as it is.
	deep := image.NewNRGBA64(image.Rect(0, 0, 100, 50))
	for y := range 50 {
		for x := range 100 {
			deep.Set(x, y, color.NRGBA64{R: 0x1f1f, G: 0x4040, B: 0x7a7a, A: uint16(x * 650)})
		}
	}
	paletted := image.NewPaletted(image.Rect(0, 0, 60, 20), color.Palette{color.White, color.RGBA{31, 64, 122, 255}})
	paletted.SetColorIndex(5, 5, 1)
	for _, tc := range []struct {
		name string
		logo []byte
		want string // pdfimages' page, type and size of each image
	}{
		{"png", logoPNG(t, 240, 80), "page 1 image 240x80"},
		{"16-bit png with alpha", encodeLogo(t, deep, false), "page 1 image 100x50, page 1 smask 100x50"},
		{"paletted png", encodeLogo(t, paletted, false), "page 1 image 60x20"},
		{"jpeg", encodeLogo(t, deep, true), "page 1 image 100x50"},
		{"gif", []byte("GIF89a not a logo we take"), ""},
		{"truncated png", logoPNG(t, 240, 80)[:100], ""},
	} {
		d := documentOf(sampleQuote(2))
		d.Logo = tc.logo
		list := poppler(t, render(t, d), "pdfimages", "-list")
		var got []string
		for _, m := range imagesRE.FindAllStringSubmatch(list, -1) {
			got = append(got, fmt.Sprintf("page %s %s %sx%s", m[1], m[2], m[3], m[4]))
		}
		if g := strings.Join(got, ", "); g != tc.want {
			t.Errorf("%s: images %q, want %q:\n%s", tc.name, g, tc.want, list)
		}
	}
}

func TestCheckLogo(t *testing.T) {
	good := logoPNG(t, 64, 32)
	for _, tc := range []struct {
		name string
		logo []byte
		ok   bool
	}{
		{"png", good, true},
		{"truncated png", good[:len(good)/2], false},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), false},
		{"empty", nil, false},
		{"too many pixels", logoPNG(t, MaxLogoSide+1, 2), false},
		{"too many bytes", append(append([]byte{}, good...), make([]byte, MaxLogoBytes)...), false},
	} {
		err := CheckLogo(tc.logo)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckLogo = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestCleanShowsWhatTheFontsCanAndReplacesTheRest(t *testing.T) {
	c, err := fontCoverage()
	if err != nil {
		t.Fatal(err)
	}
	if c.fallback != replacement {
		t.Fatalf("fallback %q, want U+FFFD (DejaVu Sans has it)", c.fallback)
	}
	for _, tc := range []struct{ in, line, text string }{
		{"ООО Ромашка", "ООО Ромашка", "ООО Ромашка"},
		{greekWord + " Ünïcödé", greekWord + " Ünïcödé", greekWord + " Ünïcödé"},
		{"漢字 🙂", "\uFFFD\uFFFD \uFFFD", "\uFFFD\uFFFD \uFFFD"},
		{"bad \xff byte", "bad \uFFFD byte", "bad \uFFFD byte"},
		{"a\tb\r\nc\rd\x00e", "a b  c d e", "a b\nc\nd e"},
	} {
		if got := c.line(tc.in); got != tc.line {
			t.Errorf("line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := c.text(tc.in); got != tc.text {
			t.Errorf("text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

func TestRenderSurvivesHostileInput(t *testing.T) {
	long := strings.Repeat("Ж", 6000) // one word far wider than any column
	var terms strings.Builder
	for i := 1; terms.Len() < 10_000; i++ {
		fmt.Fprintf(&terms, "clause%04d ", i)
	}
	d := documentOf(sampleQuote(3))
	d.Workspace = long
	d.Title = long
	d.Number = "Q-" + long
	d.Customer.Name = long
	d.Customer.Address = append(d.Customer.Address, "漢字 🙂 \xff\x00")
	d.Lines[0].SKU = long
	d.Lines[0].Name = long
	d.Lines[1].Description = strings.Repeat("a very long description ", 2000) // taller than a page
	d.Terms = terms.String()
	d.Currency = "E\u202eUR"

	p := pages(t, render(t, d))
	text := strings.Join(p, "\n")
	for i := 1; ; i++ {
		w := fmt.Sprintf("clause%04d", i)
		if !strings.Contains(terms.String(), w) {
			break
		}
		if !strings.Contains(text, w) {
			t.Fatalf("the terms' %s is missing", w)
		}
	}
	if got := strings.Count(text, "description"); got != 2000 {
		t.Errorf("the description that spans pages shows %d of its 2000 sentences", got)
	}
	if !strings.ContainsRune(text, replacement) {
		t.Errorf("characters the fonts lack show no replacement character")
	}
	for i, page := range p {
		if want := words("Page", fmt.Sprint(i+1), "of", fmt.Sprint(len(p))); !want.MatchString(page) {
			t.Errorf("page %d has no %q", i+1, want)
		}
	}

	// No lines at all.
	d = documentOf(sampleQuote(0))
	text = strings.Join(pages(t, render(t, d)), "\n")
	if !strings.Contains(text, "This quote has no lines.") {
		t.Errorf("an empty quote does not say it has no lines:\n%s", text)
	}
	if !words("Total", "EUR", "0.00").MatchString(text) {
		t.Errorf("an empty quote shows no zero total:\n%s", text)
	}

	// The zero Document.
	render(t, Document{})
}

func TestRenderIsReproducible(t *testing.T) {
	d := documentOf(sampleQuote(40))
	d.Logo = logoPNG(t, 120, 40)
	a, b := render(t, d), render(t, d)
	if !bytes.Equal(a, b) {
		t.Fatalf("two renders of one version differ (%d and %d bytes)", len(a), len(b))
	}
}

func TestRenderEmbedsItsFontsOnA4(t *testing.T) {
	pdf := render(t, documentOf(sampleQuote(3)))
	fonts := poppler(t, pdf, "pdffonts")
	rows := regexp.MustCompile(`(?m)^(\S+)\s+CID TrueType\s+Identity-H\s+(yes|no)\s+(?:yes|no)\s+(yes|no)\s`).FindAllStringSubmatch(fonts, -1)
	if len(rows) != 2 {
		t.Fatalf("fonts %q, want the regular and the bold DejaVu Sans:\n%s", rows, fonts)
	}
	for _, r := range rows {
		if !strings.Contains(strings.ToLower(r[1]), "dejavusans") || r[2] != "yes" || r[3] != "yes" {
			t.Errorf("font %s: embedded %s, Unicode map %s; want DejaVu Sans, embedded, mapped", r[1], r[2], r[3])
		}
	}
	info := poppler(t, pdf, "pdfinfo")
	for _, want := range []*regexp.Regexp{words("Page", "size:", "595.28", "x", "841.89", "pts", "(A4)"),
		words("Title:", "Quote", "Q-00042", "–", "Office", "fit-out", greekWord), words("Pages:", "1")} {
		if !want.MatchString(info) {
			t.Errorf("no %q in pdfinfo:\n%s", want, info)
		}
	}
}

// The server renders many quotes at once: the embedded fonts are shared.
func TestRenderConcurrently(t *testing.T) {
	d := documentOf(sampleQuote(30))
	want := render(t, d)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var buf bytes.Buffer
			err := Render(&buf, d)
			if err == nil && !bytes.Equal(buf.Bytes(), want) {
				err = fmt.Errorf("a concurrent render differs from a lone one")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A quote-level discount has its own row; a quote taxed per line names no
// single rate. The figures are the engine's.
func TestRenderShowsQuoteDiscountAndLineTax(t *testing.T) {
	q := sampleQuote(3)
	q.TaxMode = qwoty.TaxPerLine
	q.Discount = qwoty.QuoteDiscount{Kind: qwoty.DiscountAmount, Value: decimal.RequireFromString("10")}
	q.Lines[0].TaxRate = decimal.NewNullDecimal(decimal.RequireFromString("7"))
	q.Reprice()
	d := documentOf(q)
	d.RoundingPolicy = q.Rounding.Label() + "."
	text := strings.Join(pages(t, render(t, d)), "\n")
	for _, re := range []*regexp.Regexp{
		words("Quote discount", "EUR", "-10.00"),
		words("Tax (per line)", "EUR", q.Totals.Tax.StringFixed(2)),
		words("Total", "EUR", q.Totals.Total.StringFixed(2)),
		words("Rounded half up, on each line."),
	} {
		if !re.MatchString(text) {
			t.Errorf("the PDF does not show %s:\n%s", re, text)
		}
	}
}
