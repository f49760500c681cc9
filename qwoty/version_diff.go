package qwoty

import "github.com/shopspring/decimal"

// What changed between two versions of a quote (the card shows it): lines
// added, removed and changed, the quote's own terms, and the totals before
// and after.
//
// Lines carry no identity across revisions that a customer would know (a
// version holds what the customer read: positions, SKUs, descriptions), so
// they are matched in three passes, each over the lines the earlier passes
// left:
//
//  1. by SKU, when a line has one: the first line of SKU X in the older
//     version with the first of SKU X in the newer, the second with the
//     second, and so on (a product keeps its SKU whatever else changes);
//  2. by description, for lines without a SKU on both sides, the same way;
//  3. by position: what is left at the same position on both sides is one
//     line edited in place when it kept its description (its SKU retyped)
//     or has no SKU on either side (a free line's description retyped);
//     a line whose SKU and description both changed is another line.
//
// What is left after the three passes was removed (older side) or added
// (newer side). A matched line is "changed" when its SKU, description,
// quantity, unit price, discount or tax rate differ (numbers compared by
// value: 2 and 2.00 are the same); a line that only moved is unchanged.

// ChangeKind says what happened to a line between two versions.
type ChangeKind string

// The kinds of line change.
const (
	LineAdded   ChangeKind = "added"
	LineRemoved ChangeKind = "removed"
	LineChanged ChangeKind = "changed"
)

// FieldChange is one field's value before and after.
type FieldChange struct {
	Field  string // as the card labels it: "quantity", "unit price", ...
	Before string
	After  string
}

// LineChange is one line added, removed or changed.
type LineChange struct {
	Kind ChangeKind
	// Before is the line in the older version (nil when added), After in
	// the newer (nil when removed).
	Before, After *VersionLine
	// Fields are a changed line's changed fields.
	Fields []FieldChange
}

// VersionDiff is what changed from one version to another.
type VersionDiff struct {
	From, To int // the revisions compared
	Currency string
	// Terms are the quote's own fields that changed (title, currency, tax
	// rate, discount, validity, terms).
	Terms []FieldChange
	// Lines are the lines added, removed or changed, in the newer
	// version's order, a removed line where it stood.
	Lines []LineChange
	// Totals are every total before and after, changed or not; Changed
	// says whether any differs.
	Totals  []FieldChange
	Changed bool
}

// DiffVersions compares version a (the older) with b (the newer).
func DiffVersions(a, b VersionSnapshot) VersionDiff {
	d := VersionDiff{From: a.Revision, To: b.Revision, Currency: b.Currency}
	for _, f := range []FieldChange{
		{"title", a.Title, b.Title},
		{"customer", a.Customer, b.Customer},
		{"currency", a.Currency, b.Currency},
		{"tax mode", string(a.TaxMode), string(b.TaxMode)},
		{"tax rate", a.TaxRate, b.TaxRate},
		{"rounding", string(a.Rounding), string(b.Rounding)},
		{"quote discount", discountText(a), discountText(b)},
		{"valid until", a.ValidUntil, b.ValidUntil},
		{"terms", a.Terms, b.Terms},
	} {
		if !sameValue(f.Before, f.After) {
			d.Terms = append(d.Terms, f)
		}
	}
	pair := matchLines(a.Lines, b.Lines)
	matched := make([]bool, len(a.Lines))
	for _, i := range pair {
		if i >= 0 {
			matched[i] = true
		}
	}
	// Removed lines are listed where they stood: before the first newer
	// line whose match (or position) comes after them.
	nextRemoved := 0
	emitRemovedBefore := func(pos int) {
		for ; nextRemoved < len(a.Lines) && a.Lines[nextRemoved].Position < pos; nextRemoved++ {
			if !matched[nextRemoved] {
				l := a.Lines[nextRemoved]
				d.Lines = append(d.Lines, LineChange{Kind: LineRemoved, Before: &l})
			}
		}
	}
	for j := range b.Lines {
		nl := b.Lines[j]
		if i := pair[j]; i >= 0 {
			emitRemovedBefore(a.Lines[i].Position)
			if fs := lineFields(a.Lines[i], nl); len(fs) > 0 {
				ol := a.Lines[i]
				d.Lines = append(d.Lines, LineChange{Kind: LineChanged, Before: &ol, After: &nl, Fields: fs})
			}
			continue
		}
		emitRemovedBefore(nl.Position + 1) // a line replaced reads removed, then added
		d.Lines = append(d.Lines, LineChange{Kind: LineAdded, After: &nl})
	}
	emitRemovedBefore(int(^uint(0) >> 1))
	for _, f := range []FieldChange{
		{"subtotal", a.Totals.Subtotal, b.Totals.Subtotal},
		{"line discounts", a.Totals.Discount, b.Totals.Discount},
		{"quote discount", a.Totals.QuoteDiscount, b.Totals.QuoteDiscount},
		{"tax", a.Totals.Tax, b.Totals.Tax},
		{"total", a.Totals.Total, b.Totals.Total},
	} {
		d.Totals = append(d.Totals, f)
		if !sameValue(f.Before, f.After) {
			d.Changed = true
		}
	}
	if len(d.Terms) > 0 || len(d.Lines) > 0 {
		d.Changed = true
	}
	return d
}

// matchLines returns, for each line of b, the index of its match in a, or
// -1 (the passes are described above).
func matchLines(a, b []VersionLine) []int {
	pair := make([]int, len(b))
	for j := range pair {
		pair[j] = -1
	}
	used := make([]bool, len(a))
	byKey := func(key func(VersionLine) string) {
		queue := map[string][]int{}
		for i, l := range a {
			if k := key(l); !used[i] && k != "" {
				queue[k] = append(queue[k], i)
			}
		}
		for j, l := range b {
			k := key(l)
			if pair[j] >= 0 || k == "" || len(queue[k]) == 0 {
				continue
			}
			pair[j], used[queue[k][0]] = queue[k][0], true
			queue[k] = queue[k][1:]
		}
	}
	byKey(func(l VersionLine) string { return l.SKU })
	byKey(func(l VersionLine) string {
		if l.SKU != "" {
			return ""
		}
		return l.Description
	})
	at := map[int]int{}
	for i, l := range a {
		if !used[i] {
			at[l.Position] = i
		}
	}
	for j, l := range b {
		i, ok := at[l.Position]
		if !ok || pair[j] >= 0 {
			continue
		}
		// One line retyped, not another line in its place: its SKU
		// retyped (same description), or a free line's description.
		if o := a[i]; o.Description == l.Description || (o.SKU == "" && l.SKU == "") {
			pair[j], used[i] = i, true
			delete(at, l.Position)
		}
	}
	return pair
}

// lineFields are the fields that differ between a line's two versions.
func lineFields(a, b VersionLine) []FieldChange {
	var out []FieldChange
	for _, f := range []FieldChange{
		{"SKU", a.SKU, b.SKU},
		{"description", a.Description, b.Description},
		{"quantity", a.Quantity, b.Quantity},
		{"unit price", a.UnitPrice, b.UnitPrice},
		{"discount %", a.DiscountPercent, b.DiscountPercent},
		{"tax rate", deref(a.TaxRate), deref(b.TaxRate)},
		{"net", a.Net, b.Net},
	} {
		if !sameValue(f.Before, f.After) {
			out = append(out, f)
		}
	}
	// The net follows from the others: it is shown, but a change of the
	// net alone (a rounding policy's) is not a change of the line.
	if len(out) == 1 && out[0].Field == "net" {
		return nil
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func discountText(v VersionSnapshot) string {
	switch v.DiscountKind {
	case DiscountPercent:
		return v.DiscountValue + "%"
	case DiscountAmount:
		return v.DiscountValue + " " + v.Currency
	}
	return ""
}

// sameValue compares two field values: as numbers when both are, as text
// otherwise.
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	da, errA := decimal.NewFromString(a)
	db, errB := decimal.NewFromString(b)
	return errA == nil && errB == nil && da.Equal(db)
}
