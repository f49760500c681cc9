package cardview

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

func testTokens(now func() time.Time) *Tokens {
	return NewTokens(now, Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
}

func TestTokensRoundTripAndRefusals(t *testing.T) {
	now := time.Unix(1_763_805_600, 0)
	clock := func() time.Time { return now }
	tk := testTokens(clock)
	ec := crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "c1", WorkspaceID: "w1", AccountID: "00D",
		User: crm.User{ID: "005"}, Record: crm.Record{Type: "Opportunity", ID: "006", Currency: "USD"}}
	tok, exp := tk.Issue(ec, AudienceEmbed, EmbedTTL)
	if exp.Sub(now) != EmbedTTL {
		t.Fatalf("Issue: exp %v", exp)
	}
	c, err := tk.Parse(tok, AudienceEmbed)
	if err != nil || c.Context().Record.ID != "006" || c.Context().Record.Currency != "USD" {
		t.Fatalf("Parse: %+v, %v", c, err)
	}
	header, _, _ := jwt.NewParser().ParseUnverified(tok, &Claims{})
	if header.Header["kid"] != "k1" || header.Header["alg"] != "HS256" {
		t.Fatalf("header = %v", header.Header)
	}

	if _, err := tk.Parse(tok, AudiencePage); qwoty.ErrorCode(err) != qwoty.CodeTokenInvalid {
		t.Errorf("embed token used as page token: %v", err)
	}
	later := testTokens(func() time.Time { return now.Add(EmbedTTL + 10*time.Second) })
	if _, err := later.Parse(tok, AudienceEmbed); qwoty.ErrorCode(err) != qwoty.CodeTokenExpired {
		t.Errorf("expired: %v", err)
	}
	other := NewTokens(clock, Key{ID: "k1", Secret: bytes.Repeat([]byte{2}, 32)})
	if _, err := other.Parse(tok, AudienceEmbed); qwoty.ErrorCode(err) != qwoty.CodeTokenInvalid {
		t.Errorf("other key: %v", err)
	}
	// Rotation: a verifier holding the old key second still accepts.
	rotated := NewTokens(clock, Key{ID: "k2", Secret: bytes.Repeat([]byte{3}, 32)}, Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	if _, err := rotated.Parse(tok, AudienceEmbed); err != nil {
		t.Errorf("token of the previous key refused after rotation: %v", err)
	}

	parts := strings.Split(tok, ".")
	claims := parts[1]
	forge := func(header string, sign func(string) string) string {
		h := b64(header)
		return h + "." + claims + "." + sign(h+"."+claims)
	}
	hs := func(alg func() []byte) func(string) string {
		return func(in string) string {
			m := hmac.New(sha256.New, alg())
			m.Write([]byte(in))
			return b64raw(m.Sum(nil))
		}
	}
	key := func() []byte { return bytes.Repeat([]byte{1}, 32) }
	cases := map[string]string{
		"alg none":       forge(`{"alg":"none","typ":"JWT","kid":"k1"}`, func(string) string { return "" }),
		"alg HS512":      forge(`{"alg":"HS512","typ":"JWT","kid":"k1"}`, hs(key)),
		"alg RS256":      forge(`{"alg":"RS256","typ":"JWT","kid":"k1"}`, hs(key)),
		"unknown kid":    forge(`{"alg":"HS256","typ":"JWT","kid":"k9"}`, hs(key)),
		"tampered claim": parts[0] + "." + b64(`{"iss":"qwoty","aud":["qwoty-embed"],"exp":9999999999,"iat":1,"cid":"c2","wid":"w2","rec":{"id":"x"}}`) + "." + parts[2],
		"garbage":        "not.a.token",
	}
	for name, bad := range cases {
		if _, err := tk.Parse(bad, AudienceEmbed); qwoty.ErrorCode(err) != qwoty.CodeTokenInvalid {
			t.Errorf("%s: err = %v, want token_invalid", name, err)
		}
	}
	if _, err := tk.Parse("", AudienceEmbed); qwoty.ErrorCode(err) != qwoty.CodeTokenMissing {
		t.Errorf("empty: %v", err)
	}
}

func b64(s string) string    { return b64raw([]byte(s)) }
func b64raw(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
