package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// vectorFile is shared with the Salesforce package: the Apex QwotySigner test
// asserts the same signatures literally.
const vectorFile = "../../testdata/signing-vectors-v1.json"

type vector struct {
	Name, Secret, OrgID, Timestamp, Nonce, Method, Path, Body, Message, Signature string
}

func loadVectors(t testing.TB) []vector {
	b, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatalf("read %s: %v", vectorFile, err)
	}
	var f struct {
		Scheme  string
		Vectors []vector
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Scheme != "v1" || len(f.Vectors) < 3 {
		t.Fatalf("%s: scheme %q with %d vectors", vectorFile, f.Scheme, len(f.Vectors))
	}
	return f.Vectors
}

func headersOf(v vector) http.Header {
	h := http.Header{}
	h.Set(HeaderOrg, v.OrgID)
	h.Set(HeaderTimestamp, v.Timestamp)
	h.Set(HeaderNonce, v.Nonce)
	h.Set(HeaderSignature, v.Signature)
	return h
}

// TestSharedSigningVectors checks the server against the vectors the Apex
// test asserts: the same inputs give the same message and signature, and the
// verifier accepts each one and nothing else.
func TestSharedSigningVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		if got := string(V1Message(v.Timestamp, v.Nonce, v.OrgID, v.Method, v.Path, []byte(v.Body))); got != v.Message {
			t.Errorf("%s: message differs:\n got %q\nwant %q", v.Name, got, v.Message)
		}
		if got := SignV1([]byte(v.Secret), v.Timestamp, v.Nonce, v.OrgID, v.Method, v.Path, []byte(v.Body)); got != v.Signature {
			t.Errorf("%s: SignV1 = %s, want %s", v.Name, got, v.Signature)
		}
		h, err := ParseCalloutHeaders(headersOf(v))
		if err != nil {
			t.Errorf("%s: headers refused: %v", v.Name, err)
			continue
		}
		if err := VerifyMAC(h, [][]byte{[]byte(v.Secret)}, v.Method, v.Path, []byte(v.Body)); err != nil {
			t.Errorf("%s: verifier refused the vector: %v", v.Name, err)
		}
		if err := VerifyMAC(h, [][]byte{[]byte(v.Secret + "x")}, v.Method, v.Path, []byte(v.Body)); err == nil {
			t.Errorf("%s: verifier accepted a wrong secret", v.Name)
		}
	}
}

func TestParseHeadersErrors(t *testing.T) {
	v := loadVectors(t)[0]
	cases := []struct {
		name   string
		mutate func(http.Header)
		code   qwoty.Code
		says   string
	}{
		{"no signature", func(h http.Header) { h.Del(HeaderSignature) }, qwoty.CodeSignatureMissing, HeaderSignature},
		{"other scheme", func(h http.Header) { h.Set(HeaderSignature, "v2=abcd") }, qwoty.CodeBadRequest, "v1="},
		{"short mac", func(h http.Header) { h.Set(HeaderSignature, "v1=abcd") }, qwoty.CodeBadRequest, "64 lowercase hex"},
		// hex.DecodeString reads upper case too: the contract's one spelling is lower case.
		{"upper-case mac", func(h http.Header) { h.Set(HeaderSignature, "v1="+strings.ToUpper(h.Get(HeaderSignature)[3:])) }, qwoty.CodeBadRequest, "64 lowercase hex"},
		{"one upper-case digit", func(h http.Header) {
			sig := []byte(h.Get(HeaderSignature))
			for i := len(sig) - 1; i > 2; i-- {
				if sig[i] >= 'a' && sig[i] <= 'f' {
					sig[i] -= 'a' - 'A'
					break
				}
			}
			h.Set(HeaderSignature, string(sig))
		}, qwoty.CodeBadRequest, "64 lowercase hex"},
		{"no org", func(h http.Header) { h.Del(HeaderOrg) }, qwoty.CodeBadRequest, HeaderOrg},
		{"bad org", func(h http.Header) { h.Set(HeaderOrg, "00D5g000004XyZaEAB") }, qwoty.CodeBadRequest, HeaderOrg},
		{"not an org", func(h http.Header) { h.Set(HeaderOrg, "0065g00000AbCdE") }, qwoty.CodeBadRequest, "00D"},
		{"no timestamp", func(h http.Header) { h.Del(HeaderTimestamp) }, qwoty.CodeBadRequest, HeaderTimestamp},
		{"ms timestamp text", func(h http.Header) { h.Set(HeaderTimestamp, "1763805600.5") }, qwoty.CodeBadRequest, HeaderTimestamp},
		{"no nonce", func(h http.Header) { h.Del(HeaderNonce) }, qwoty.CodeBadRequest, HeaderNonce},
		{"short nonce", func(h http.Header) { h.Set(HeaderNonce, "abc") }, qwoty.CodeBadRequest, HeaderNonce},
		{"nonce charset", func(h http.Header) { h.Set(HeaderNonce, "abcdefghijklmnop!") }, qwoty.CodeBadRequest, HeaderNonce},
	}
	for _, c := range cases {
		h := headersOf(v)
		c.mutate(h)
		_, err := ParseCalloutHeaders(h)
		if qwoty.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: err = %v; want %s naming %q", c.name, err, c.code, c.says)
		}
	}
	// A 15-character org id is accepted and normalised; the signed value stays as sent.
	h := headersOf(v)
	h.Set(HeaderOrg, v.OrgID[:15])
	got, err := ParseCalloutHeaders(h)
	if err != nil || got.OrgID != v.OrgID || got.OrgHeader != v.OrgID[:15] {
		t.Fatalf("15-char org: %+v, %v", got, err)
	}
}

func TestSkewWindowBothWays(t *testing.T) {
	now := time.Unix(1_763_805_600, 0)
	for _, d := range []time.Duration{0, 299 * time.Second, -299 * time.Second, 300 * time.Second, -300 * time.Second} {
		if err := CheckSkew(now.Add(d), now); err != nil {
			t.Errorf("skew %s refused: %v", d, err)
		}
	}
	for _, d := range []time.Duration{301 * time.Second, -301 * time.Second, 24 * time.Hour} {
		if err := CheckSkew(now.Add(d), now); qwoty.ErrorCode(err) != qwoty.CodeTimestampOutOfRange {
			t.Errorf("skew %s: err = %v, want timestamp_out_of_range", d, err)
		}
	}
}

func TestParseCalloutBody(t *testing.T) {
	u, r, err := ParseCalloutBody([]byte(`{"recordId":"0065g00000AbCdE","objectType":"Opportunity","user":{"id":"005x","email":"a@b.c"},
		"record":{"accountId":"0015g00000QwErT","accountName":"Acme","amount":12000.5,"currencyIsoCode":"EUR"}}`))
	if err != nil || r.ID != "0065g00000AbCdEAAV" || r.Currency != "EUR" || u.Email != "a@b.c" || r.AccountName != "Acme" {
		t.Fatalf("good body: %+v %+v %v", u, r, err)
	}
	if _, r, err := ParseCalloutBody([]byte(`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity"}`)); err != nil || r.Currency != "" {
		t.Fatalf("minimal body (no multi-currency): %+v, %v", r, err)
	}
	bad := map[string]string{
		"not json":        `recordId=1`,
		"array":           `[]`,
		"no recordId":     `{"objectType":"Opportunity"}`,
		"no objectType":   `{"recordId":"0065g00000AbCdEAAV"}`,
		"bad recordId":    `{"recordId":"x","objectType":"Opportunity"}`,
		"bad objectType":  `{"recordId":"0065g00000AbCdEAAV","objectType":"Opp'ty"}`,
		"bad currency":    `{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"currencyIsoCode":"dollars"}}`,
		"amount as text":  `{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"amount":"lots"}}`,
		"two values":      `{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity"}{}`,
		"recordId number": `{"recordId":12,"objectType":"Opportunity"}`,
	}
	for name, body := range bad {
		if _, _, err := ParseCalloutBody([]byte(body)); qwoty.ErrorCode(err) != qwoty.CodeBadRequest {
			t.Errorf("%s: err = %v, want bad_request", name, err)
		}
	}
}

type mapLookup map[string]*qwoty.Connection

func (m mapLookup) ConnectionByExternalID(_ context.Context, _ qwoty.Provider, id string) (*qwoty.Connection, error) {
	if c, ok := m[id]; ok {
		return c, nil
	}
	return nil, qwoty.ErrNotFound
}

func TestVerifyCalloutOrder(t *testing.T) {
	v := loadVectors(t)[0]
	now := time.Unix(1763805600, 0)
	active := &qwoty.Connection{ID: "c1", WorkspaceID: "w1", ExternalID: v.OrgID, Status: qwoty.ConnectionActive, Secret: []byte(v.Secret)}
	req := crm.SignedRequest{Method: "POST", Path: "/api/crm/cardView", Header: headersOf(v), Body: []byte(v.Body)}

	ec, _, err := VerifyCallout(context.Background(), mapLookup{v.OrgID: active}, req, now)
	if err != nil || ec.ConnectionID != "c1" || ec.Record.ID != "0065g00000AbCdEAAV" {
		t.Fatalf("valid vector: %+v, %v", ec, err)
	}
	if _, _, err := VerifyCallout(context.Background(), mapLookup{}, req, now); qwoty.ErrorCode(err) != qwoty.CodeOrgNotConnected {
		t.Errorf("unknown org: %v", err)
	}
	gone := *active
	gone.Status = qwoty.ConnectionDisconnected
	if _, _, err := VerifyCallout(context.Background(), mapLookup{v.OrgID: &gone}, req, now); qwoty.ErrorCode(err) != qwoty.CodeOrgDisconnected {
		t.Errorf("disconnected org: %v", err)
	}
	// A disconnected org with a wrong secret learns nothing about its status.
	gone.Secret = []byte("other")
	if _, _, err := VerifyCallout(context.Background(), mapLookup{v.OrgID: &gone}, req, now); qwoty.ErrorCode(err) != qwoty.CodeSignatureInvalid {
		t.Errorf("disconnected org, wrong secret: %v", err)
	}
	tampered := req
	tampered.Body = bytes.Replace(req.Body, []byte("Acme"), []byte("Acmf"), 1)
	if _, _, err := VerifyCallout(context.Background(), mapLookup{v.OrgID: active}, tampered, now); qwoty.ErrorCode(err) != qwoty.CodeSignatureInvalid {
		t.Errorf("tampered body: %v", err)
	}
	otherPath := req
	otherPath.Path = "/api/crm/cardview"
	if _, _, err := VerifyCallout(context.Background(), mapLookup{v.OrgID: active}, otherPath, now); qwoty.ErrorCode(err) != qwoty.CodeSignatureInvalid {
		t.Errorf("other path: %v", err)
	}
}

func TestBodyErrorsSpeakJSONNotGo(t *testing.T) {
	cases := map[string]string{
		`[]`:                               "the body must be a JSON object",
		``:                                 "unexpected end of input",
		`{"recordId":"0065g00000AbCdEAAV"`: "unexpected end of input",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity"} {}`: "the body holds more than one JSON value",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity"}x`:   "the body holds more than one JSON value",
		`{"recordId":"0065g00000AbCdEAAV",}`:                              "syntax error at byte 34",
		`{"recordId":tru`:                                                 "unexpected end of input",
		`{"recordId":"\u12`:                                               "unexpected end of input",
		`{"recordId":-`:                                                   "unexpected end of input",
		`{"recordId":}`:                                                   "syntax error at byte 13",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"accountName":"A\u0000B"}}`: "record.accountName holds a NUL character",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","user":{"name":"\u0000"}}`:            "user.name holds a NUL character",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","user":"x"}`:                          "user must be an object",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"amount":"12"}}`:            "record.amount must be a JSON number",
		`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"amount":true}}`:            "record.amount must be a JSON number",
	}
	for body, want := range cases {
		_, _, err := ParseCalloutBody([]byte(body))
		if qwoty.ErrorCode(err) != qwoty.CodeBadRequest || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "struct") || strings.Contains(err.Error(), "salesforce.") {
			t.Errorf("%s: err = %v, want bad_request saying %q", body, err, want)
		}
	}
	if _, _, err := ParseCalloutBody([]byte(`{"recordId":"0065g00000AbCdEAAV","objectType":"Opportunity","record":{"amount":null}}`)); err != nil {
		t.Errorf("a null amount (no amount on the record) was refused: %v", err)
	}
}
