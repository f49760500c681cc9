package cardview

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Strings that need every kind of escaping JSON has.
var awkward = []string{
	"", "plain", `quote " and backslash \`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "Zoë Ünïcode ✓ 日本", "line\u2028para\u2029", "bad \xff\xfe utf8", "\xe2\x80", "emoji 🙂",
}

// marshalPlain is encoding/json's output with HTML escaping off, as
// appendJSONString claims to match.
func marshalPlain(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := appendJSONString([]byte("x"), s), append([]byte("x"), marshalPlain(t, s)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: wrote %s, encoding/json writes %s", s, got, want)
		}
	})
}

// The hand-written answer is exactly the contract's JSON: the bytes
// encoding/json writes for a struct with the contract's field names.
func TestAnswerJSONIsTheContractsShape(t *testing.T) {
	type quote struct {
		ID        string       `json:"id"`
		Number    string       `json:"number"`
		Title     string       `json:"title"`
		Status    qwoty.Status `json:"status"`
		Total     string       `json:"total"`
		Currency  string       `json:"currency"`
		UpdatedAt time.Time    `json:"updatedAt"`
		URL       string       `json:"url"`
		Primary   bool         `json:"primary"`
		Sync      struct {
			State   qwoty.SyncState `json:"state"`
			At      time.Time       `json:"at,omitzero"`
			Code    qwoty.Code      `json:"code"`
			Message string          `json:"message"`
		} `json:"sync"`
	}
	type answer struct {
		EmbedURL  string    `json:"embedUrl"`
		ExpiresAt time.Time `json:"expiresAt"`
		Record    struct {
			ID string `json:"id"`
		} `json:"record"`
		Quotes []quote `json:"quotes"`
	}
	at := time.Date(2026, 11, 22, 10, 5, 0, 123456000, time.UTC)
	for _, n := range []int{0, 1, len(awkward)} {
		a := &Answer{EmbedURL: "https://app.example/embed/salesforce/card?token=eyJ.a-b_c.d", ExpiresAt: at,
			Record: AnswerRecord{ID: "0065g00000AbCdEAAZ"}, Quotes: []QuoteSummary{}, ConnectionID: "not on the wire"}
		want := answer{EmbedURL: a.EmbedURL, ExpiresAt: at, Quotes: []quote{}}
		want.Record.ID = a.Record.ID
		for i := range n {
			s := awkward[i]
			q := QuoteSummary{ID: "id-" + s, Number: "Q-0000" + s, Title: s, Status: qwoty.Status(s), Total: "1234.50",
				Currency: "USD", UpdatedAt: at.Add(time.Duration(i) * time.Hour).In(time.FixedZone("x", 3600)),
				// Every other quote is primary and was pushed (its sync time
				// written); the others never were (no "at").
				Primary: i%2 == 0, Sync: QuoteSync{State: qwoty.SyncState(s), Code: qwoty.Code(s), Message: s}}
			if q.Primary {
				q.Sync.At = at.Add(-time.Duration(i) * time.Minute)
			}
			a.Quotes = append(a.Quotes, q)
			w := quote{ID: q.ID, Number: q.Number, Title: q.Title, Status: q.Status, Total: q.Total, Currency: q.Currency,
				UpdatedAt: q.UpdatedAt, URL: a.QuoteURL(q.ID), Primary: q.Primary}
			w.Sync.State, w.Sync.At, w.Sync.Code, w.Sync.Message = q.Sync.State, q.Sync.At, q.Sync.Code, q.Sync.Message
			want.Quotes = append(want.Quotes, w)
		}
		got := a.AppendJSON(nil)
		if w := marshalPlain(t, want); !bytes.Equal(got, w) {
			t.Fatalf("%d quotes:\n got %s\nwant %s", n, got, w)
		}
	}
}

// An issued token's claims are the JSON of Claims, byte for byte what
// encoding/json writes, and read back into the same context.
func TestIssuedClaimsAreClaimsJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tokens := testTokens(func() time.Time { return at })
	for i, s := range awkward {
		ec := crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "c-" + s, WorkspaceID: "w", AccountID: "00D" + s,
			User:   crm.User{ID: "005" + s, Email: s, Name: s, Locale: s, TimeZone: s},
			Record: crm.Record{Type: "Opportunity", ID: "006" + s, Name: s, AccountID: s, AccountName: s, Currency: s}}
		if i == 0 {
			ec.User = crm.User{} // no subject, every optional field empty
		}
		tok, exp := tokens.Issue(ec, AudiencePage, PageTTL)
		if !exp.Equal(at.Add(PageTTL)) {
			t.Fatalf("issued to expire at %s, want %s", exp, at.Add(PageTTL))
		}
		parts := strings.Split(tok, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || len(parts) != 3 {
			t.Fatalf("token %q: %v", tok, err)
		}
		var jti struct {
			ID string `json:"jti"`
		}
		if err := json.Unmarshal(payload, &jti); err != nil || len(jti.ID) != 22 {
			t.Fatalf("jti %q, %v: want 16 random bytes", jti.ID, err)
		}
		want := marshalPlain(t, struct {
			Issuer       string         `json:"iss"`
			Subject      string         `json:"sub,omitempty"`
			Audience     []string       `json:"aud"`
			ExpiresAt    int64          `json:"exp"`
			IssuedAt     int64          `json:"iat"`
			ID           string         `json:"jti"`
			AuthTime     int64          `json:"auth_time"`
			Provider     qwoty.Provider `json:"prv"`
			ConnectionID string         `json:"cid"`
			WorkspaceID  string         `json:"wid"`
			AccountID    string         `json:"acc"`
			User         crm.User       `json:"usr"`
			Record       crm.Record     `json:"rec"`
		}{"qwoty", ec.User.ID, []string{AudiencePage}, exp.Unix(), at.Unix(), jti.ID, at.Unix(), ec.Provider, ec.ConnectionID, ec.WorkspaceID, ec.AccountID, ec.User, ec.Record})
		if !bytes.Equal(payload, want) {
			t.Fatalf("claims\n got %s\nwant %s", payload, want)
		}
		c, err := tokens.Parse(tok, AudiencePage)
		if err != nil {
			t.Fatalf("read back %q: %v", s, err)
		}
		back := ec // what JSON carries: each invalid UTF-8 byte becomes U+FFFD
		for _, f := range []*string{&back.ConnectionID, &back.AccountID, &back.User.ID, &back.User.Email, &back.User.Name, &back.User.Locale,
			&back.User.TimeZone, &back.Record.ID, &back.Record.Name, &back.Record.AccountID, &back.Record.AccountName, &back.Record.Currency} {
			*f = asJSONCarries(*f)
		}
		// A token issued for a context without a session start begins one.
		got := c.Context()
		if !got.SessionStart.Equal(at) {
			t.Fatalf("read back session start %s; want %s", got.SessionStart, at)
		}
		got.SessionStart = time.Time{} // compared above (== would compare locations too)
		if got != back {
			t.Fatalf("read back: %+v; want %+v", got, back)
		}
	}
}

// asJSONCarries is s after a trip through JSON: each byte that is not
// valid UTF-8 replaced by U+FFFD, as converting to runes does.
func asJSONCarries(s string) string { return string([]rune(s)) }
