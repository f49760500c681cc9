package cardview

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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

func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Issue signs a token for ec with the audience and lifetime given.
func (t *Tokens) Issue(ec EmbedContext, audience string, ttl time.Duration) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(ttl).Truncate(time.Second)
	payload, err := json.Marshal(issuedClaims{
		Issuer: issuer, Subject: ec.User.ID, Audience: []string{audience},
		ExpiresAt: exp.Unix(), IssuedAt: now.Unix(), ID: newJTI(),
		Provider: ec.Provider, ConnectionID: ec.ConnectionID, WorkspaceID: ec.WorkspaceID,
		AccountID: ec.AccountID, User: ec.User, Record: ec.Record,
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("cardview: encode %s token: %w", audience, err)
	}
	k := t.keys[0]
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signing, k.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("cardview: sign %s token: %w", audience, err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), exp, nil
}

// issuedClaims is Claims as issued: the same JSON (Parse reads it back into
// Claims), with plain numbers and a one-element audience, so that encoding it
// on the hot path needs no custom marshalers.
type issuedClaims struct {
	Issuer       string         `json:"iss"`
	Subject      string         `json:"sub,omitempty"`
	Audience     []string       `json:"aud"`
	ExpiresAt    int64          `json:"exp"`
	IssuedAt     int64          `json:"iat"`
	ID           string         `json:"jti"`
	Provider     qwoty.Provider `json:"prv"`
	ConnectionID string         `json:"cid"`
	WorkspaceID  string         `json:"wid"`
	AccountID    string         `json:"acc"`
	User         User           `json:"usr"`
	Record       Record         `json:"rec"`
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
