package qwoty

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// codeConstants reads the Code constants of error.go from its source, in
// their order, so that a code added there without a catalogue entry fails
// the test below even though nothing else names it yet.
func codeConstants(t *testing.T) []Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatalf("parse error.go: %v", err)
	}
	var codes []Code
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: want a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", name.Name, err)
				}
				codes = append(codes, Code(v))
			}
		}
	}
	if len(codes) < 30 {
		t.Fatalf("found %d Code constants in error.go, want all of them (30 or more): did the declaration change shape?", len(codes))
	}
	return codes
}

// Every code has exactly one entry, and the entries follow error.go's
// order, which is the order of the generated tables.
func TestEveryCodeHasAnEntry(t *testing.T) {
	codes := codeConstants(t)
	for _, c := range codes {
		if _, ok := Lookup(c); !ok {
			t.Errorf("code %q has no catalogue entry: add one to catalogue_texts.go, then run make generate", c)
		}
	}
	got := make([]Code, 0, len(catalogue))
	for _, e := range Catalogue() {
		got = append(got, e.Code)
	}
	if strings.Join(codeStrings(got), " ") != strings.Join(codeStrings(codes), " ") {
		t.Errorf("catalogue order = %v,\nwant error.go's order %v", got, codes)
	}
}

func codeStrings(cs []Code) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// The texts fit where they are shown: plain text on the cards (no Markdown,
// which they would show as it is), one line of a Markdown table in the docs.
func TestEntriesAreComplete(t *testing.T) {
	for _, e := range Catalogue() {
		if e.Status != 0 && http.StatusText(e.Status) == "" {
			t.Errorf("%s: status %d is not an HTTP status", e.Code, e.Status)
		}
		if e.Who == 0 {
			t.Errorf("%s: nobody meets it (Who is empty)", e.Code)
		}
		for _, f := range []struct{ name, text string }{
			{"Title", e.Title}, {"Message", e.Message}, {"Hint", e.Hint}, {"Cause", e.Cause}, {"Fix", e.Fix},
		} {
			if strings.TrimSpace(f.text) == "" {
				t.Errorf("%s: %s is empty", e.Code, f.name)
			}
		}
		if strings.HasSuffix(e.Title, ".") {
			t.Errorf("%s: Title %q ends with a full stop; titles have none", e.Code, e.Title)
		}
		for _, f := range []struct{ name, text string }{
			{"Message", e.Message}, {"Hint", e.Hint}, {"CardFix", e.CardFix},
		} {
			if f.text != "" && !strings.HasSuffix(f.text, ".") {
				t.Errorf("%s: %s %q is a sentence without its full stop", e.Code, f.name, f.text)
			}
		}
		plain := []string{e.Title, e.Message, e.Hint, e.CardFix}
		for card, ct := range e.OnCards {
			if card != CardSalesforce && card != CardHubSpot {
				t.Errorf("%s: unknown card %q", e.Code, card)
			}
			plain = append(plain, ct.Title, ct.Message, ct.Fix)
		}
		for _, s := range plain {
			if strings.ContainsAny(s, "`*[]|\n") {
				t.Errorf("%s: plain text %q holds Markdown or a table bar", e.Code, s)
			}
		}
		for _, s := range []string{e.Cause, e.OtherHints, e.Fix} {
			if strings.ContainsAny(s, "|\n") {
				t.Errorf("%s: %q would break its table row (| or a newline)", e.Code, s)
			}
		}
	}
}

// The statuses are the ones server.statusFor answered before it asked the
// catalogue: the wire format does not change.
func TestHTTPStatus(t *testing.T) {
	want := map[Code]int{
		CodeBadRequest: 400, CodePayloadTooLarge: 413,
		CodeSignatureMissing: 401, CodeSignatureInvalid: 401, CodeTimestampOutOfRange: 401,
		CodeTokenMissing: 401, CodeTokenInvalid: 401, CodeTokenExpired: 401, CodeUnauthenticated: 401,
		CodeOrgDisconnected: 403, CodeForbidden: 403, CodeCSRF: 403,
		CodeWorkspaceConnected: 409, CodeOAuthFailed: 400, CodeCRMUnavailable: 502,
		CodeOrgNotConnected: 404, CodeNotFound: 404, CodeMethodNotAllowed: 405,
		CodeReplayedRequest: 409, CodeInvalidTransition: 409, CodeQuoteLocked: 409, CodeVersionConflict: 409,
		CodeValidation: 422, CodeUnavailable: 503, CodeNotConfigured: 503, CodeRateLimited: 429,
		CodeInternal: 500,
		// Never an answer of their own: our fault if one becomes one.
		CodePackageNotInstalled: 500, CodeInsufficientAccess: 500, CodeRefreshRejected: 500, CodeNoOAuthToken: 500,
		CodeCRMUnreachable: 500, CodeCRMError: 500, CodeTestFailed: 500,
		CodeSyncReconnect: 500, CodeSyncRejected: 500, CodeSyncFailed: 500,
		CodeFilterInvalid: 400, CodeExportTooLarge: 422, CodeInvitationInvalid: 410, CodeAlreadyMember: 409,
		CodeAPIKeyInvalid: 401, CodeAPIKeyExpired: 401, CodeAPIKeyRevoked: 401, CodeScopeMissing: 403,
		CodeDeliveryPending:      409,
		CodeIdempotencyKeyReused: 422, CodeIdempotencyKeyInProgress: 409,
		CodeQuoteEmpty: 422, CodeRecipientInvalid: 422, CodeLinkExpired: 410, CodeQuoteChanged: 409, CodeLogoInvalid: 422,
		CodeOrderReadOnly: 409, CodeQuoteNoRecord: 409, CodeRecordOrCustomer: 422, CodeQuoteOnRecord: 409,
		"no_such_code": 500,
	}
	for code, status := range want {
		if got := HTTPStatus(code); got != status {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, status)
		}
	}
	for _, c := range codeConstants(t) {
		if _, ok := want[c]; !ok {
			t.Errorf("code %s: add its status to this test", c)
		}
	}
}

// A card shows its own words where it has them and the entry's elsewhere;
// a code it does not explain is not on it.
func TestCardTextFor(t *testing.T) {
	e := Entry{Code: "x", Title: "T", Message: "M.", Hint: "H.", OnCards: map[Card]CardText{
		CardSalesforce: {Title: "SF"},
		CardHubSpot:    {},
	}}
	if got, _ := e.CardTextFor(CardSalesforce); got != (CardText{Title: "SF", Message: "M.", Fix: "H."}) {
		t.Errorf("Salesforce = %+v, want its own title and the entry's message and hint", got)
	}
	e.CardFix = "CF."
	if got, _ := e.CardTextFor(CardHubSpot); got != (CardText{Title: "T", Message: "M.", Fix: "CF."}) {
		t.Errorf("HubSpot = %+v, want the entry's title, message and card fix", got)
	}
	delete(e.OnCards, CardHubSpot)
	if _, ok := e.CardTextFor(CardHubSpot); ok {
		t.Error("a code the card does not list is on it")
	}
}

// E takes the catalogue's hint, so the generic advice is written once.
func TestEUsesTheCataloguesHint(t *testing.T) {
	err := E(CodeVersionConflict, "quote %s changed", "Q-1")
	want, _ := Lookup(CodeVersionConflict)
	if err.Code != CodeVersionConflict || err.Message != "quote Q-1 changed" || err.Hint != want.Hint {
		t.Errorf("E = %+v, want code, formatted message and hint %q", err, want.Hint)
	}
	if got := AsError(errors.New("boom")).Hint; got != hintOf(CodeInternal) {
		t.Errorf("AsError hint = %q, want the catalogue's internal hint", got)
	}
}

func TestAudienceString(t *testing.T) {
	if got := (Rep | Developer).String(); got != "rep, developer" {
		t.Errorf("String = %q, want %q", got, "rep, developer")
	}
}
