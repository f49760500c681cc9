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

	"github.com/qwoty/companion/crm"
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
	// SessionMaxAge is a card session's absolute life, counted from the
	// signed CRM request that opened the card: a rep's working day. Page
	// tokens refresh up to it and never past it, so a leaked embed URL or
	// page token is worth at most this long; reloading the CRM page makes a
	// new signed request and a new session.
	SessionMaxAge = 12 * time.Hour
)

// Claims name the connection, workspace, CRM user and record a token is for.
type Claims struct {
	jwt.RegisteredClaims
	// AuthTime is when the signed CRM request that began the session was
	// verified (OpenID Connect's auth_time); every token of the session
	// carries it unchanged.
	AuthTime     *jwt.NumericDate `json:"auth_time,omitempty"`
	Provider     qwoty.Provider   `json:"prv"`
	ConnectionID string           `json:"cid"`
	WorkspaceID  string           `json:"wid"`
	AccountID    string           `json:"acc"`
	User         crm.User         `json:"usr"`
	Record       crm.Record       `json:"rec"`
}

// Context returns the embed context the claims carry, with their session's
// start.
func (c *Claims) Context() crm.EmbedContext {
	ec := crm.EmbedContext{Provider: c.Provider, ConnectionID: c.ConnectionID, WorkspaceID: c.WorkspaceID,
		AccountID: c.AccountID, User: c.User, Record: c.Record}
	if c.AuthTime != nil {
		ec.SessionStart = c.AuthTime.Time
	}
	return ec
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
		// Strict decoding: base64url with its unused bits zero, so each token
		// has one spelling (see crm.CompactJWT).
		t.parsers[aud] = jwt.NewParser(
			jwt.WithStrictDecoding(),
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(aud),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithLeeway(5*time.Second),
		)
	}
	t.lenient = jwt.NewParser(jwt.WithStrictDecoding(), jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation())
	return t
}

// Issue signs a token for ec with the audience and lifetime given, in ec's
// session: the token carries ec.SessionStart and expires by the session's
// end at the latest. An ec without a start (a CRM request just verified)
// begins a session now.
func (t *Tokens) Issue(ec crm.EmbedContext, audience string, ttl time.Duration) (string, time.Time) {
	tok, exp := t.appendToken(nil, &ec, audience, ttl)
	return string(tok), exp
}

// appendToken appends a signed token to dst. The claims are Claims' JSON
// (Parse reads them back), written by hand. A token is base64url and dots:
// it needs no escaping in a URL's query.
func (t *Tokens) appendToken(dst []byte, ec *crm.EmbedContext, audience string, ttl time.Duration) ([]byte, time.Time) {
	now := t.now()
	began := ec.SessionStart
	if began.IsZero() {
		began = now
	}
	exp := now.Add(ttl)
	if end := began.Add(SessionMaxAge); exp.After(end) {
		exp = end
	}
	exp = exp.Truncate(time.Second)
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
	c = strconv.AppendInt(append(c, `","auth_time":`...), began.Unix(), 10)
	c = appendJSONField(c, false, "prv", string(ec.Provider))
	c = appendJSONField(c, false, "cid", ec.ConnectionID)
	c = appendJSONField(c, false, "wid", ec.WorkspaceID)
	c = appendJSONField(c, false, "acc", ec.AccountID)
	c = appendUserJSON(append(c, `,"usr":`...), &ec.User)
	c = appendRecordJSON(append(c, `,"rec":`...), &ec.Record)
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

// appendUserJSON appends the user as Claims' "usr" (empty fields omitted).
func appendUserJSON(b []byte, u *crm.User) []byte {
	b = appendJSONField(append(b, '{'), true, "id", u.ID)
	for _, f := range [...]struct{ name, value string }{{"email", u.Email}, {"name", u.Name}, {"locale", u.Locale}, {"timeZone", u.TimeZone}} {
		if f.value != "" {
			b = appendJSONField(b, false, f.name, f.value)
		}
	}
	return append(b, '}')
}

// appendRecordJSON appends the record as Claims' "rec" (empty fields
// omitted).
func appendRecordJSON(b []byte, r *crm.Record) []byte {
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
	if err == nil && !crm.CompactJWT(token) {
		err = errNotCanonical
	}
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
	if err := t.checkSession(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkSession refuses claims whose session is over: begun more than
// SessionMaxAge ago (no leeway: the end was known when the session began),
// or with no start at all (a page token issued before sessions had one).
func (t *Tokens) checkSession(c *Claims) error {
	if c.AuthTime == nil {
		return sessionOver("this card session has no start time")
	}
	if c.IssuedAt == nil || c.AuthTime.After(c.IssuedAt.Time) {
		return qwoty.Errorf(qwoty.CodeTokenInvalid, "Open the card from the CRM record again.", "this card link's session starts after it was issued")
	}
	if !t.now().Before(c.AuthTime.Add(SessionMaxAge)) {
		return sessionOver("this card session has reached its %s limit", SessionMaxAge)
	}
	return nil
}

func sessionOver(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeTokenExpired,
		"Reload the CRM record page: it opens a new card session.", format, args...)
}

// Refresh issues a new page token in the session of a verified page token's
// claims: same session start, so refreshing never extends the session. A
// session at its end is refused with token_expired.
func (t *Tokens) Refresh(c *Claims) (string, time.Time, error) {
	if err := t.checkSession(c); err != nil {
		return "", time.Time{}, err
	}
	token, exp := t.Issue(c.Context(), AudiencePage, PageTTL)
	if !exp.After(t.now()) { // within a second of the end: nothing left to issue
		return "", time.Time{}, sessionOver("this card session has reached its %s limit", SessionMaxAge)
	}
	return token, exp, nil
}

// errNotCanonical refuses a token spelled in a way we never write. Strict
// decoding makes each segment's bits canonical, but base64 decoders skip
// CR and LF, and the signature segment is not part of the signed input: a
// line break inside it would leave a valid token.
var errNotCanonical = errors.New("cardview: the token holds characters outside base64url")

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
	if !crm.CompactJWT(token) {
		return nil, errNotCanonical
	}
	if c.Issuer != issuer || len(c.Audience) != 1 || c.Audience[0] != audience {
		return nil, errors.New("cardview: token of another issuer or audience")
	}
	if c.ConnectionID == "" {
		return nil, qwoty.Errorf(qwoty.CodeTokenInvalid, "Open the card from the CRM record again.", "this card link is incomplete")
	}
	return &c, nil
}
