package qwoty

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusDraft, StatusSent}: true, {StatusSent, StatusViewed}: true, {StatusSent, StatusAccepted}: true,
		{StatusSent, StatusRejected}: true, {StatusSent, StatusExpired}: true, {StatusSent, StatusDraft}: true,
		{StatusViewed, StatusAccepted}: true, {StatusViewed, StatusRejected}: true, {StatusViewed, StatusExpired}: true,
		{StatusViewed, StatusDraft}: true, {StatusRejected, StatusDraft}: true, {StatusExpired, StatusDraft}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got, want := from.CanMoveTo(to), allowed[[2]Status{from, to}]; got != want {
				t.Errorf("%s -> %s allowed = %v, want %v", from, to, got, want)
			}
		}
	}
	if _, ok := ParseStatus("approved"); ok {
		t.Error("ParseStatus accepted an unknown status")
	}
}

func TestComputeTotalsIsExact(t *testing.T) {
	cases := []struct {
		name                              string
		currency, tax                     string
		lines                             [][3]string // qty, price, discount%
		subtotal, discount, taxAmt, total string
	}{
		{"float trap 0.1+0.2", "USD", "0", [][3]string{{"1", "0.1", "0"}, {"1", "0.2", "0"}}, "0.30", "0.00", "0.00", "0.30"},
		{"discount and tax", "USD", "20", [][3]string{{"3", "19.99", "10"}, {"1", "100", "0"}}, "159.97", "6.00", "30.79", "184.76"},
		{"half rounds away from zero", "EUR", "0", [][3]string{{"1", "0.125", "0"}}, "0.13", "0.00", "0.00", "0.13"},
		{"yen has no decimals", "JPY", "10", [][3]string{{"3", "333.5", "0"}}, "1001", "0", "100", "1101"},
		{"dinar has three", "KWD", "0", [][3]string{{"2", "1.2345", "50"}}, "2.469", "1.235", "0.000", "1.234"},
		{"empty quote", "USD", "20", nil, "0.00", "0.00", "0.00", "0.00"},
		{"millions of units", "USD", "7.25", [][3]string{{"1000000", "12345.6789", "12.5"}}, "12345678900.00", "1543209862.50", "783179005.22", "11585648042.72"},
	}
	for _, c := range cases {
		var lines []LineItem
		for _, l := range c.lines {
			lines = append(lines, LineItem{Quantity: dec(l[0]), UnitPrice: dec(l[1]), DiscountPercent: dec(l[2])})
		}
		got := ComputeTotals(lines, dec(c.tax), c.currency)
		f := func(d decimal.Decimal) string { return FormatAmount(d, c.currency) }
		if f(got.Subtotal) != c.subtotal || f(got.Discount) != c.discount || f(got.Tax) != c.taxAmt || f(got.Total) != c.total {
			t.Errorf("%s: got subtotal %s discount %s tax %s total %s; want %s %s %s %s", c.name,
				f(got.Subtotal), f(got.Discount), f(got.Tax), f(got.Total), c.subtotal, c.discount, c.taxAmt, c.total)
		}
	}
}

func TestParseLine(t *testing.T) {
	good, err := ParseLine(LineInput{SKU: " LIC-1 ", Quantity: "1,000", UnitPrice: "12.5", DiscountPercent: ""})
	if err != nil || good.SKU != "LIC-1" || !good.Quantity.Equal(dec("1000")) || !good.DiscountPercent.IsZero() {
		t.Fatalf("ParseLine good = %+v, %v", good, err)
	}
	bad := []LineInput{
		{Quantity: "1", UnitPrice: "1"}, // no sku nor description
		{SKU: "x", Quantity: "0", UnitPrice: "1"},
		{SKU: "x", Quantity: "-2", UnitPrice: "1"},
		{SKU: "x", Quantity: "1e3", UnitPrice: "1"},
		{SKU: "x", Quantity: "1", UnitPrice: "abc"},
		{SKU: "x", Quantity: "1", UnitPrice: "-1"},
		{SKU: "x", Quantity: "1", UnitPrice: "1.00001"},
		{SKU: "x", Quantity: "1", UnitPrice: "1", DiscountPercent: "101"},
		{SKU: "x", Quantity: "1", UnitPrice: "NaN"},
		{SKU: "x", Quantity: "1", UnitPrice: "1", DiscountPercent: "5%"},
	}
	for _, in := range bad {
		if _, err := ParseLine(in); ErrorCode(err) != CodeValidation {
			t.Errorf("ParseLine(%+v) err = %v, want validation_failed", in, err)
		}
	}
}

func TestFormatting(t *testing.T) {
	if got := FormatNumber(42); got != "Q-00042" {
		t.Errorf("FormatNumber(42) = %s", got)
	}
	if got := FormatNumber(123456); got != "Q-123456" {
		t.Errorf("FormatNumber(123456) = %s", got)
	}
}

// A locked quote's hint says what is true of its status: accepted is final,
// the others go back to draft.
func TestCheckEditableHintFitsTheStatus(t *testing.T) {
	if err := StatusDraft.CheckEditable("Q-1"); err != nil {
		t.Fatalf("draft: %v, want editable", err)
	}
	for _, s := range []Status{StatusSent, StatusViewed, StatusRejected, StatusExpired} {
		e := AsError(s.CheckEditable("Q-1"))
		if e.Code != CodeQuoteLocked || !strings.Contains(e.Hint, "back to draft") {
			t.Errorf("%s: %s %q, want quote_locked with a hint to move back to draft", s, e.Code, e.Hint)
		}
	}
	e := AsError(StatusAccepted.CheckEditable("Q-1"))
	if e.Code != CodeQuoteLocked || strings.Contains(e.Hint, "back to draft") || !strings.Contains(e.Hint, "final") {
		t.Errorf("accepted: %s %q, want quote_locked saying the quote is final", e.Code, e.Hint)
	}
}

func TestSyncAgoAndAdminWaits(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, ""}, {time.Unix(0, 0), ""}, {now.Add(-30 * time.Second), "just now"}, {now.Add(-2 * time.Minute), "2 min ago"},
		{now.Add(-3 * time.Hour), "3 h ago"}, {now.Add(-30 * time.Hour), "yesterday"}, {now.Add(-4 * 24 * time.Hour), "4 days ago"},
		{now.Add(-60 * 24 * time.Hour), "on 29 Sep 2026"},
	} {
		if got := Ago(now, c.t); got != c.want {
			t.Errorf("Ago(%s) = %q, want %q", now.Sub(c.t), got, c.want)
		}
	}
	if !WaitsForAdmin(CodeSyncReconnect) || !WaitsForAdmin(CodeRefreshRejected) || WaitsForAdmin(CodeSyncFailed) || WaitsForAdmin(CodeRateLimited) {
		t.Fatal("WaitsForAdmin: wrong codes")
	}
}
