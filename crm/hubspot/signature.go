package hubspot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// HubSpot's request signature, version 3: the only one that authenticates a
// hubspot.fetch call from the app card (contracts.md §2).
//
// Versions 1 and 2 (the X-HubSpot-Signature and X-HubSpot-Signature-Version
// headers) are refused on purpose, not forgotten. HubSpot documents v1 for
// webhook (CRM object event) deliveries and v2 for workflow webhook actions
// and legacy CRM cards; hubspot.fetch is documented with the v3 headers.
// Neither legacy version carries a time: a v2 signature replays for ever, and
// a v1 signature covers only the secret and the body, so for a GET it is one
// constant per app, valid for any URL. Accepting them would void the 300 s
// window of the contract.
const (
	HeaderSignatureV3      = "X-HubSpot-Signature-v3"
	HeaderRequestTimestamp = "X-HubSpot-Request-Timestamp"

	// MaxSkew is how far a request's timestamp may be from our clock.
	// HubSpot asks to reject requests older than 5 minutes; one from more
	// than 5 minutes ahead is refused too, since no honest clock sends it.
	MaxSkew = 5 * time.Minute
)

// SignV3 computes the X-HubSpot-Signature-v3 value HubSpot sends for a
// request: base64 of HMAC-SHA256, keyed with the app's client secret, over
// method + uri + body + timestamp (Unix milliseconds). uri is the full URI
// HubSpot called (scheme, host, path and query); the characters HubSpot
// decodes before signing are decoded here too, so the wire form and the
// decoded form give the same signature.
func SignV3(secret, method, uri string, body []byte, ts time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	writeV3(mac, method, uri, body, strconv.FormatInt(ts.UnixMilli(), 10))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func writeV3(mac hash.Hash, method, uri string, body []byte, timestamp string) {
	mac.Write([]byte(method))
	mac.Write([]byte(decodeSignedURI(uri)))
	mac.Write(body)
	mac.Write([]byte(timestamp))
}

// signedURIDecodes are the percent-encodings HubSpot's validation guide says
// to decode in the URI before computing a v3 signature, and only those: any
// other escape (%20, %26, %3D, %25, ...) stays as sent. The guide lists them
// in upper case, as HubSpot's own encoder writes them; a lower-case escape is
// left alone, like any escape outside the list.
var signedURIDecodes = map[string]byte{
	"%3A": ':', "%2F": '/', "%3F": '?', "%40": '@', "%21": '!', "%24": '$',
	"%27": '\'', "%28": '(', "%29": ')', "%2A": '*', "%2C": ',', "%3B": ';',
}

// decodeSignedURI decodes the listed escapes in one left-to-right pass. A
// decoded character is never '%' or a hex digit, so the pass gives what
// replacing each escape in turn would.
func decodeSignedURI(uri string) string {
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b strings.Builder
	b.Grow(len(uri))
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+3 <= len(uri) {
			if c, ok := signedURIDecodes[uri[i:i+3]]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(uri[i])
	}
	return b.String()
}

// VerifyV3 checks a request's v3 signature: sigHeader and tsHeader are the
// X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp values as received,
// uri the full URI HubSpot called (the server rebuilds it from APP_URL), body the raw body. It
// returns a *qwoty.Error coded signature_missing, bad_request,
// timestamp_out_of_range or signature_invalid, or a plain error when no
// secret is configured (our fault, not the caller's).
func VerifyV3(secret string, method, uri string, body []byte, sigHeader, tsHeader string, now time.Time) error {
	if secret == "" {
		// An empty key is a key anyone knows: refuse rather than verify.
		return errors.New("hubspot: verify v3 signature: no client secret configured")
	}
	if sigHeader == "" {
		return qwoty.Errorf(qwoty.CodeSignatureMissing,
			"The request did not come through HubSpot's hubspot.fetch, or a proxy stripped the header.",
			"the %s header is missing", HeaderSignatureV3)
	}
	if tsHeader == "" {
		return badRequest("the %s header is missing", HeaderRequestTimestamp)
	}
	ms, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || ms < 0 || len(tsHeader) > 15 || tsHeader[0] == '+' {
		return badRequest("%s must be Unix time in milliseconds", HeaderRequestTimestamp)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew { // Sub saturates: right for any ms
		return qwoty.Errorf(qwoty.CodeTimestampOutOfRange,
			"HubSpot signs each call when it makes it: a request this far from our clock is a replay, or our server's clock is wrong.",
			"the request timestamp is %s away from the server's clock (limit %s)", crm.GapText(ms, now.UnixMilli(), time.Millisecond), MaxSkew)
	}
	got, ok := crm.DecodeMAC(sigHeader) // one spelling
	if !ok {
		return badRequest("%s must be the base64 of a 32-byte HMAC-SHA256", HeaderSignatureV3)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	writeV3(mac, method, uri, body, tsHeader)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return qwoty.Errorf(qwoty.CodeSignatureInvalid,
			"Check that HUBSPOT_CLIENT_SECRET is the client secret of the app whose card calls us, and that APP_URL is exactly the base of the URL the card fetches (the one in permittedUrls): the server rebuilds the signed URL from it.",
			"the signature does not match the HubSpot app's client secret for %s %s", method, withoutQuery(uri))
	}
	return nil
}

// withoutQuery names the URI in a message without its query, which carries
// the user's email.
func withoutQuery(uri string) string {
	base, _, _ := strings.Cut(uri, "?")
	return base
}

func badRequest(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeBadRequest,
		"HubSpot's hubspot.fetch sends these headers itself; a request without them did not come from HubSpot.",
		format, args...)
}
