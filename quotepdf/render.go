package quotepdf

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// The page, in millimetres: A4 portrait.
const (
	pageW    = 210.0
	pageH    = 297.0
	marginX  = 15.0
	marginT  = 14.0
	contentW = pageW - 2*marginX
	// bottom is where content stops; the footer sits below it.
	bottom  = pageH - 18.0
	footerY = pageH - 12.0
	// cellPad is the space fpdf keeps inside a cell, left and right.
	cellPad = 1.0
)

// Font sizes (points) and their line heights (millimetres).
const (
	sizeBody   = 9.0
	sizeTable  = 8.5
	sizeSmall  = 7.5
	lineBody   = 4.4
	lineTable  = 3.9
	lineSmall  = 3.4
	headerRule = 0.5
)

// Colours (RGB).
var (
	colText   = [3]int{33, 37, 41}
	colMuted  = [3]int{108, 117, 125}
	colBrand  = [3]int{31, 64, 122}
	colHeadBG = [3]int{233, 238, 245}
	colRule   = [3]int{210, 214, 220}
	colWhite  = [3]int{255, 255, 255}
)

// Render writes d as a PDF to w. It fails only when the document cannot be
// made or written: text the fonts cannot show and a logo that fails
// CheckLogo do not stop it.
func Render(w io.Writer, d Document) error {
	c, err := fontCoverage()
	if err != nil {
		return err
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCatalogSort(true)
	if !d.Created.IsZero() {
		f.SetCreationDate(d.Created)
		f.SetModificationDate(d.Created)
	}
	f.SetMargins(marginX, marginT, marginX)
	f.SetAutoPageBreak(false, 0)
	f.SetCellMargin(cellPad)
	f.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	f.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	if err := f.Error(); err != nil {
		return fmt.Errorf("quotepdf: loading the fonts: %w", err)
	}
	r := &renderer{f: f, c: c, d: &d}
	r.loadLogo(d.Logo)
	r.prepare()
	f.SetTitle(r.docTitle, true)
	f.SetAuthor(r.workspace, true)
	f.SetCreator("Qwoty", false)
	r.paint()
	if err := f.Error(); err != nil {
		return fmt.Errorf("quotepdf: rendering quote %q: %w", d.Number, err)
	}
	if err := f.Output(w); err != nil {
		return fmt.Errorf("quotepdf: writing quote %q: %w", d.Number, err)
	}
	return nil
}

// renderer lays out one document: first every block is measured (before
// the first page, so measuring writes nothing), then painted page by page.
type renderer struct {
	f *fpdf.Fpdf
	c *coverage
	d *Document

	// Cleaned texts used in more than one place.
	workspace, docTitle, ref, currency string

	logo         string // the registered image's name, "" for none
	logoW, logoH float64
	titleBlock   *block
	partyBlock   *block
	tableHead    *block
	rows         []*block
	totalsBlock  *block
	closing      []*block
	inTable      bool    // a page break repeats the table's header row
	y            float64 // where the next block starts
	contTop      float64 // where content starts on a page after the first
	atTop        bool    // nothing is painted yet below the page's header
	curStyle     string
	curSize      float64
}

// textLine is one line of text as painted: its font and colour.
type textLine struct {
	s     string
	bold  bool
	size  float64
	color [3]int
}

// cell is a column of a block: its lines, painted top down.
type cell struct {
	x, w  float64
	align string // fpdf's: "L", "R"
	lines []textLine
}

// block is a band across the page (a row of the table, a paragraph): its
// cells' lines share one line height, and a block taller than what is left
// of a page is split between its lines.
type block struct {
	cells   []cell
	lh      float64
	padTop  float64
	padBot  float64
	fill    *[3]int // background, nil for none
	rule    bool    // a hairline under it
	keep    bool    // kept whole (a row, the totals): moved to the next page when it fits there
	n       int     // lines of its tallest cell
	spaceAt float64 // space above it
}

func (b *block) height(lines int) float64 { return float64(lines)*b.lh + b.padTop + b.padBot }

func (b *block) add(c cell) {
	b.cells = append(b.cells, c)
	if len(c.lines) > b.n {
		b.n = len(c.lines)
	}
}

func (r *renderer) setFont(bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	if style != r.curStyle || size != r.curSize {
		r.f.SetFont(fontFamily, style, size)
		r.curStyle, r.curSize = style, size
	}
}

// wrap breaks s into lines of at most width w (long words are broken
// between characters); "" gives no line.
func (r *renderer) wrap(s string, w float64, bold bool, size float64, color [3]int) []textLine {
	if s == "" {
		return nil
	}
	r.setFont(bold, size)
	parts := r.f.SplitText(s, w)
	out := make([]textLine, len(parts))
	for i, p := range parts {
		out[i] = textLine{s: p, bold: bold, size: size, color: color}
	}
	return out
}

// clip is wrap kept to at most max lines, the last one ending in an
// ellipsis when text was left out: for the page headers, which must keep
// their height whatever they are given.
func (r *renderer) clip(s string, w float64, bold bool, size float64, color [3]int, max int) []textLine {
	lines := r.wrap(s, w, bold, size, color)
	if len(lines) <= max {
		return lines
	}
	lines = lines[:max]
	last := []rune(lines[max-1].s)
	for len(last) > 0 && r.f.GetStringWidth(string(last)+"…") > w-2*cellPad {
		last = last[:len(last)-1]
	}
	lines[max-1].s = string(last) + "…"
	return lines
}

func (r *renderer) money(d decimal.Decimal) string { return qwoty.FormatAmount(d, r.d.Currency) }

// date writes a day as ISO 8601 (2026-11-29): the same in every locale.
func date(t time.Time) string { return t.Format("2006-01-02") }

// prepare cleans the texts and measures every block.
func (r *renderer) prepare() {
	d, c := r.d, r.c
	r.workspace = c.line(d.Workspace)
	r.currency = c.line(d.Currency)
	number := c.line(d.Number)
	r.ref = number
	if d.Version > 0 {
		r.ref += " · version " + strconv.Itoa(d.Version)
	}
	r.docTitle = "Quote " + number
	if t := c.line(d.Title); t != "" {
		r.docTitle += " – " + t
	}

	// Continuation pages start below a one-line header.
	r.contTop = marginT + lineBody + 4

	if t := c.line(d.Title); t != "" {
		r.titleBlock = &block{lh: 5.6, padBot: 2}
		r.titleBlock.add(cell{x: marginX, w: contentW, align: "L", lines: r.wrap(t, contentW, true, 12, colText)})
	}
	r.partyBlock = r.parties()
	r.table()
	r.totals()
	r.closingText()
}

// parties is the customer on the left and the quote's facts on the right.
func (r *renderer) parties() *block {
	d, c := r.d, r.c
	b := &block{lh: lineBody, padBot: 2, spaceAt: 3}
	const leftW, labelX, labelW = 105.0, 125.0, 25.0
	const valueX = labelX + labelW
	const valueW = marginX + contentW - valueX
	var left []textLine
	left = append(left, textLine{s: "BILL TO", size: sizeSmall, color: colMuted})
	name := c.line(d.Customer.Name)
	if name == "" {
		name = "—"
	}
	left = append(left, r.wrap(name, leftW, true, sizeBody, colText)...)
	for _, a := range d.Customer.Address {
		left = append(left, r.wrap(c.line(a), leftW, false, sizeBody, colText)...)
	}
	left = append(left, r.wrap(c.line(d.Customer.Email), leftW, false, sizeBody, colText)...)
	b.add(cell{x: marginX, w: leftW, align: "L", lines: left})

	var labels, values []textLine
	fact := func(label, value string) {
		if value == "" {
			return
		}
		v := r.wrap(value, valueW, label == "Valid until", sizeBody, colText)
		labels = append(labels, textLine{s: label, size: sizeBody, color: colMuted})
		for range len(v) - 1 {
			labels = append(labels, textLine{size: sizeBody})
		}
		values = append(values, v...)
	}
	fact("Quote", c.line(d.Number))
	if d.Version > 0 {
		fact("Version", strconv.Itoa(d.Version))
	}
	fact("Status", c.line(d.Status.Label()))
	if !d.Created.IsZero() {
		fact("Date", date(d.Created))
	}
	if !d.ValidUntil.IsZero() {
		fact("Valid until", date(d.ValidUntil))
	}
	fact("Currency", r.currency)
	b.add(cell{x: labelX, w: labelW, align: "L", lines: labels})
	b.add(cell{x: valueX, w: valueW, align: "L", lines: values})
	return b
}

// The table's columns: x and width, left to right, ending at the margin.
var tableCols = []struct {
	w     float64
	align string
}{
	{24, "L"}, // SKU
	{66, "L"}, // item: name and description
	{16, "R"}, // quantity
	{28, "R"}, // unit price
	{18, "R"}, // discount
	{28, "R"}, // amount
}

// table measures the header row and one block per line.
func (r *renderer) table() {
	xs := make([]float64, len(tableCols))
	x := marginX
	for i, col := range tableCols {
		xs[i] = x
		x += col.w
	}
	head := []string{"SKU", "Item", "Qty", "Unit price (" + r.currency + ")", "Discount", "Amount (" + r.currency + ")"}
	r.tableHead = &block{lh: lineTable, padTop: 1.5, padBot: 1.5, fill: &colHeadBG, spaceAt: 5}
	for i, h := range head {
		r.tableHead.add(cell{x: xs[i], w: tableCols[i].w, align: tableCols[i].align,
			lines: r.clip(h, tableCols[i].w, true, sizeSmall, colText, 3)})
	}
	if len(r.d.Lines) == 0 {
		b := &block{lh: lineTable, padTop: 2, padBot: 2, rule: true}
		b.add(cell{x: marginX, w: contentW, align: "L", lines: []textLine{{s: "This quote has no lines.", size: sizeTable, color: colMuted}}})
		r.rows = append(r.rows, b)
		return
	}
	r.rows = make([]*block, 0, len(r.d.Lines))
	c := r.c
	// Regular text first, then bold, so that measuring switches fonts
	// twice a line rather than once a cell.
	for _, l := range r.d.Lines {
		b := &block{lh: lineTable, padTop: 1.3, padBot: 1.3, rule: true, keep: true}
		discount := ""
		switch {
		case !l.DiscountPercent.IsZero():
			discount = l.DiscountPercent.String() + "%"
		case !l.DiscountAmount.IsZero():
			discount = r.money(l.DiscountAmount)
		}
		cells := []string{c.line(l.SKU), "", l.Quantity.String(), qwoty.InputAmount(l.UnitPrice, r.d.Currency), discount, r.money(l.Amount)}
		desc := r.wrap(c.text(l.Description), tableCols[1].w, false, sizeTable, colMuted)
		lines := make([][]textLine, len(cells))
		for i, s := range cells {
			lines[i] = r.wrap(s, tableCols[i].w, false, sizeTable, colText)
		}
		lines[1] = append(r.wrap(c.line(l.Name), tableCols[1].w, true, sizeTable, colText), desc...)
		for i := range cells {
			b.add(cell{x: xs[i], w: tableCols[i].w, align: tableCols[i].align, lines: lines[i]})
		}
		r.rows = append(r.rows, b)
	}
}

// totals is the block of amounts under the table, right-aligned.
func (r *renderer) totals() {
	t := r.d.Totals
	const labelW, amountW = 45.0, 45.0
	labelX := marginX + contentW - labelW - amountW
	b := &block{lh: lineBody + 0.6, padTop: 1, padBot: 1, keep: true, spaceAt: 3}
	var labels, amounts []textLine
	row := func(label, amount string, bold bool) {
		l := r.wrap(label, labelW, bold, sizeBody, colText)
		a := r.wrap(r.currency+" "+amount, amountW, bold, sizeBody, colText)
		for len(l) < len(a) {
			l = append(l, textLine{size: sizeBody})
		}
		for len(a) < len(l) {
			a = append(a, textLine{size: sizeBody})
		}
		labels, amounts = append(labels, l...), append(amounts, a...)
	}
	row("Subtotal", r.money(t.Subtotal), false)
	discount := r.money(t.Discount.Neg())
	if t.Discount.IsZero() {
		discount = r.money(t.Discount)
	}
	row("Discount", discount, false)
	if !t.QuoteDiscount.IsZero() {
		row("Quote discount", r.money(t.QuoteDiscount.Neg()), false)
	}
	if t.TaxPerLine {
		row("Tax (per line)", r.money(t.Tax), false)
	} else {
		row("Tax ("+t.TaxRate.String()+"%)", r.money(t.Tax), false)
	}
	row("Total", r.money(t.Total), true)
	b.add(cell{x: labelX, w: labelW, align: "L", lines: labels})
	b.add(cell{x: labelX + labelW, w: amountW, align: "R", lines: amounts})
	r.totalsBlock = b
}

// closingText is what follows the totals: validity, rounding policy, terms.
func (r *renderer) closingText() {
	d, c := r.d, r.c
	para := func(lh, space float64, lines []textLine) {
		if len(lines) == 0 {
			return
		}
		b := &block{lh: lh, spaceAt: space}
		b.add(cell{x: marginX, w: contentW, align: "L", lines: lines})
		r.closing = append(r.closing, b)
	}
	if !d.ValidUntil.IsZero() {
		para(lineBody, 6, r.wrap("This quote is valid until "+date(d.ValidUntil)+".", contentW, true, sizeBody, colText))
	}
	para(lineSmall, 2, r.wrap(c.line(d.RoundingPolicy), contentW, false, sizeSmall, colMuted))
	if terms := c.text(d.Terms); terms != "" {
		// The heading is the block's first line, so that it never stands
		// alone at the foot of a page.
		heading := textLine{s: "Terms", bold: true, size: 10, color: colBrand}
		para(lineBody+0.4, 6, append([]textLine{heading}, r.wrap(terms, contentW, false, sizeBody, colText)...))
	}
}

// loadLogo registers the logo with fpdf; a logo that fails CheckLogo, or
// that fpdf cannot read after all, is left out.
func (r *renderer) loadLogo(b []byte) {
	if len(b) == 0 {
		return
	}
	data, kind, size, err := readLogo(b)
	if err != nil {
		return
	}
	f := r.f
	f.RegisterImageOptionsReader("logo", fpdf.ImageOptions{ImageType: kind}, bytes.NewReader(data))
	if f.Err() {
		f.ClearError()
		return
	}
	r.logo = "logo"
	// Fit in 45 × 18 mm, keeping the proportions.
	const maxW, maxH = 45.0, 18.0
	w, h := maxW, maxW*float64(size.Y)/float64(size.X)
	if h > maxH {
		w, h = maxH*float64(size.X)/float64(size.Y), maxH
	}
	r.logoW, r.logoH = w, h
}
