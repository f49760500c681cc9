package qwoty

import (
	"fmt"
	"net/http"
	"strings"
)

// The catalogue writes down, once, everything a person is told about each
// error code: its HTTP status, who meets it, and the words that explain it.
// The texts used to live in four places (the Go hints, the Salesforce
// component, the HubSpot card and docs/troubleshooting.md) and drifted
// apart; now the troubleshooting table and the two cards' message tables are
// generated from here (go run ./tools/gencatalogue), and a test fails when
// one of them differs. The entries are in catalogue_texts.go.

// Audience is who meets an error code, as a set.
type Audience uint8

// The people who meet error codes.
const (
	// Rep: a sales rep, in a CRM card.
	Rep Audience = 1 << iota
	// Admin: a workspace admin, in the Qwoty console.
	Admin
	// Developer: whoever calls the API by hand or runs the server (the
	// operator), reading answers and logs.
	Developer
)

// String lists the audience's members, e.g. "rep, developer".
func (a Audience) String() string {
	var out []string
	for _, m := range []struct {
		a    Audience
		name string
	}{{Rep, "rep"}, {Admin, "admin"}, {Developer, "developer"}} {
		if a&m.a != 0 {
			out = append(out, m.name)
		}
	}
	return strings.Join(out, ", ")
}

// Card is a client shipped with Qwoty that explains error codes in its own
// words, rendered from the catalogue: its code renders the text itself,
// outside this server, so the text has to travel to it at build time.
type Card string

// The cards whose message tables are generated from the catalogue.
const (
	// CardSalesforce is the Salesforce package's Lightning component
	// (cardMessages.js): a title and a fix per code.
	CardSalesforce Card = "salesforce"
	// CardHubSpot is the HubSpot app card (card-model.ts): a title, a
	// message and a fix per code.
	CardHubSpot Card = "hubspot"
)

// Cards lists every Card, in the order the generator writes them.
var Cards = []Card{CardSalesforce, CardHubSpot}

// Entry is what the catalogue says about one code. Title, Message, Hint and
// the card texts are plain text, shown as they are; Cause, OtherHints and
// Fix are Markdown for docs/troubleshooting.md.
type Entry struct {
	Code Code
	// Status is the HTTP status of an answer with this code; 0 for the
	// connection-health codes, which are recorded on a connection and never
	// answered on their own (HTTPStatus gives 500 for them).
	Status int
	// Who meets the code.
	Who Audience
	// Title names the problem in a few words, without a full stop.
	Title string
	// Message says what happened, for an error built without a more
	// specific message (a card showing a code it has no message of its own for).
	Message string
	// Hint says what to do: the hint of every error of this code that has
	// no more specific one (see E).
	Hint string
	// Cause explains, for admins and developers, when the code is answered.
	Cause string
	// OtherHints names the more specific hints some cases send instead of
	// Hint, so that a hint someone reads out can be matched to its case.
	OtherHints string
	// Fix is what an admin or a developer does about it.
	Fix string
	// CardFix is what the cards tell their user to do, when it is not Hint:
	// a card has already retried, or talks to a rep rather than a developer.
	CardFix string
	// OnCards holds the cards that explain this code in their own words,
	// and the text each shows where it differs from the defaults (see
	// CardTextFor): where the CRM's mechanism differs (its signature
	// header, its console step), so must the words.
	OnCards map[Card]CardText
}

// CardText is what a card shows for a code. An empty field takes the entry's
// default (see Entry.CardTextFor).
type CardText struct {
	Title   string
	Message string
	Fix     string
}

// CardTextFor returns what card shows for e: its own text where it has one,
// else the entry's Title, Message and CardFix (or Hint). ok is false when
// card does not explain e's code in words of its own.
func (e Entry) CardTextFor(card Card) (t CardText, ok bool) {
	t, ok = e.OnCards[card]
	if !ok {
		return CardText{}, false
	}
	if t.Title == "" {
		t.Title = e.Title
	}
	if t.Message == "" {
		t.Message = e.Message
	}
	if t.Fix == "" {
		t.Fix = e.CardFix
	}
	if t.Fix == "" {
		t.Fix = e.Hint
	}
	return t, true
}

// byCode indexes catalogue for Lookup; built once, at start.
var byCode = func() map[Code]*Entry {
	m := make(map[Code]*Entry, len(catalogue))
	for i := range catalogue {
		e := &catalogue[i]
		if _, dup := m[e.Code]; dup {
			panic(fmt.Sprintf("qwoty: catalogue: %s has two entries", e.Code))
		}
		m[e.Code] = e
	}
	return m
}()

// Lookup returns the catalogue's entry of code, or false for a code it does
// not know (a test makes sure every Code constant has one).
func Lookup(code Code) (Entry, bool) {
	e, ok := byCode[code]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Catalogue returns every entry, in the order of the codes in error.go.
func Catalogue() []Entry {
	out := make([]Entry, len(catalogue))
	copy(out, catalogue)
	return out
}

// HTTPStatus is the status of an answer with code: the one place that
// decides. A code that is never an answer of its own, or one the catalogue
// does not know, is our fault: 500.
func HTTPStatus(code Code) int {
	if e, ok := byCode[code]; ok && e.Status != 0 {
		return e.Status
	}
	return http.StatusInternalServerError
}

// E builds an *Error of code with a formatted message and the catalogue's
// hint for code: for the many places whose advice is the generic one, so
// that it is written once. A place that knows better advice uses Errorf.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Hint: hintOf(code)}
}

// hintOf is the catalogue's hint of code, or the internal error's for a
// code the catalogue does not know.
func hintOf(code Code) string {
	if e, ok := byCode[code]; ok {
		return e.Hint
	}
	return byCode[CodeInternal].Hint
}
