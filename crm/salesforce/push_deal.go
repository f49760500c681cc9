package salesforce

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// dealCtx is what a deal's write needs beyond the deal: its opportunity as
// read, the price book and currency its lines go in, the quotes it mirrors.
type dealCtx struct {
	opp *opp
	// pricebook is the opportunity's price book, or the standard one when
	// it has none (then set on it when Qwoty adds products).
	pricebook    string
	setPricebook bool
	// currency is the lines' currency: the opportunity's, changed to the
	// quote's when it has no products.
	currency    string
	setCurrency bool
	// primary is the live primary quote, nil when there is none.
	primary *crm.QuoteState
	// quotes are the quotes mirrored as Salesforce quotes (none without
	// Quotes).
	quotes []*crm.QuoteState
	// handMade counts the products people added to the opportunity.
	handMade int
	warnings []string
	// fields are the mapped fields written with the opportunity
	// (push_fields.go), as JSON values.
	fields map[string]any
}

// owned says whether a line's ref is one Qwoty wrote.
func owned(ref string) bool { return strings.HasPrefix(ref, "qwoty:"+crm.RefLine+":") }

// prepare checks a deal against its opportunity as read.
func (p *push) prepare(i int) (*dealCtx, error) {
	d := p.deals[i]
	o := p.state.opps[p.ids[i]]
	if o == nil {
		return nil, crm.Rejected(fmt.Errorf("the opportunity %s is not in Salesforce: it was deleted, or the user who connected Qwoty cannot see it", p.ids[i]))
	}
	dc := &dealCtx{opp: o, pricebook: o.pricebook, currency: p.facts.currency}
	if dc.pricebook == "" {
		dc.pricebook = p.facts.std
	}
	if p.facts.multi && o.currency != "" {
		dc.currency = o.currency
	}
	if d.Primary != nil && !d.Primary.Deleted {
		dc.primary = d.Primary
	}
	for _, l := range p.state.lines[o.id] {
		if !owned(l.ref) {
			dc.handMade++
		}
	}
	if dc.primary != nil && dc.primary.Currency != "" && !strings.EqualFold(dc.primary.Currency, dc.currency) {
		want := strings.ToUpper(dc.primary.Currency)
		switch {
		case !p.facts.multi:
			return nil, crm.Rejected(fmt.Errorf("the quote is in %s, and the org keeps every amount in %s (it has one currency)", want, dc.currency))
		case dc.handMade > 0:
			return nil, crm.Rejected(fmt.Errorf("the quote is in %s and the opportunity in %s: Salesforce changes an opportunity's currency "+
				"only while it has no products, and people added products to it in Salesforce", want, dc.currency))
		}
		// Qwoty's own products of the old currency go first (the write
		// deletes them before it updates the opportunity).
		dc.currency, dc.setCurrency = want, true
	}
	dc.setPricebook = o.pricebook == "" && dc.primary != nil && len(dc.primary.Lines) > 0
	if p.facts.quotes {
		for qi := range d.Quotes {
			q := &d.Quotes[qi]
			if !q.Deleted && q.Currency != "" && !strings.EqualFold(q.Currency, dc.currency) {
				dc.warnings = append(dc.warnings, fmt.Sprintf("quote %s is in %s and the opportunity in %s: Salesforce keeps an opportunity's "+
					"quotes in its currency, so this one is not mirrored", q.Number, strings.ToUpper(q.Currency), dc.currency))
				continue
			}
			dc.quotes = append(dc.quotes, q)
		}
	}
	return dc, nil
}

// quotePricebook is the price book of a mirrored quote's lines: the
// quote's own when it has one, else the opportunity's.
func (p *push) quotePricebook(dc *dealCtx, q *crm.QuoteState) string {
	if ex, ok := p.state.quotes[q.Ref]; ok && ex.pricebook != "" {
		return ex.pricebook
	}
	return dc.pricebook
}

// writesLines says whether a mirrored quote's lines are written: a live
// quote's always; a deleted one's while its mirror is in Salesforce (kept,
// marked, with the quote's last lines) and in the opportunity's currency
// (Salesforce keeps a quote in its opportunity's: the lines of a quote in
// another are not written, as for a live one).
func (p *push) writesLines(dc *dealCtx, q *crm.QuoteState) bool {
	if !q.Deleted {
		return true
	}
	_, mirrored := p.state.quotes[q.Ref]
	return mirrored && (q.Currency == "" || strings.EqualFold(q.Currency, dc.currency))
}

// keys are the price book entries a deal's lines use.
func (dc *dealCtx) keys(p *push) []entryKey {
	var out []entryKey
	if dc.primary != nil {
		for _, l := range dc.primary.Lines {
			out = append(out, entryKey{dc.pricebook, dc.currency, lineProduct(l)})
		}
	}
	for _, q := range dc.quotes {
		if !p.writesLines(dc, q) {
			continue
		}
		pb := p.quotePricebook(dc, q)
		for _, l := range q.Lines {
			out = append(out, entryKey{pb, dc.currency, lineProduct(l)})
		}
	}
	return out
}

// hashOf is the hash of what a record was written with (crm.RefLink.Hash).
func hashOf(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return hex.EncodeToString(sum[:16])
}

// quoteStatuses maps Qwoty's statuses to the values of Salesforce's
// standard Quote Status picklist. An expired quote stays Presented: the
// picklist has no expiry, and Denied would say the customer refused it.
var quoteStatuses = map[qwoty.Status]string{
	qwoty.StatusDraft:    "Draft",
	qwoty.StatusSent:     "Presented",
	qwoty.StatusViewed:   "Presented",
	qwoty.StatusAccepted: "Accepted",
	qwoty.StatusRejected: "Denied",
	qwoty.StatusExpired:  "Presented",
}

// quoteName is a mirrored quote's Name: its number and title.
func quoteName(q *crm.QuoteState) string {
	name := strings.TrimSpace(q.Number + " " + q.Title)
	if name == "" {
		name = "Qwoty quote"
	}
	return truncate(name, 255)
}

// truncate cuts s to n characters, as a Text(n) field holds.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
