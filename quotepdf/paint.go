package quotepdf

import (
	"fmt"
	"math"

	"github.com/go-pdf/fpdf"
)

// paint draws the measured blocks page by page, then the footers.
func (r *renderer) paint() {
	r.firstPage()
	if r.titleBlock != nil {
		r.draw(r.titleBlock)
	}
	r.draw(r.partyBlock)

	// The header row goes to the next page rather than stand alone at the
	// foot of this one.
	head := r.tableHead
	r.y += head.spaceAt
	if r.y+head.height(head.n)+r.rows[0].height(1) > bottom {
		r.inTable = true
		r.newPage()
	} else {
		r.paintLines(head, 0, head.n)
		r.inTable = true
	}
	for _, b := range r.rows {
		r.draw(b)
	}
	r.inTable = false

	r.draw(r.totalsBlock)
	for _, b := range r.closing {
		r.draw(b)
	}
	r.footers()
}

// firstPage starts the document with the branded header: the logo and the
// workspace's name on the left, "Quote" and its reference on the right.
func (r *renderer) firstPage() {
	f := r.f
	f.AddPage()
	f.SetFillColor(colWhite[0], colWhite[1], colWhite[2])
	top := marginT
	nameX := marginX
	if r.logo != "" {
		f.ImageOptions(r.logo, marginX, top, r.logoW, r.logoH, false, fpdf.ImageOptions{}, 0, "")
		nameX += r.logoW + 4
	}
	const nameLH, rightX = 6.2, 130.0
	name := r.clip(r.workspace, rightX-2-nameX, true, 14, colBrand, 2)
	nameH := float64(len(name)) * nameLH
	nameY := top + math.Max(0, (r.logoH-nameH)/2)
	for i, l := range name {
		r.text(nameX, nameY+float64(i)*nameLH, rightX-2-nameX, nameLH, "L", l)
	}
	rightW := marginX + contentW - rightX
	r.text(rightX, top, rightW, 8, "R", textLine{s: "QUOTE", bold: true, size: 18, color: colBrand})
	ref := r.clip(r.ref, rightW, false, sizeBody, colMuted, 2)
	for i, l := range ref {
		r.text(rightX, top+8+float64(i)*lineBody, rightW, lineBody, "R", l)
	}
	h := math.Max(r.logoH, math.Max(nameY-top+nameH, 8+float64(len(ref))*lineBody))
	ruleY := top + h + 3
	r.rule(ruleY, headerRule, colBrand)
	r.y = ruleY + 5
	r.atTop = true
}

// newPage starts a page after the first: a one-line header (workspace and
// quote), then the table's header row while the table runs.
func (r *renderer) newPage() {
	f := r.f
	f.AddPage()
	ws := r.clip(r.workspace, 100, true, sizeBody, colBrand, 1)
	if len(ws) > 0 {
		r.text(marginX, marginT, 100, lineBody, "L", ws[0])
	}
	refW := contentW - 100
	if ref := r.clip(r.ref, refW, false, sizeBody, colMuted, 1); len(ref) > 0 {
		r.text(marginX+100, marginT, refW, lineBody, "R", ref[0])
	}
	r.rule(marginT+lineBody+1.5, 0.3, colBrand)
	r.y = r.contTop
	if r.inTable {
		r.paintLines(r.tableHead, 0, r.tableHead.n)
	}
	r.atTop = true
}

// draw places a block where the page has room for it. A block that keeps
// together (a row of the table, the totals) and fits on an empty page goes
// whole to the next page; any other is split between its lines.
func (r *renderer) draw(b *block) {
	if !r.atTop {
		r.y += b.spaceAt
	}
	h := b.height(b.n)
	if r.y+h <= bottom {
		r.paintLines(b, 0, b.n)
		return
	}
	top := r.contTop
	if r.inTable {
		top += r.tableHead.height(r.tableHead.n)
	}
	if b.keep && h <= bottom-top {
		r.newPage()
		r.paintLines(b, 0, b.n)
		return
	}
	for start := 0; start < b.n; {
		k := int((bottom - r.y - b.padTop - b.padBot) / b.lh)
		// A block split at all leaves at least two lines behind (one
		// line alone at the foot of a page reads as lost).
		if start == 0 && k < min(2, b.n) && !r.atTop {
			r.newPage()
			continue
		}
		if k < 1 {
			if !r.atTop {
				r.newPage()
				continue
			}
			k = 1 // a page that cannot hold one line: never loop
		}
		end := min(start+k, b.n)
		r.paintLines(b, start, end)
		start = end
		if start < b.n {
			r.newPage()
		}
	}
}

// paintLines paints lines [from, to) of a block's cells at r.y.
func (r *renderer) paintLines(b *block, from, to int) {
	f := r.f
	h := b.height(to - from)
	if b.fill != nil {
		f.SetFillColor(b.fill[0], b.fill[1], b.fill[2])
		f.Rect(marginX, r.y, contentW, h, "F")
	}
	for _, c := range b.cells {
		for i := from; i < to && i < len(c.lines); i++ {
			if l := c.lines[i]; l.s != "" {
				r.text(c.x, r.y+b.padTop+float64(i-from)*b.lh, c.w, b.lh, c.align, l)
			}
		}
	}
	if b.rule {
		r.rule(r.y+h, 0.15, colRule)
	}
	r.y += h
	r.atTop = false
}

// text writes one line in a cell of width w, its box lh high at y.
func (r *renderer) text(x, y, w, lh float64, align string, l textLine) {
	f := r.f
	r.setFont(l.bold, l.size)
	f.SetTextColor(l.color[0], l.color[1], l.color[2])
	f.SetXY(x, y)
	f.CellFormat(w, lh, l.s, "", 0, align+"M", false, 0, "")
}

// rule draws a line across the content width.
func (r *renderer) rule(y, width float64, color [3]int) {
	f := r.f
	f.SetDrawColor(color[0], color[1], color[2])
	f.SetLineWidth(width)
	f.Line(marginX, y, marginX+contentW, y)
}

// footers writes "Page n of m" and the quote's reference on every page,
// once the page count is known.
func (r *renderer) footers() {
	f := r.f
	m := f.PageCount()
	const refW = 120.0
	ref := r.clip(r.ref, refW, false, sizeSmall, colMuted, 1)
	for n := 1; n <= m; n++ {
		f.SetPage(n)
		// Going back to a page does not bring back its font: set one
		// that differs, then the one wanted, so both are written there.
		f.SetFont(fontFamily, "B", sizeSmall)
		f.SetFont(fontFamily, "", sizeSmall)
		r.curStyle, r.curSize = "", sizeSmall
		r.rule(footerY-2, 0.15, colRule)
		if len(ref) > 0 {
			r.text(marginX, footerY, refW, lineSmall, "L", ref[0])
		}
		r.text(marginX+refW, footerY, contentW-refW, lineSmall, "R",
			textLine{s: fmt.Sprintf("Page %d of %d", n, m), size: sizeSmall, color: colMuted})
	}
	f.SetPage(m)
}
