package cardview

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// A card session ends SessionMaxAge after the signed request that opened it,
// however diligently the page refreshes: every refresh gets a fresh page
// token, each carries the first start, none expires past the end, and the
// first refresh at the end is refused with token_expired.
func TestSessionEndsAtItsAbsoluteLifetime(t *testing.T) {
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	now := start
	tk := testTokens(func() time.Time { return now })
	ec := crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "c1", WorkspaceID: "w1", AccountID: "00D",
		User: crm.User{ID: "005"}, Record: crm.Record{Type: "Opportunity", ID: "006"}}

	embed, _ := tk.Issue(ec, AudienceEmbed, EmbedTTL) // the callout's answer
	now = now.Add(2 * time.Minute)                    // the iframe loads
	ecl, err := tk.Parse(embed, AudienceEmbed)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := tk.Issue(ecl.Context(), AudiencePage, PageTTL) // as the card page does
	refreshes := 0
	for {
		now = now.Add(10 * time.Minute) // the page's refresh period
		c, err := tk.Parse(page, AudiencePage)
		if err != nil {
			if now.Before(start.Add(SessionMaxAge)) {
				t.Fatalf("at %s the page token of the last refresh was refused: %v", now.Sub(start), err)
			}
			if qwoty.ErrorCode(err) != qwoty.CodeTokenExpired {
				t.Fatalf("at %s: %v; want token_expired", now.Sub(start), err)
			}
			break
		}
		if got := c.Context().SessionStart; !got.Equal(start) {
			t.Fatalf("refresh %d carries session start %s; want the first one, %s", refreshes, got, start)
		}
		next, exp, err := tk.Refresh(c)
		if !now.Before(start.Add(SessionMaxAge)) {
			if qwoty.ErrorCode(err) != qwoty.CodeTokenExpired {
				t.Fatalf("a refresh %s after the session began gave %v, %v; want token_expired", now.Sub(start), exp, err)
			}
			if e := qwoty.AsError(err); !strings.Contains(e.Hint, "Reload") {
				t.Fatalf("token_expired hint %q; want it to say reloading the CRM page gives a new card", e.Hint)
			}
			break
		}
		if err != nil {
			t.Fatalf("refresh at %s: %v", now.Sub(start), err)
		}
		if exp.After(start.Add(SessionMaxAge)) {
			t.Fatalf("refresh at %s expires at %s, past the session's end %s", now.Sub(start), exp, start.Add(SessionMaxAge))
		}
		page = next
		refreshes++
	}
	if want := int(SessionMaxAge/(10*time.Minute)) - 1; refreshes < want-1 || refreshes > want {
		t.Fatalf("%d refreshes before the end; want about %d", refreshes, want)
	}
	// The last token issued is not usable past the end either, leeway or not.
	now = start.Add(SessionMaxAge)
	if _, err := tk.Parse(page, AudiencePage); qwoty.ErrorCode(err) != qwoty.CodeTokenExpired {
		t.Fatalf("the last page token at the session's end: %v; want token_expired", err)
	}
}

// Nothing a page holds moves its session's start: the start is signed into
// the token, copied by a refresh, and a page token without one (issued
// before sessions had a start) is refused rather than given a new session.
func TestSessionStartCannotBeExtended(t *testing.T) {
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	end := start.Add(SessionMaxAge)
	now := end.Add(-10 * time.Minute)
	tk := testTokens(func() time.Time { return now })
	ec := crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "c1", WorkspaceID: "w1", AccountID: "00D",
		Record: crm.Record{Type: "Opportunity", ID: "006"}, SessionStart: start}
	page, exp := tk.Issue(ec, AudiencePage, PageTTL)
	if !exp.Equal(end) {
		t.Fatalf("page token 10 minutes before the end expires at %s; want the end, %s", exp, end)
	}
	now = end.Add(-5 * time.Minute)
	c, err := tk.Parse(page, AudiencePage)
	if err != nil {
		t.Fatal(err)
	}
	_, exp, err = tk.Refresh(c)
	if err != nil || !exp.Equal(end) {
		t.Fatalf("refresh 5 minutes before the end: expires %s, %v; want the end, %s", exp, err, end)
	}

	// Re-issuing from a context that lost its start would begin a new
	// session: Issue does that only for a fresh CRM request, and the claims
	// of any token always give their start back.
	if got := c.Context().SessionStart; !got.Equal(start) {
		t.Fatalf("claims give session start %s; want %s", got, start)
	}

	// A page token with no auth_time, signed with our key.
	legacy := signClaims(t, tk, `{"iss":"qwoty","aud":["qwoty-page"],"exp":`+unix(now.Add(time.Minute))+`,"iat":`+unix(now)+
		`,"prv":"salesforce","cid":"c1","wid":"w1","rec":{"type":"Opportunity","id":"006"}}`)
	if _, err := tk.Parse(legacy, AudiencePage); qwoty.ErrorCode(err) != qwoty.CodeTokenExpired {
		t.Fatalf("a page token without a session start: %v; want token_expired", err)
	}
	// A start after the token's own issue time is not one we write.
	future := signClaims(t, tk, `{"iss":"qwoty","aud":["qwoty-page"],"exp":`+unix(now.Add(time.Minute))+`,"iat":`+unix(now)+
		`,"auth_time":`+unix(now.Add(time.Second))+`,"prv":"salesforce","cid":"c1","wid":"w1","rec":{"type":"Opportunity","id":"006"}}`)
	if _, err := tk.Parse(future, AudiencePage); qwoty.ErrorCode(err) != qwoty.CodeTokenInvalid {
		t.Fatalf("a session start after iat: %v; want token_invalid", err)
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// signClaims signs a hand-written payload with tk's signing key.
func signClaims(t *testing.T, tk *Tokens, payload string) string {
	t.Helper()
	k := tk.keys[0]
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte(signing))
	return signing + "." + b64raw(m.Sum(nil))
}
