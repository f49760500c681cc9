package hubspot_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/qwoty"
)

// The client secret format of HubSpot's own validation examples.
const docSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"

var (
	signedAt = time.UnixMilli(1700000000000)
	tsHeader = "1700000000000"
	// cardURI is a card request as it travels: the email's "@" encoded.
	cardURI = "https://quotes.example.com/api/crm/hubspot/card?associatedObjectId=1234&associatedObjectType=DEAL" +
		"&userId=42&portalId=62515&userEmail=rep%40acme.example&appId=777"
	// cardSig was computed outside Go (openssl dgst -sha256 -hmac, then
	// base64) over "GET" + the URI with %40 decoded + "" + "1700000000000".
	cardSig = "l0P0X0lK1fFP2GcQ87+Km2J3swtRCjxjfKltjOe3dBg="
)

// mac computes a v3 signature from the message written out by hand, without
// the package, so that the package is checked against the guide, not
// against itself.
func mac(secret, message string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(message))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestSignV3MatchesIndependentVectors(t *testing.T) {
	tests := []struct {
		name, method, uri, body string
		// message is the string HubSpot's guide says to sign, by hand.
		message string
		// fixed, when set, was computed with openssl.
		fixed string
	}{
		{
			name: "card GET with an encoded email", method: "GET", uri: cardURI,
			message: "GET" + "https://quotes.example.com/api/crm/hubspot/card?associatedObjectId=1234&associatedObjectType=DEAL" +
				"&userId=42&portalId=62515&userEmail=rep@acme.example&appId=777" + "1700000000000",
			fixed: cardSig,
		},
		{
			name: "every listed escape decoded, every other kept", method: "GET",
			uri:     "https://quotes.example.com/api/crm/hubspot/card?q=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&keep=%20%26%3D%25%2B%3a%5B",
			message: "GET" + "https://quotes.example.com/api/crm/hubspot/card?q=:/?@!$'()*,;&keep=%20%26%3D%25%2B%3a%5B" + "1700000000000",
			fixed:   "tSSY/6jtFA8qjXpWPKklzbHKF3Pr8u8QmA+JgbYgH+k=",
		},
		{
			name: "POST with a body", method: "POST", uri: "https://quotes.example.com/api/crm/hubspot/card?portalId=62515",
			body:    `{"dealId":"1234","note":"a+b"}`,
			message: "POST" + "https://quotes.example.com/api/crm/hubspot/card?portalId=62515" + `{"dealId":"1234","note":"a+b"}` + "1700000000000",
			fixed:   "azLKxOPaXGAX5K/IkxwJLvbCMR926Slu6TxgGXnK/Rk=",
		},
		{
			name: "already decoded URI signs the same", method: "GET",
			uri:     "https://quotes.example.com/c?userEmail=rep@acme.example",
			message: "GET" + "https://quotes.example.com/c?userEmail=rep@acme.example" + "1700000000000",
		},
		{
			name: "truncated escape at the end stays", method: "GET",
			uri:     "https://quotes.example.com/c?x=%3",
			message: "GET" + "https://quotes.example.com/c?x=%3" + "1700000000000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mac(docSecret, tt.message)
			if tt.fixed != "" && want != tt.fixed {
				t.Fatalf("test helper gives %s, openssl gave %s", want, tt.fixed)
			}
			got := hubspot.SignV3(docSecret, tt.method, tt.uri, []byte(tt.body), signedAt)
			if got != want {
				t.Errorf("SignV3 = %s, want %s (over %q)", got, want, tt.message)
			}
			if err := hubspot.VerifyV3(docSecret, tt.method, tt.uri, []byte(tt.body), want, tsHeader, signedAt); err != nil {
				t.Errorf("VerifyV3 of the independent signature: %v", err)
			}
		})
	}
}

func TestVerifyV3RefusesTampering(t *testing.T) {
	now := signedAt.Add(time.Minute)
	tests := []struct {
		name, secret, method, uri, body, sig, ts string
		want                                     qwoty.Code
	}{
		{"untouched", docSecret, "GET", cardURI, "", cardSig, tsHeader, ""},
		{"another portal in the query", docSecret, "GET", replace(cardURI, "portalId=62515", "portalId=62516"), "", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"another host", docSecret, "GET", replace(cardURI, "quotes.example.com", "evil.example.com"), "", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"http instead of https", docSecret, "GET", replace(cardURI, "https://", "http://"), "", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"a body added", docSecret, "GET", cardURI, "{}", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"another method", docSecret, "POST", cardURI, "", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"timestamp moved by 1 ms", docSecret, "GET", cardURI, "", cardSig, "1700000000001", qwoty.CodeSignatureInvalid},
		{"wrong secret", "zzzzzzzz-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "GET", cardURI, "", cardSig, tsHeader, qwoty.CodeSignatureInvalid},
		{"a flipped signature bit", docSecret, "GET", cardURI, "", flip(cardSig), tsHeader, qwoty.CodeSignatureInvalid},
		{"no signature", docSecret, "GET", cardURI, "", "", tsHeader, qwoty.CodeSignatureMissing},
		{"no timestamp", docSecret, "GET", cardURI, "", cardSig, "", qwoty.CodeBadRequest},
		{"timestamp in seconds far away", docSecret, "GET", cardURI, "", cardSig, "1700000000", qwoty.CodeTimestampOutOfRange},
		{"timestamp not a number", docSecret, "GET", cardURI, "", cardSig, "17e11", qwoty.CodeBadRequest},
		{"timestamp with a sign", docSecret, "GET", cardURI, "", cardSig, "+1700000000000", qwoty.CodeBadRequest},
		{"negative timestamp", docSecret, "GET", cardURI, "", cardSig, "-1", qwoty.CodeBadRequest},
		{"signature not base64", docSecret, "GET", cardURI, "", "not base64!", tsHeader, qwoty.CodeBadRequest},
		{"signature too short", docSecret, "GET", cardURI, "", base64.StdEncoding.EncodeToString([]byte("short")), tsHeader, qwoty.CodeBadRequest},
		{"hex instead of base64", docSecret, "GET", cardURI, "", hex.EncodeToString(make([]byte, 32)), tsHeader, qwoty.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hubspot.VerifyV3(tt.secret, tt.method, tt.uri, []byte(tt.body), tt.sig, tt.ts, now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("VerifyV3: %v, want success", err)
				}
				return
			}
			if got := qwoty.ErrorCode(err); got != tt.want {
				t.Errorf("VerifyV3 error %v has code %s, want %s", err, got, tt.want)
			}
		})
	}
}

func TestVerifyV3FiveMinuteEdge(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"exactly 5 minutes old", signedAt.Add(5 * time.Minute), true},
		{"5 minutes and 1 ms old", signedAt.Add(5*time.Minute + time.Millisecond), false},
		{"exactly 5 minutes ahead of us", signedAt.Add(-5 * time.Minute), true},
		{"5 minutes and 1 ms ahead of us", signedAt.Add(-5*time.Minute - time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hubspot.VerifyV3(docSecret, "GET", cardURI, nil, cardSig, tsHeader, tt.now)
			if tt.ok && err != nil {
				t.Errorf("VerifyV3: %v, want success", err)
			}
			if !tt.ok && qwoty.ErrorCode(err) != qwoty.CodeTimestampOutOfRange {
				t.Errorf("VerifyV3: %v, want timestamp_out_of_range", err)
			}
		})
	}
}

// A request whose timestamp is stale must be refused as stale even with a
// good MAC: the window is checked, not only the MAC.
func TestVerifyV3RefusesAReplayWithAValidSignature(t *testing.T) {
	err := hubspot.VerifyV3(docSecret, "GET", cardURI, nil, cardSig, tsHeader, signedAt.Add(time.Hour))
	if qwoty.ErrorCode(err) != qwoty.CodeTimestampOutOfRange {
		t.Fatalf("VerifyV3 an hour later: %v, want timestamp_out_of_range", err)
	}
}

func TestVerifyV3RefusesWithoutSecret(t *testing.T) {
	// The MAC of an empty key is easy to forge: no secret must never mean
	// "anything goes", nor a caller's fault.
	forged := mac("", "GET"+cardURI+tsHeader)
	err := hubspot.VerifyV3("", "GET", cardURI, nil, forged, tsHeader, signedAt)
	if err == nil {
		t.Fatal("VerifyV3 with no secret accepted a request")
	}
	if qwoty.ErrorCode(err) != qwoty.CodeInternal {
		t.Errorf("VerifyV3 with no secret: code %s, want internal (our configuration)", qwoty.ErrorCode(err))
	}
}

// HubSpot's published legacy examples are valid v1 and v2 signatures, and
// they must not authenticate a card request: only v3 carries a time.
func TestLegacySignaturesDoNotAuthenticate(t *testing.T) {
	v2 := sha256.Sum256([]byte(docSecret + "GET" + "https://www.example.com/webhook_uri"))
	if got := hex.EncodeToString(v2[:]); got != "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e" {
		t.Fatalf("HubSpot's v2 example does not reproduce: %s", got)
	}
	v1Body := `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	v1 := sha256.Sum256([]byte(docSecret + v1Body))
	if got := hex.EncodeToString(v1[:]); got != "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de" {
		t.Fatalf("HubSpot's v1 example does not reproduce: %s", got)
	}
	// What a legacy request offers: its X-HubSpot-Signature, and no v3
	// header. Passing the legacy value where v3 is read fails too.
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	if err := hubspot.VerifyV3(docSecret, "GET", "https://www.example.com/webhook_uri", nil, "", ts, now); qwoty.ErrorCode(err) != qwoty.CodeSignatureMissing {
		t.Errorf("v2-only request: %v, want signature_missing", err)
	}
	if err := hubspot.VerifyV3(docSecret, "GET", "https://www.example.com/webhook_uri", nil, hex.EncodeToString(v2[:]), ts, now); err == nil {
		t.Error("a v2 signature was accepted as v3")
	}
	if err := hubspot.VerifyV3(docSecret, "POST", "https://www.example.com/webhook_uri", []byte(v1Body), base64.StdEncoding.EncodeToString(v1[:]), ts, now); qwoty.ErrorCode(err) != qwoty.CodeSignatureInvalid {
		t.Errorf("a v1 signature in the v3 header: %v, want signature_invalid", err)
	}
}

func TestSignV3UsesMilliseconds(t *testing.T) {
	at := time.UnixMilli(1700000000123).Add(456 * time.Microsecond)
	want := mac(docSecret, "GET"+"https://q.example/c"+"1700000000123")
	if got := hubspot.SignV3(docSecret, "GET", "https://q.example/c", nil, at); got != want {
		t.Errorf("SignV3 = %s, want the signature over the millisecond timestamp %s", got, want)
	}
}

// replace changes old into new once, and fails loudly when old is absent so
// that a tampering case cannot silently test the untouched request.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not in " + s)
	}
	return strings.Replace(s, old, new, 1)
}

func flip(sig string) string {
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		panic(err)
	}
	b[7] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// A v3 signature has one spelling: with the unused bits of its last base64
// character set (a lax decoder reads the same 32 bytes) or with a line
// break in it, it is refused.
func TestVerifyV3DecodesStrictly(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := len(cardSig) - 2 // the last character before the "=" of padding
	flipped := cardSig[:last] + string(alphabet[strings.IndexByte(alphabet, cardSig[last])^1]) + cardSig[last+1:]
	a, _ := base64.StdEncoding.DecodeString(cardSig)
	b, err := base64.StdEncoding.DecodeString(flipped)
	if err != nil || string(a) != string(b) {
		t.Fatalf("%q does not decode as %q does: the test proves nothing", flipped, cardSig)
	}
	now := signedAt.Add(time.Minute)
	if err := hubspot.VerifyV3(docSecret, "GET", cardURI, nil, cardSig, tsHeader, now); err != nil {
		t.Fatalf("the signature as HubSpot writes it: %v", err)
	}
	for name, sig := range map[string]string{
		"unused bits set": flipped,
		"line break":      cardSig[:20] + "\n" + cardSig[20:],
		"CRLF at the end": cardSig + "\r\n",
	} {
		if err := hubspot.VerifyV3(docSecret, "GET", cardURI, nil, sig, tsHeader, now); qwoty.ErrorCode(err) != qwoty.CodeBadRequest {
			t.Errorf("signature with %s: %v; want bad_request", name, err)
		}
	}
}

// A timestamp as far out as the header's fifteen digits allow gives a true
// gap in the message, not time.Duration's saturated 2562047h47m16.854s.
func TestVerifyV3SkewMessageForAnyTimestamp(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for ts, says := range map[string]string{
		"999999999999999": "31652 years",
		"0":               "56 years",
		strconv.FormatInt(now.UnixMilli()+360_500, 10):          "6m0.5s",
		strconv.FormatInt(now.UnixMilli()-400*86_400_000-1, 10): "400 days",
	} {
		err := hubspot.VerifyV3(docSecret, "GET", cardURI, nil, cardSig, ts, now)
		want := "the request timestamp is " + says + " away from the server's clock (limit 5m0s)"
		if e := qwoty.AsError(err); e.Code != qwoty.CodeTimestampOutOfRange || e.Message != want {
			t.Errorf("timestamp %s: %s %q; want timestamp_out_of_range %q", ts, e.Code, e.Message, want)
		}
	}
}
