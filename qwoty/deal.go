package qwoty

import (
	"fmt"
	"strings"
	"unicode"
)

// Deals created from Qwoty (issue 18, docs/deals.md). A quote made outside
// a CRM record (through the API, for a customer) has no record until it
// reaches the status its connection's admin chose (DealStatus); then the
// sync engine makes the deal in the CRM, on the customer's account (found
// by the customer's link, else by AccountMatch, else made), exactly once,
// and the quote becomes a quote of that record like any other.

// DealStatus is the status at which a quote without a CRM record makes its
// deal: DealOnDraft as soon as it is made, DealOnSent once sent (or
// further: viewed, accepted), DealOnAccepted once accepted; DealNever
// never (its quotes stay Qwoty's own).
type DealStatus string

// Deal statuses.
const (
	DealNever      DealStatus = ""
	DealOnDraft    DealStatus = "draft"
	DealOnSent     DealStatus = "sent"
	DealOnAccepted DealStatus = "accepted"
)

// DefaultDealStatus is a connection's until its admin chooses.
const DefaultDealStatus = DealOnSent

// DealStatuses are the choices, in the console's order.
var DealStatuses = []DealStatus{DealOnSent, DealOnAccepted, DealOnDraft, DealNever}

// Label is how the console names a choice.
func (d DealStatus) Label() string {
	switch d {
	case DealOnDraft:
		return "As soon as the quote is made"
	case DealOnSent:
		return "When the quote is sent"
	case DealOnAccepted:
		return "When the quote is accepted"
	}
	return "Never: quotes without a deal stay in Qwoty"
}

// ParseDealStatus reads a choice, refusing what is not one.
func ParseDealStatus(s string) (DealStatus, error) {
	for _, d := range DealStatuses {
		if string(d) == s {
			return d, nil
		}
	}
	return "", E(CodeValidation, "deal_status %q is not one of draft, sent, accepted or empty.", s)
}

// Due reports whether a quote at status st makes its deal under d. A
// rejected or expired quote makes none (a deal for a lost quote is noise
// the rep did not ask for); sent covers viewed and accepted, which come
// after it.
func (d DealStatus) Due(st Status) bool {
	switch d {
	case DealOnDraft:
		return st == StatusDraft || st == StatusSent || st == StatusViewed || st == StatusAccepted
	case DealOnSent:
		return st == StatusSent || st == StatusViewed || st == StatusAccepted
	case DealOnAccepted:
		return st == StatusAccepted
	}
	return false
}

// AccountMatch is how the sync engine looks for a customer's account in
// the CRM when the customer has no link to one yet: by its name (exact,
// ignoring case), or by its web domain (a customer without a domain is
// looked for by name).
type AccountMatch string

// Account matches.
const (
	MatchByName   AccountMatch = "name"
	MatchByDomain AccountMatch = "domain"
)

// ParseAccountMatch reads a choice, refusing what is not one.
func ParseAccountMatch(s string) (AccountMatch, error) {
	switch AccountMatch(s) {
	case MatchByName, MatchByDomain:
		return AccountMatch(s), nil
	}
	return "", E(CodeValidation, "account_match %q is not name or domain.", s)
}

// DealRef is the reference the CRM's deal of quote quoteID carries (a
// Salesforce external id, a HubSpot unique property, a Pipedrive field):
// a run whose answer was lost finds the deal by it.
func DealRef(quoteID string) string { return "qwoty-quote-" + quoteID }

// AccountRef is the reference of an account Qwoty made for customer
// customerID.
func AccountRef(customerID string) string { return "qwoty-customer-" + customerID }

// NormalizeDomain is a customer's web domain as matched: lower case,
// without a scheme, "www.", port, path or trailing dot
// ("https://www.Acme.com/about" → "acme.com"); "" for none.
func NormalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:] // an email address gives its domain
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), ".")
	return s
}

// ParseDomain reads a customer's web domain as the account match keeps it
// (NormalizeDomain): a URL or an email address gives its domain;
// what is left must look like a host name ("" clears it).
func ParseDomain(raw string) (string, error) {
	v, err := ParseField("domain", raw, 255)
	if err != nil {
		return "", err
	}
	d := NormalizeDomain(v)
	if d == "" {
		return "", nil
	}
	if !strings.Contains(d, ".") || strings.ContainsFunc(d, func(r rune) bool {
		return !(r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		return "", &Error{Code: CodeValidation, Field: "domain", Message: fmt.Sprintf("domain %q is not a web domain", v),
			Hint: "Give the customer's web domain (acme.com), its website's URL or an email address at it."}
	}
	return d, nil
}
