package templates

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// VersionRow is one revision of a quote in the card's versions list: a
// sent one (frozen) or the current draft (not sent yet).
type VersionRow struct {
	Revision int
	Sent     bool
	SentAt   time.Time
	Currency string
	Total    decimal.Decimal
	// Intact is false when a frozen version no longer hashes to what was
	// recorded (never, unless the database was tampered with).
	Intact bool
}

// VersionsView is a quote's versions panel: its revisions, the two
// compared and what changed between them (nil with fewer than two).
type VersionsView struct {
	Quote    *qwoty.Quote
	Rows     []VersionRow
	From, To int
	Diff     *qwoty.VersionDiff
}

func versionLabel(r VersionRow) string {
	if !r.Sent {
		return "Revision " + itoa(r.Revision) + " (draft)"
	}
	return "Revision " + itoa(r.Revision)
}

func versionOption(r VersionRow) string {
	if !r.Sent {
		return "r" + itoa(r.Revision) + " (draft)"
	}
	return "r" + itoa(r.Revision) + " · " + r.SentAt.UTC().Format("2 Jan 2006")
}

// diffAmount shows an amount of a version (a string of the snapshot) in
// the card's format; "" stays "".
func diffAmount(m qwoty.Money, s, currency string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return m.Amount(d, currency)
}

// lineFieldText is a changed line field's value as the card shows it:
// money formatted, an empty value as a dash.
func lineFieldText(m qwoty.Money, field, v, currency string) string {
	switch {
	case v == "":
		return "—"
	case field == "unit price" || field == "net":
		return diffAmount(m, v, currency)
	}
	return v
}

// termText is a changed term's value, an empty one as a dash.
func termText(v string) string {
	if v == "" {
		return "—"
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

func lineTitle(l *qwoty.VersionLine) string {
	switch {
	case l == nil:
		return ""
	case l.SKU != "" && l.Description != "":
		return l.SKU + " · " + l.Description
	case l.SKU != "":
		return l.SKU
	}
	return l.Description
}

func lineSummary(m qwoty.Money, l *qwoty.VersionLine, currency string) string {
	if l == nil {
		return ""
	}
	return l.Quantity + " × " + diffAmount(m, l.UnitPrice, currency) + " = " + diffAmount(m, l.Net, currency)
}

// changedTotal says whether a total differs before and after.
func changedTotal(f qwoty.FieldChange) bool {
	a, errA := decimal.NewFromString(f.Before)
	b, errB := decimal.NewFromString(f.After)
	if errA != nil || errB != nil {
		return f.Before != f.After
	}
	return !a.Equal(b)
}
