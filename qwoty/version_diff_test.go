package qwoty

import (
	"fmt"
	"strings"
	"testing"
)

// version is a priced version of lines given as "sku|description|qty|price|discount".
func version(rev int, lines ...string) VersionSnapshot {
	q := &Quote{Number: "Q-00001", Revision: rev, Status: StatusDraft, Currency: "EUR", TaxRate: dec("10"),
		TaxMode: TaxPerQuote, Rounding: RoundLineHalfUp, Discount: QuoteDiscount{Kind: DiscountNone}}
	for i, s := range lines {
		f := strings.Split(s, "|")
		q.Lines = append(q.Lines, LineItem{ID: fmt.Sprint("l", i), SKU: f[0], Description: f[1], Quantity: dec(f[2]),
			UnitPrice: dec(f[3]), DiscountPercent: dec(f[4])})
	}
	q.Reprice()
	return Snapshot(q)
}

// summary is a diff's lines as "kind sku/description: field before→after, ...".
func summary(d VersionDiff) []string {
	var out []string
	for _, c := range d.Lines {
		l := c.After
		if l == nil {
			l = c.Before
		}
		s := string(c.Kind) + " " + l.SKU + "/" + l.Description
		for _, f := range c.Fields {
			if f.Field != "net" {
				s += " " + f.Field + ":" + f.Before + "→" + f.After
			}
		}
		out = append(out, s)
	}
	return out
}

func TestDiffVersions(t *testing.T) {
	for _, c := range []struct {
		name   string
		a, b   VersionSnapshot
		want   []string
		totals string // the total before→after
	}{
		{"nothing changed", version(1, "A|Desk|2|100|0"), version(2, "A|Desk|2.00|100.0000|0"), nil, "220.00→220.00"},
		{"a quantity, a price, a discount, a description",
			version(1, "A|Desk|2|100|0", "B|Chair|4|50|0", "C|Lamp|1|20|0"),
			version(2, "A|Desk|3|100|0", "B|Chair|4|45|10", "C|Desk lamp|1|20|0"),
			[]string{"changed A/Desk quantity:2→3", "changed B/Chair unit price:50→45 discount %:0→10", "changed C/Desk lamp description:Lamp→Desk lamp"},
			"462.00→530.20"},
		{"a line added and a line removed, matched by SKU though the others moved",
			version(1, "A|Desk|1|100|0", "B|Chair|1|50|0", "C|Lamp|1|20|0"),
			version(2, "C|Lamp|1|20|0", "A|Desk|1|100|0", "D|Rug|1|80|0"),
			[]string{"removed B/Chair", "added D/Rug"}, "187.00→220.00"},
		{"free lines matched by description, the second of two alike kept apart",
			version(1, "|Setup|1|100|0", "|Setup|1|100|0", "|Training|1|300|0"),
			version(2, "|Setup|1|100|0", "|Training|2|300|0"),
			[]string{"removed /Setup", "changed /Training quantity:1→2"}, "550.00→770.00"},
		{"a line retyped in place is one line changed",
			version(1, "A|Desk|1|100|0", "|Misc|1|10|0"),
			version(2, "A|Desk|1|100|0", "|Delivery|1|10|0"),
			[]string{"changed /Delivery description:Misc→Delivery"}, "121.00→121.00"},
		{"a line replaced by another in its place", version(1, "A|Desk|1|100|0"), version(2, "B|Chair|1|100|0"),
			[]string{"removed A/Desk", "added B/Chair"}, "110.00→110.00"},
		{"a SKU retyped in place", version(1, "A|Desk|1|100|0"), version(2, "A2|Desk|1|100|0"),
			[]string{"changed A2/Desk SKU:A→A2"}, "110.00→110.00"},
		{"lines only added", version(1), version(2, "A|Desk|1|100|0", "B|Chair|1|50|0"),
			[]string{"added A/Desk", "added B/Chair"}, "0.00→165.00"},
		{"lines only removed", version(1, "A|Desk|1|100|0", "B|Chair|1|50|0"), version(2, "A|Desk|1|100|0"),
			[]string{"removed B/Chair"}, "165.00→110.00"},
	} {
		d := DiffVersions(c.a, c.b)
		if got := summary(d); strings.Join(got, "; ") != strings.Join(c.want, "; ") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		total := d.Totals[len(d.Totals)-1]
		if total.Field != "total" || total.Before+"→"+total.After != c.totals {
			t.Errorf("%s: total %+v, want %s", c.name, total, c.totals)
		}
		if d.From != 1 || d.To != 2 || d.Changed != (c.want != nil || total.Before != total.After) {
			t.Errorf("%s: from %d to %d changed %v", c.name, d.From, d.To, d.Changed)
		}
	}
}

// The quote's own terms are compared too.
func TestDiffVersionsTerms(t *testing.T) {
	a, b := version(1, "A|Desk|1|100|0"), version(2, "A|Desk|1|100|0")
	b.Title, b.ValidUntil, b.TaxRate = "Fit-out", "2026-03-01", "20.00"
	d := DiffVersions(a, b)
	var got []string
	for _, f := range d.Terms {
		got = append(got, f.Field+":"+f.Before+"→"+f.After)
	}
	if strings.Join(got, "; ") != "title:→Fit-out; tax rate:10→20.00; valid until:→2026-03-01" || len(d.Lines) != 0 || !d.Changed {
		t.Errorf("terms %q, lines %v", got, d.Lines)
	}
}
