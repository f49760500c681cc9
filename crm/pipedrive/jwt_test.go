package pipedrive_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
)

// These tests build every token by hand (base64url JSON and an HMAC from the
// standard library), so that they do not trust the JWT library they test.

var (
	jwtSecret    = []byte("panel-jwt-secret-from-developer-hub")
	clientSecret = []byte("app-client-secret")
	t0           = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// handToken signs header.payload with HMAC-SHA256 (or SHA-512 when sha512
// is set) keyed with key; a nil key gives an empty signature.
func handToken(header, payload string, key []byte, useSHA512 bool) string {
	signing := b64(header) + "." + b64(payload)
	if key == nil {
		return signing + "."
	}
	h := sha256.New
	if useSHA512 {
		h = sha512.New
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

const hs256 = `{"alg":"HS256","typ":"JWT"}`

// payload is a Pipedrive-like payload issued at t0 and valid 5 minutes.
func payload(extra string) string {
	p := `{"userId":12345,"companyId":54321,"iat":1795341600,"exp":1795341900`
	if extra != "" {
		p += "," + extra
	}
	return p + "}"
}

func wantCode(t *testing.T, err error, code qwoty.Code) {
	t.Helper()
	var qe *qwoty.Error
	if !errors.As(err, &qe) {
		t.Fatalf("error = %v, want a qwoty error with code %s", err, code)
	}
	if qe.Code != code {
		t.Fatalf("code = %s (%v), want %s", qe.Code, err, code)
	}
}

func TestVerifyAcceptsPipedriveToken(t *testing.T) {
	if t0.Unix() != 1795341600 {
		t.Fatalf("t0 is %d, the payloads assume 1795341600", t0.Unix())
	}
	cases := []struct {
		name, payload string
	}{
		{"ids as numbers", payload("")},
		{"ids as strings", `{"userId":"12345","companyId":"54321","iat":1795341600,"exp":1795341900}`},
		{"no iat", `{"userId":12345,"companyId":54321,"exp":1795341900}`},
		{"extra claims ignored", payload(`"id":"abc","foo":{"bar":1}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := handToken(hs256, c.payload, jwtSecret, false)
			got, err := pipedrive.VerifyPanelToken(tok, pipedrive.PanelSecrets(string(jwtSecret), string(clientSecret)), t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if got.UserID != 12345 || got.CompanyID != 54321 || got.UserKey() != "12345" || got.CompanyKey() != "54321" {
				t.Errorf("claims = %+v, want user 12345 of company 54321", got)
			}
			if !got.ExpiresAt.Equal(t0.Add(5 * time.Minute)) {
				t.Errorf("expires at %s, want %s", got.ExpiresAt, t0.Add(5*time.Minute))
			}
		})
	}
}

func TestPanelSecretsFollowPipedrivesChoice(t *testing.T) {
	withJWT := handToken(hs256, payload(""), jwtSecret, false)
	withClient := handToken(hs256, payload(""), clientSecret, false)
	now := t0.Add(time.Minute)

	// A JWT secret is configured: Pipedrive signs with it, and only with it.
	secrets := pipedrive.PanelSecrets(string(jwtSecret), string(clientSecret))
	if _, err := pipedrive.VerifyPanelToken(withJWT, secrets, now); err != nil {
		t.Errorf("token signed with the JWT secret: %v", err)
	}
	_, err := pipedrive.VerifyPanelToken(withClient, secrets, now)
	wantCode(t, err, qwoty.CodeSignatureInvalid)

	// No JWT secret: the client secret signs.
	secrets = pipedrive.PanelSecrets("", string(clientSecret))
	if _, err := pipedrive.VerifyPanelToken(withClient, secrets, now); err != nil {
		t.Errorf("token signed with the client secret: %v", err)
	}
	_, err = pipedrive.VerifyPanelToken(withJWT, secrets, now)
	wantCode(t, err, qwoty.CodeSignatureInvalid)

	// During a rotation, either of several secrets.
	both := [][]byte{jwtSecret, clientSecret}
	for _, tok := range []string{withJWT, withClient} {
		if _, err := pipedrive.VerifyPanelToken(tok, both, now); err != nil {
			t.Errorf("rotation: %v", err)
		}
	}
}

func TestVerifyRefusesForgedTokens(t *testing.T) {
	now := t0.Add(time.Minute)
	good := handToken(hs256, payload(""), jwtSecret, false)
	parts := strings.Split(good, ".")

	cases := []struct {
		name, token string
		code        qwoty.Code
	}{
		{"no token", "", qwoty.CodeSignatureMissing},
		{"alg none, no signature", handToken(`{"alg":"none","typ":"JWT"}`, payload(""), nil, false), qwoty.CodeSignatureInvalid},
		{"alg none, signature kept", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "." + parts[2], qwoty.CodeSignatureInvalid},
		{"alg None", handToken(`{"alg":"None"}`, payload(""), nil, false), qwoty.CodeSignatureInvalid},
		{"HS512 with the right secret", handToken(`{"alg":"HS512","typ":"JWT"}`, payload(""), jwtSecret, true), qwoty.CodeSignatureInvalid},
		// Key confusion: RS256 named, HMAC-SHA256 keyed with the secret.
		{"RS256 signed with the secret", handToken(`{"alg":"RS256","typ":"JWT"}`, payload(""), jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"no alg", handToken(`{"typ":"JWT"}`, payload(""), jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"wrong secret", handToken(hs256, payload(""), []byte("guess"), false), qwoty.CodeSignatureInvalid},
		{"companyId tampered", parts[0] + "." + b64(`{"userId":12345,"companyId":54322,"iat":1795341600,"exp":1795341900}`) + "." + parts[2], qwoty.CodeSignatureInvalid},
		{"exp extended", parts[0] + "." + b64(`{"userId":12345,"companyId":54321,"iat":1795341600,"exp":1895341900}`) + "." + parts[2], qwoty.CodeSignatureInvalid},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(handToken(hs256, payload(`"x":1`), jwtSecret, false), ".")[2], qwoty.CodeSignatureInvalid},
		{"signature cut", parts[0] + "." + parts[1] + "." + parts[2][:20], qwoty.CodeSignatureInvalid},
		{"two segments", parts[0] + "." + parts[1], qwoty.CodeSignatureInvalid},
		{"garbage", "not-a-jwt", qwoty.CodeSignatureInvalid},
		{"payload not JSON", handToken(hs256, "userId=1", jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"no exp", handToken(hs256, `{"userId":12345,"companyId":54321,"iat":1795341600}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"exp not a number", handToken(hs256, `{"userId":12345,"companyId":54321,"exp":"soon"}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"no userId", handToken(hs256, `{"companyId":54321,"exp":1795341900}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"no companyId", handToken(hs256, `{"userId":12345,"exp":1795341900}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"companyId not an integer", handToken(hs256, `{"userId":12345,"companyId":"acme","exp":1795341900}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
		{"companyId negative", handToken(hs256, `{"userId":12345,"companyId":-1,"exp":1795341900}`, jwtSecret, false), qwoty.CodeSignatureInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims, err := pipedrive.VerifyPanelToken(c.token, [][]byte{jwtSecret}, now)
			if claims != nil {
				t.Errorf("claims = %+v, want none", claims)
			}
			wantCode(t, err, c.code)
		})
	}
}

func TestVerifyChecksTime(t *testing.T) {
	tok := handToken(hs256, payload(""), jwtSecret, false)
	exp := t0.Add(5 * time.Minute)
	cases := []struct {
		name string
		now  time.Time
		code qwoty.Code // "" when valid
	}{
		{"just issued", t0, ""},
		{"just before exp", exp.Add(-time.Second), ""},
		{"exp within the clock skew", exp.Add(pipedrive.ClockSkew - time.Second), ""},
		{"expired", exp.Add(pipedrive.ClockSkew + time.Second), qwoty.CodeTimestampOutOfRange},
		{"long expired", exp.Add(24 * time.Hour), qwoty.CodeTimestampOutOfRange},
		{"issued in the future beyond the skew", t0.Add(-pipedrive.ClockSkew - time.Second), qwoty.CodeTimestampOutOfRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pipedrive.VerifyPanelToken(tok, [][]byte{jwtSecret}, c.now)
			if c.code == "" {
				if err != nil {
					t.Fatalf("verify at %s: %v, want valid", c.now, err)
				}
				return
			}
			wantCode(t, err, c.code)
		})
	}

	// An expired token with a bad signature is refused for its signature:
	// its dates mean nothing.
	forged := handToken(hs256, payload(""), []byte("guess"), false)
	_, err := pipedrive.VerifyPanelToken(forged, [][]byte{jwtSecret}, exp.Add(time.Hour))
	wantCode(t, err, qwoty.CodeSignatureInvalid)
}

func TestVerifyWithoutSecretIsOurFault(t *testing.T) {
	tok := handToken(hs256, payload(""), jwtSecret, false)
	for _, secrets := range [][][]byte{nil, {nil}, {[]byte("")}} {
		_, err := pipedrive.VerifyPanelToken(tok, secrets, t0)
		if err == nil || qwoty.ErrorCode(err) != qwoty.CodeInternal {
			t.Errorf("secrets %q: error %v, want an internal error", secrets, err)
		}
	}
	// An empty-key HMAC must not verify even when listed beside a real one.
	emptyKeyed := handToken(hs256, payload(""), []byte{}, false)
	_, err := pipedrive.VerifyPanelToken(emptyKeyed, [][]byte{{}, jwtSecret}, t0)
	wantCode(t, err, qwoty.CodeSignatureInvalid)
}

func TestSignPanelTokenIsPipedrivesShape(t *testing.T) {
	tok, err := pipedrive.SignPanelToken(jwtSecret, pipedrive.Claims{UserID: 7, CompanyID: 9, IssuedAt: t0, ExpiresAt: t0.Add(pipedrive.SignedTokenTTL)})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", tok, len(parts))
	}
	// The signature, computed here independently.
	mac := hmac.New(sha256.New, jwtSecret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); parts[2] != want {
		t.Errorf("signature %s, want HMAC-SHA256 %s", parts[2], want)
	}
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &header); err != nil || header["alg"] != "HS256" {
		t.Errorf("header %s, want alg HS256", raw)
	}
	raw, _ = base64.RawURLEncoding.DecodeString(parts[1])
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("payload %s: %v", raw, err)
	}
	want := map[string]float64{"userId": 7, "companyId": 9, "iat": float64(t0.Unix()), "exp": float64(t0.Add(5 * time.Minute).Unix())}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("payload %s = %v (%T), want the number %v", k, p[k], p[k], v)
		}
	}
	if _, err := pipedrive.SignPanelToken(nil, pipedrive.Claims{ExpiresAt: t0}); err == nil {
		t.Error("signing with no secret succeeded")
	}
	if _, err := pipedrive.SignPanelToken(jwtSecret, pipedrive.Claims{UserID: 1, CompanyID: 1}); err == nil {
		t.Error("signing a token without expiry succeeded")
	}
}

// A token has one spelling: the same signature with the unused bits of its
// last character set (a lax base64 decoder reads the same bytes), or with a
// line break in it, is refused. The panel's token and the SDK's signed token
// are the same kind and go through the same verifier.
func TestVerifyDecodesStrictly(t *testing.T) {
	now := t0.Add(time.Minute)
	good := handToken(hs256, payload(""), jwtSecret, false)
	if _, err := pipedrive.VerifyPanelToken(good, [][]byte{jwtSecret}, now); err != nil {
		t.Fatalf("the token as signed: %v", err)
	}
	dot := strings.LastIndexByte(good, '.')
	sig := good[dot+1:]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flipped := sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1])
	if a, b := mustLax(t, sig), mustLax(t, flipped); a != b {
		t.Fatal("flipping the last character changed the signature's bytes: the test proves nothing")
	}
	for name, bad := range map[string]string{
		"unused bits set": good[:dot+1] + flipped,
		"line break":      good[:dot+5] + "\n" + good[dot+5:],
		"padding":         good + "=",
	} {
		t.Run(name, func(t *testing.T) {
			claims, err := pipedrive.VerifyPanelToken(bad, [][]byte{jwtSecret}, now)
			if claims != nil {
				t.Errorf("claims = %+v, want none", claims)
			}
			wantCode(t, err, qwoty.CodeSignatureInvalid)
		})
	}
}

// mustLax decodes s as a lax base64url decoder does (unused bits ignored).
func mustLax(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
