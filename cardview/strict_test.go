package cardview

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// flipUnusedBits changes the last character of a base64url string in the
// bits that carry no data (an HS256 signature of 32 bytes leaves two), so a
// lax decoder reads the same bytes from it.
func flipUnusedBits(t *testing.T, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	flipped := s[:len(s)-1] + string(alphabet[last^1])
	a, errA := base64.RawURLEncoding.DecodeString(s)
	b, errB := base64.RawURLEncoding.DecodeString(flipped)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("flipping %q's last character changed what a lax decoder reads: the test proves nothing", s)
	}
	return flipped
}

// Every token we issue has one spelling: the same signature written with
// its unused bits set, or with a line break in it, is refused, by Parse for
// both audiences and by ParseExpired.
func TestTokensAreDecodedStrictly(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	tk := testTokens(func() time.Time { return now })
	ec := crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "c1", WorkspaceID: "w1", AccountID: "00D",
		User: crm.User{ID: "005"}, Record: crm.Record{Type: "Opportunity", ID: "006"}}
	for _, aud := range []string{AudienceEmbed, AudiencePage} {
		tok, _ := tk.Issue(ec, aud, PageTTL)
		if _, err := tk.Parse(tok, aud); err != nil {
			t.Fatalf("%s: the token as issued: %v", aud, err)
		}
		if _, err := tk.ParseExpired(tok, aud); err != nil {
			t.Fatalf("%s: the token as issued, leniently: %v", aud, err)
		}
		dot := strings.LastIndexByte(tok, '.')
		variants := map[string]string{
			"unused bits set": tok[:dot+1] + flipUnusedBits(t, tok[dot+1:]),
			"line break":      tok[:dot+5] + "\n" + tok[dot+5:],
			"carriage return": tok[:dot+5] + "\r" + tok[dot+5:],
		}
		for name, bad := range variants {
			if _, err := tk.Parse(bad, aud); qwoty.ErrorCode(err) != qwoty.CodeTokenInvalid {
				t.Errorf("%s token, signature with %s: %v; want token_invalid", aud, name, err)
			}
			if _, err := tk.ParseExpired(bad, aud); err == nil {
				t.Errorf("%s token, signature with %s: ParseExpired accepted it", aud, name)
			}
		}
	}
}
