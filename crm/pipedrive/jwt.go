package pipedrive

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Pipedrive signs a token into every request an app extension makes to us:
// the "token" query parameter of a JSON panel's request and of a custom UI
// extension's iframe URL, and the token the app extensions SDK's
// GET_SIGNED_TOKEN command returns to the iframe's page. All are HS256 JWTs
// signed with the extension's "JWT secret" from Developer Hub or, when that
// field is left empty, with the app's client secret. The documentation says
// they carry the Pipedrive user id and company id (userId, companyId) and
// that the SDK's token "is valid for 5 minutes"; it shows no payload, so
// the JSON types of the ids are assumed: numbers, or decimal strings.

// ClockSkew is how far our clock may be from Pipedrive's when checking a
// token's exp and iat.
const ClockSkew = 30 * time.Second

// SignedTokenTTL is the life Pipedrive gives the SDK's signed token.
const SignedTokenTTL = 5 * time.Minute

// Claims are what a verified Pipedrive token says: who is looking, in which
// company, and for how long the token holds.
type Claims struct {
	// UserID and CompanyID are the Pipedrive user and company ids.
	UserID    int64
	CompanyID int64
	// IssuedAt is zero when the token has no iat.
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// CompanyKey is the company id as a connection's external account id.
func (c *Claims) CompanyKey() string { return strconv.FormatInt(c.CompanyID, 10) }

// UserKey is the user id as the CRM user id of an embed session.
func (c *Claims) UserKey() string { return strconv.FormatInt(c.UserID, 10) }

// PanelSecrets returns the secrets a token of one extension verifies with:
// its JWT secret when one is configured, else the client secret, exactly as
// Pipedrive chooses the key it signs with. Pipedrive signs with one key
// only, so the other must not be accepted.
func PanelSecrets(jwtSecret, clientSecret string) [][]byte {
	if jwtSecret != "" {
		return [][]byte{[]byte(jwtSecret)}
	}
	return [][]byte{[]byte(clientSecret)}
}

// panelParser pins HS256: a token naming any other alg ("none", HS512,
// RS256 with our secret posing as a public key, ...) is refused before any
// key is tried. It decodes strictly: a segment whose last character has its
// unused bits set is refused, so a token has one spelling.
func panelParser(now time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(ClockSkew),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
}

// VerifyPanelToken verifies a token Pipedrive signed for an app extension
// against secrets (PanelSecrets, or several during a secret rotation) at
// now, and returns its claims. Errors are *qwoty.Error values:
// signature_missing without a token, timestamp_out_of_range for a genuine
// token that expired (or was issued in the future), signature_invalid for
// anything else (wrong key, another alg, altered or malformed token, no exp,
// no ids). A plain error means no usable secret was given: our fault.
func VerifyPanelToken(token string, secrets [][]byte, now time.Time) (*Claims, error) {
	if token == "" {
		return nil, qwoty.Errorf(qwoty.CodeSignatureMissing,
			"Open the panel from Pipedrive: its requests carry a signed token.",
			"the request has no Pipedrive token")
	}
	keys := make([]jwt.VerificationKey, 0, len(secrets))
	for _, s := range secrets {
		// An empty HMAC key would let anyone sign.
		if len(s) > 0 {
			keys = append(keys, s)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("pipedrive: verify token: no JWT secret or client secret is configured")
	}
	if !crm.CompactJWT(token) {
		// Base64 decoders skip line breaks, and the signature segment is not
		// signed itself: refuse anything but the token's one spelling.
		return nil, invalidToken(errors.New("the token holds characters outside base64url"))
	}
	var wc wireClaims
	_, err := panelParser(now).ParseWithClaims(token, &wc, func(*jwt.Token) (any, error) {
		return jwt.VerificationKeySet{Keys: keys}, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenMalformed) || errors.Is(err, jwt.ErrTokenUnverifiable):
		// Signature first: an expired token with a bad signature is a bad
		// signature (the parser checks the signature before the claims).
		return nil, invalidToken(err)
	case errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenUsedBeforeIssued) || errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, &qwoty.Error{Code: qwoty.CodeTimestampOutOfRange,
			Message: "the Pipedrive token has expired or is not valid yet",
			Hint:    "Reload the Pipedrive page; if it persists, check this server's clock.", Err: err}
	default:
		return nil, invalidToken(err)
	}
	if wc.ExpiresAt == nil {
		return nil, invalidToken(errors.New("the token has no exp"))
	}
	if wc.UserID <= 0 || wc.CompanyID <= 0 {
		return nil, invalidToken(errors.New("the token names no userId or companyId"))
	}
	c := &Claims{UserID: int64(wc.UserID), CompanyID: int64(wc.CompanyID), ExpiresAt: wc.ExpiresAt.Time}
	if wc.IssuedAt != nil {
		c.IssuedAt = wc.IssuedAt.Time
	}
	return c, nil
}

func invalidToken(err error) *qwoty.Error {
	return &qwoty.Error{Code: qwoty.CodeSignatureInvalid,
		Message: "the Pipedrive token is not valid",
		Hint:    "Check that PIPEDRIVE_JWT_SECRET is the extension's JWT secret in Developer Hub (or empty when that field is, so that the client secret is used).",
		Err:     err}
}

// wireClaims is a token's payload as Pipedrive sends it.
type wireClaims struct {
	jwt.RegisteredClaims
	UserID    pipedriveID `json:"userId"`
	CompanyID pipedriveID `json:"companyId"`
}

// pipedriveID reads an id sent as a JSON number or as a decimal string.
type pipedriveID int64

func (id *pipedriveID) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s is not an integer", b)
	}
	*id = pipedriveID(n)
	return nil
}

// SignPanelToken signs claims as Pipedrive does (HS256, ids as JSON numbers,
// iat and exp in seconds), for tests and the dev playground. Production
// never signs: Pipedrive does.
func SignPanelToken(secret []byte, c Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("pipedrive: sign token: empty secret")
	}
	if c.ExpiresAt.IsZero() {
		return "", errors.New("pipedrive: sign token: no expiry")
	}
	payload := map[string]int64{"userId": c.UserID, "companyId": c.CompanyID, "exp": c.ExpiresAt.Unix()}
	if !c.IssuedAt.IsZero() {
		payload["iat"] = c.IssuedAt.Unix()
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("pipedrive: sign token: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(body)
	sig, err := jwt.SigningMethodHS256.Sign(signing, secret)
	if err != nil {
		return "", fmt.Errorf("pipedrive: sign token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
