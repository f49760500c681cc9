package qwoty

import (
	"strings"
	"testing"
)

func TestParseExternalRef(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"erp:order:SO-10045", true},
		{"stripe:customer:cus_N1x", true},
		{"erp:order:a:b:c", true},
		{"sap.s4:sales-order:0000123", true},
		{"erp:order", false},
		{"erp::1", false},
		{":order:1", false},
		{"ERP:order:1", false},
		{"erp:order:has space", false},
		{"erp:order:tab\t", false},
		{"erp:order:nul\x00", false},
		{strings.Repeat("a", 33) + ":t:1", false},
		{"e:t:" + strings.Repeat("x", 252), false},
		{"e:t:" + strings.Repeat("x", 251), true},
	} {
		got, err := ParseExternalRef(tc.in)
		if tc.ok && (err != nil || got != tc.in) {
			t.Errorf("ParseExternalRef(%q) = %q, %v; want it accepted", tc.in, got, err)
		}
		if !tc.ok && (err == nil || ErrorCode(err) != CodeValidation) {
			t.Errorf("ParseExternalRef(%q) = %q, %v; want validation_failed", tc.in, got, err)
		}
	}
}

// A quote's change makes quote.updated, and its new status's event when
// the status changed to one that has one (store.emitQuoteEvents).
func TestStatusEvent(t *testing.T) {
	for s, want := range map[Status]EventType{
		StatusDraft: "", StatusSent: EventQuoteSent, StatusViewed: EventQuoteViewed, StatusAccepted: EventQuoteAccepted,
		StatusRejected: EventQuoteRejected, StatusExpired: EventQuoteExpired,
	} {
		if got := StatusEvent(s); got != want {
			t.Errorf("StatusEvent(%s) = %q, want %q", s, got, want)
		}
	}
}
