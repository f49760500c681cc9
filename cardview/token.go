package cardview

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/qwoty/companion/qwoty"
)

// Token audiences: an embed token opens the card once; a page token
// authorises the page's actions while it is open.
const (
	AudienceEmbed = "qwoty-embed"
	AudiencePage  = "qwoty-page"
	issuer        = "qwoty"

	// EmbedTTL is the life of an embed URL: long enough to load the iframe.
	EmbedTTL = 5 * time.Minute
	// PageTTL is the life of a page token; the page refreshes it before then.
	PageTTL = 15 * time.Minute
)

// Claims name the connection, workspace, CRM user and record a token is for.
type Claims struct {
	jwt.RegisteredClaims
	Provider     qwoty.Provider `json:"prv"`
	ConnectionID string         `json:"cid"`
	WorkspaceID  string         `json:"wid"`
	AccountID    string         `json:"acc"`
	User         User           `json:"usr"`
	Record       Record         `json:"rec"`
}

// Context returns the embed context the claims carry.
func (c *Claims) Context() EmbedContext {
	return EmbedContext{Provider: c.Provider, ConnectionID: c.ConnectionID, WorkspaceID: c.WorkspaceID,
		AccountID: c.AccountID, User: c.User, Record: c.Record}
}

// Key is one HS256 signing key and its id.
type Key struct {
	ID     string
	Secret []byte
	header string // the encoded JOSE header naming this key, made once
}

// Tokens issues and verifies embed and page tokens. The first key signs;
// every key verifies, so a key being retired keeps open pages working.
type Tokens struct {
	keys    []Key
	parsers map[string]*jwt.Parser // one per audience
	lenient *jwt.Parser            // signature and alg only, for ParseExpired
	now     func() time.Time
}

// NewTokens builds a Tokens from its keys, the signing one first.
func NewTokens(now func() time.Time, keys ...Key) *Tokens {
	for i := range keys {
		h, _ := json.Marshal(map[string]string{"alg": jwt.SigningMethodHS256.Alg(), "kid": keys[i].ID, "typ": "JWT"})
		keys[i].header = base64.RawURLEncoding.EncodeToString(h)
	}
	t := &Tokens{keys: keys, now: now, parsers: map[string]*jwt.Parser{}}
	for _, aud := range []string{AudienceEmbed, AudiencePage} {
		// HS256 only: a token naming any other alg (none, RS256 with our
		// secret as a "public key", …) is refused before its key is looked up.
		t.parsers[aud] = jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(aud),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithLeeway(5*time.Second),
		)
	}
	t.lenient = jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation())
	return t
}

// Issue signs a token for ec with the audience and lifetime given.
func (t *Tokens) Issue(ec EmbedContext, audience string, ttl time.Duration) (string, time.Time) {
	tok, exp := t.appendToken(nil, &ec, audience, ttl)
	return string(tok), exp
}

// appendToken appends a signed token to dst. The claims are Claims' JSON
// (Parse reads them back), written by hand. A token is base64url and dots:
// it needs no escaping in a URL's query.
func (t *Tokens) appendToken(dst []byte, ec *EmbedContext, audience string, ttl time.Duration) ([]byte, time.Time) {
	now := t.now()
	exp := now.Add(ttl).Truncate(time.Second)
	var jti [16]byte
	_, _ = rand.Read(jti[:])

	cb := claimsBuffers.Get().(*[]byte)
	defer claimsBuffers.Put(cb)
	c := appendJSONField(append((*cb)[:0], '{'), true, "iss", issuer)
	if ec.User.ID != "" {
		c = appendJSONField(c, false, "sub", ec.User.ID)
	}
	c = appendJSONString(append(c, `,"aud":[`...), audience)
	c = strconv.AppendInt(append(c, `],"exp":`...), exp.Unix(), 10)
	c = strconv.AppendInt(append(c, `,"iat":`...), now.Unix(), 10)
	c = base64.RawURLEncoding.AppendEncode(append(c, `,"jti":"`...), jti[:])
	c = appendJSONField(append(c, '"'), false, "prv", string(ec.Provider))
	c = appendJSONField(c, false, "cid", ec.ConnectionID)
	c = appendJSONField(c, false, "wid", ec.WorkspaceID)
	c = appendJSONField(c, false, "acc", ec.AccountID)
	c = ec.User.appendJSON(append(c, `,"usr":`...))
	c = ec.Record.appendJSON(append(c, `,"rec":`...))
	c = append(c, '}')
	*cb = c

	k := t.keys[0]
	dst = slices.Grow(dst, len(k.header)+1+base64.RawURLEncoding.EncodedLen(len(c))+1+base64.RawURLEncoding.EncodedLen(sha256.Size))
	start := len(dst)
	dst = append(dst, k.header...)
	dst = base64.RawURLEncoding.AppendEncode(append(dst, '.'), c)
	mac := hmac.New(sha256.New, k.Secret)
	mac.Write(dst[start:])
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.AppendEncode(append(dst, '.'), mac.Sum(sum[:0])), exp
}

// claimsBuffers reuse the claims' scratch space between tokens.
var claimsBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendJSON appends the user as Claims' "usr" (empty fields omitted).
func (u *User) appendJSON(b []byte) []byte {
	b = appendJSONField(append(b, '{'), true, "id", u.ID)
	for _, f := range [...]struct{ name, value string }{{"email", u.Email}, {"name", u.Name}, {"locale", u.Locale}, {"timeZone", u.TimeZone}} {
		if f.value != "" {
			b = appendJSONField(b, false, f.name, f.value)
		}
	}
	return append(b, '}')
}

// appendJSON appends the record as Claims' "rec" (empty fields omitted).
func (r *Record) appendJSON(b []byte) []byte {
	b = appendJSONField(append(b, '{'), true, "type", r.Type)
	b = appendJSONField(b, false, "id", r.ID)
	for _, f := range [...]struct{ name, value string }{{"name", r.Name}, {"accountId", r.AccountID}, {"accountName", r.AccountName}, {"currency", r.Currency}} {
		if f.value != "" {
			b = appendJSONField(b, false, f.name, f.value)
		}
	}
	return append(b, '}')
}

// Parse verifies a token for audience and returns its claims. Expired
// tokens get token_expired, every other failure token_invalid.
func (t *Tokens) Parse(token, audience string) (*Claims, error) {
	if token == "" {
		return nil, qwoty.Errorf(qwoty.CodeTokenMissing, "Open the card from the CRM record again.", "no session token was sent")
	}
	parser, ok := t.parsers[audience]
	if !ok {
		return nil, fmt.Errorf("cardview: unknown token audience %q", audience)
	}
	var c Claims
	_, err := parser.ParseWithClaims(token, &c, t.keyFunc)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, qwoty.Errorf(qwoty.CodeTokenExpired, "Reload the record page to open a fresh card.", "this card session has expired")
	case err != nil:
		return nil, &qwoty.Error{Code: qwoty.CodeTokenInvalid, Message: "this card link is not valid",
			Hint: "Open the card from the CRM record; links cannot be edited or reused elsewhere.", Err: err}
	}
	if c.ConnectionID == "" || c.WorkspaceID == "" || c.Record.ID == "" {
		return nil, qwoty.Errorf(qwoty.CodeTokenInvalid, "Open the card from the CRM record again.", "this card link is incomplete")
	}
	return &c, nil
}

func (t *Tokens) keyFunc(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	for _, k := range t.keys {
		if k.ID == kid {
			return k.Secret, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// ParseExpired returns the claims of a token that is genuine (our key, HS256,
// the audience) but may have expired. It serves only to address an
// "expired" page to the right frame ancestors; it authorises nothing.
func (t *Tokens) ParseExpired(token, audience string) (*Claims, error) {
	var c Claims
	if _, err := t.lenient.ParseWithClaims(token, &c, t.keyFunc); err != nil {
		return nil, err
	}
	if c.Issuer != issuer || len(c.Audience) != 1 || c.Audience[0] != audience {
		return nil, errors.New("cardview: token of another issuer or audience")
	}
	if c.ConnectionID == "" {
		return nil, qwoty.Errorf(qwoty.CodeTokenInvalid, "Open the card from the CRM record again.", "this card link is incomplete")
	}
	return &c, nil
}
