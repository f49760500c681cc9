package salesforce

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Scheme v1 of the Salesforce signed callout (docs/callout-contract.md).
const (
	HeaderOrg       = "X-Qwoty-Org"
	HeaderTimestamp = "X-Qwoty-Timestamp"
	HeaderNonce     = "X-Qwoty-Nonce"
	HeaderSignature = "X-Qwoty-Signature"

	// MaxBodyBytes caps a callout body.
	MaxBodyBytes = crm.MaxBodyBytes
	// MaxSkew is how far a callout's timestamp may be from our clock.
	MaxSkew = crm.MaxSkew
	// NonceTTL is how long a nonce is remembered: past the skew window on
	// both sides, a replay is refused by its timestamp instead.
	NonceTTL = crm.NonceTTL

	signaturePrefix = "v1="
)

// SignV1 computes the v1 signature header value of a callout. The Apex
// QwotySigner, the CLI's `qwoty sign` and the playground all produce this.
func SignV1(secret []byte, timestamp, nonce, orgID, method, path string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	writeV1Message(mac, timestamp, nonce, orgID, method, path, body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// V1Message is the exact byte string a v1 signature covers.
func V1Message(timestamp, nonce, orgID, method, path string, body []byte) []byte {
	var b bytes.Buffer
	writeV1Message(&b, timestamp, nonce, orgID, method, path, body)
	return b.Bytes()
}

// writeV1Message writes the v1 message: its headers' lines in one write (one
// buffer, not one per part), then the body.
func writeV1Message(w interface{ Write([]byte) (int, error) }, timestamp, nonce, orgID, method, path string, body []byte) {
	head := make([]byte, 0, 3+len(timestamp)+len(nonce)+len(orgID)+len(method)+len(path)+5)
	for _, part := range [...]string{"v1", timestamp, nonce, orgID, method, path} {
		head = append(append(head, part...), '\n')
	}
	w.Write(head)
	w.Write(body)
}

// CalloutHeaders are the parsed, validated v1 headers.
type CalloutHeaders struct {
	// OrgHeader is the org id exactly as sent: it is what was signed.
	OrgHeader string
	// OrgID is the 18-character form used for lookup.
	OrgID     string
	Timestamp string
	Time      time.Time
	Nonce     string
	MAC       []byte
}

func badRequest(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeBadRequest, "Check the callout against docs/callout-contract.md; the Qwoty package sends it this way.", format, args...)
}

// ParseCalloutHeaders validates the v1 headers without any lookup.
func ParseCalloutHeaders(h http.Header) (*CalloutHeaders, error) {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return nil, qwoty.Errorf(qwoty.CodeSignatureMissing,
			"The request did not come through the Qwoty package's Apex controller, or a proxy stripped the header.",
			"the %s header is missing", HeaderSignature)
	}
	if !strings.HasPrefix(sig, signaturePrefix) {
		return nil, badRequest("%s must start with %q (signature scheme v1)", HeaderSignature, signaturePrefix)
	}
	mac, ok := lowerHexMAC(sig[len(signaturePrefix):])
	if !ok {
		return nil, badRequest("%s must be %q followed by 64 lowercase hex digits", HeaderSignature, signaturePrefix)
	}
	out := &CalloutHeaders{MAC: mac}

	var err error
	out.OrgHeader = h.Get(HeaderOrg)
	if out.OrgHeader == "" {
		return nil, badRequest("the %s header is missing", HeaderOrg)
	}
	if out.OrgID, err = NormalizeOrgID(out.OrgHeader); err != nil {
		return nil, badRequest("%s: %v", HeaderOrg, err)
	}

	out.Timestamp = h.Get(HeaderTimestamp)
	secs, err := strconv.ParseInt(out.Timestamp, 10, 64)
	if out.Timestamp == "" {
		return nil, badRequest("the %s header is missing", HeaderTimestamp)
	}
	if err != nil || secs < 0 || len(out.Timestamp) > 12 || out.Timestamp[0] == '+' {
		return nil, badRequest("%s must be Unix time in whole seconds", HeaderTimestamp)
	}
	out.Time = time.Unix(secs, 0)

	out.Nonce = h.Get(HeaderNonce)
	if out.Nonce == "" {
		return nil, badRequest("the %s header is missing", HeaderNonce)
	}
	if !validNonce(out.Nonce) {
		return nil, badRequest("%s must be 16 to 64 characters of A-Z a-z 0-9 _ -", HeaderNonce)
	}
	return out, nil
}

// lowerHexMAC decodes a MAC written as the contract says: 64 lowercase hex
// digits, the one spelling EncodingUtil.convertToHex gives (hex.DecodeString
// would also take upper case).
func lowerHexMAC(s string) ([]byte, bool) {
	if len(s) != 2*sha256.Size {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return nil, false
		}
	}
	mac, err := hex.DecodeString(s)
	return mac, err == nil
}

func validNonce(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckSkew refuses a timestamp more than MaxSkew from now, either way.
func CheckSkew(ts, now time.Time) error {
	d := now.Sub(ts) // saturates far out, so the comparison holds for any ts
	if d > MaxSkew || d < -MaxSkew {
		return qwoty.Errorf(qwoty.CodeTimestampOutOfRange,
			"Check the clock of the machine that signed the request (Salesforce's is right; a replayed or hand-made request is not).",
			"the request timestamp is %s away from the server's clock (limit %s)", crm.GapText(ts.Unix(), now.Unix(), time.Second), MaxSkew)
	}
	return nil
}

// VerifyMAC checks h's MAC against each secret in constant time. Every secret
// is tried, so timing does not reveal which one matched.
func VerifyMAC(h *CalloutHeaders, secrets [][]byte, method, path string, body []byte) error {
	ok := false
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, s)
		writeV1Message(mac, h.Timestamp, h.Nonce, h.OrgHeader, method, path, body)
		if hmac.Equal(mac.Sum(nil), h.MAC) {
			ok = true
		}
	}
	if !ok {
		return qwoty.Errorf(qwoty.CodeSignatureInvalid,
			"The secret in the org's Qwoty settings does not match ours: reconnect the org so the current secret is written into it (docs/troubleshooting.md, signature_invalid).",
			"the signature does not match this org's secret")
	}
	return nil
}

// CalloutBody is the JSON body of a v1 card-view callout.
type CalloutBody struct {
	RecordID   string `json:"recordId"`
	ObjectType string `json:"objectType"`
	User       struct {
		ID       string `json:"id"`
		Email    string `json:"email"`
		Name     string `json:"name"`
		Locale   string `json:"locale"`
		TimeZone string `json:"timeZone"`
	} `json:"user"`
	Record struct {
		Name            string          `json:"name"`
		AccountID       string          `json:"accountId"`
		AccountName     string          `json:"accountName"`
		Amount          json.RawMessage `json:"amount"`
		CurrencyIsoCode string          `json:"currencyIsoCode"`
		StageName       string          `json:"stageName"`
		CloseDate       string          `json:"closeDate"`
	} `json:"record"`
}

// ParseCalloutBody decodes and validates a callout body into the embed
// context's user and record.
func ParseCalloutBody(body []byte) (crm.User, crm.Record, error) {
	var b CalloutBody
	if err := json.Unmarshal(body, &b); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value"):
			return crm.User{}, crm.Record{}, badRequest("the body holds more than one JSON value")
		case errors.As(err, &se) && se.Offset >= int64(len(body)) &&
			(strings.HasPrefix(se.Error(), "unexpected end") || strings.HasPrefix(se.Error(), "invalid character ' '")):
			// The body stops inside a value (the scanner reports a cut
			// literal as a space found where its next character should be).
			return crm.User{}, crm.Record{}, badRequest("the body is not the JSON object of the contract: unexpected end of input")
		}
		return crm.User{}, crm.Record{}, badRequest("the body is not the JSON object of the contract: %v", jsonProblem(err))
	}
	if b.RecordID == "" {
		return crm.User{}, crm.Record{}, badRequest("recordId is required")
	}
	rid, err := NormalizeID(b.RecordID)
	if err != nil {
		return crm.User{}, crm.Record{}, badRequest("recordId is not a Salesforce id (15 or 18 letters and digits)")
	}
	if b.ObjectType == "" {
		return crm.User{}, crm.Record{}, badRequest("objectType is required")
	}
	if !apiName(b.ObjectType) {
		return crm.User{}, crm.Record{}, badRequest("objectType is not an object API name")
	}
	if b.Record.AccountID != "" {
		if _, err := NormalizeID(b.Record.AccountID); err != nil {
			return crm.User{}, crm.Record{}, badRequest("record.accountId is not a Salesforce id")
		}
	}
	cur := b.Record.CurrencyIsoCode
	if cur != "" && !qwoty.ValidCurrency(cur) {
		return crm.User{}, crm.Record{}, badRequest("record.currencyIsoCode %q is not a three-letter ISO 4217 code", cur)
	}
	if a := bytes.TrimSpace(b.Record.Amount); len(a) > 0 && string(a) != "null" {
		var n json.Number
		if a[0] == '"' || json.Unmarshal(a, &n) != nil {
			return crm.User{}, crm.Record{}, badRequest("record.amount must be a JSON number")
		}
		if _, err := n.Float64(); err != nil {
			return crm.User{}, crm.Record{}, badRequest("record.amount is out of range")
		}
	}
	// Text goes into the database, whose text type cannot hold NUL: refuse it
	// here, with a message, rather than fail the statement.
	for _, f := range [...]struct{ name, value string }{{"user.id", b.User.ID}, {"user.email", b.User.Email}, {"user.name", b.User.Name},
		{"user.locale", b.User.Locale}, {"user.timeZone", b.User.TimeZone}, {"record.name", b.Record.Name}, {"record.accountName", b.Record.AccountName}} {
		if strings.IndexByte(f.value, 0) >= 0 {
			return crm.User{}, crm.Record{}, badRequest("%s holds a NUL character (\\u0000)", f.name)
		}
	}
	u := crm.User{ID: b.User.ID, Email: crm.Clip(b.User.Email, 254), Name: crm.Clip(b.User.Name, 200),
		Locale: crm.Clip(b.User.Locale, 20), TimeZone: crm.Clip(b.User.TimeZone, 64)}
	r := crm.Record{Type: b.ObjectType, ID: rid, Name: crm.Clip(b.Record.Name, 255), AccountID: b.Record.AccountID,
		AccountName: crm.Clip(b.Record.AccountName, 255), Currency: cur}
	return u, r, nil
}

func apiName(s string) bool {
	if len(s) > 80 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// jsonKind names a Go kind the way the contract's readers think of JSON.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	default:
		return "a number"
	}
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("%s must be %s", te.Field, jsonKind(te.Type.Kind()))
	default:
		return "unexpected end of input"
	}
}

// Authenticate checks a v1 signed request up to the body: headers,
// clock, the org's connection, the MAC against its current and previous
// secret, and its status. The nonce is claimed later, with the request's
// own queries, so that a replay costs one round trip.
func Authenticate(ctx context.Context, lookup crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*qwoty.Connection, *CalloutHeaders, error) {
	h, err := ParseCalloutHeaders(req.Header)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSkew(h.Time, now); err != nil {
		return nil, nil, err
	}
	conn, err := lookup.ConnectionByExternalID(ctx, qwoty.ProviderSalesforce, h.OrgID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil, nil, notConnected(h.OrgID)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := VerifyMAC(h, conn.Secrets(now), req.Method, req.Path, req.Body); err != nil {
		// A cached connection may predate a rotation or a reconnect: look
		// again before refusing.
		r, ok := lookup.(crm.ConnectionRefresher)
		if !ok {
			return nil, nil, err
		}
		if conn, err = r.Refresh(ctx, qwoty.ProviderSalesforce, h.OrgID); err != nil {
			if errors.Is(err, qwoty.ErrNotFound) {
				return nil, nil, notConnected(h.OrgID)
			}
			return nil, nil, err
		}
		if err := VerifyMAC(h, conn.Secrets(now), req.Method, req.Path, req.Body); err != nil {
			return nil, nil, err
		}
	}
	if conn.Status == qwoty.ConnectionDisconnected {
		return nil, nil, disconnected(h.OrgID)
	}
	return conn, h, nil
}

func notConnected(orgID string) error {
	return qwoty.Errorf(qwoty.CodeOrgNotConnected,
		"Connect this org from the Qwoty admin console (Settings → Integrations → Salesforce), or check the org id with `qwoty connection add`.",
		"org %s is not connected to Qwoty", orgID)
}

func disconnected(orgID string) error {
	return qwoty.Errorf(qwoty.CodeOrgDisconnected,
		"An admin disconnected this org; reconnect it from the Qwoty admin console to restore the card (no data was lost).",
		"org %s was disconnected from Qwoty", orgID)
}

// VerifyCallout authenticates a v1 card-view callout and parses its body
// into the embed context.
func VerifyCallout(ctx context.Context, lookup crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*crm.EmbedContext, *CalloutHeaders, error) {
	conn, h, err := Authenticate(ctx, lookup, req, now)
	if err != nil {
		return nil, nil, err
	}
	user, record, err := ParseCalloutBody(req.Body)
	if err != nil {
		return nil, nil, err
	}
	return &crm.EmbedContext{
		Provider: qwoty.ProviderSalesforce, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID,
		AccountID: conn.ExternalID, User: user, Record: record,
	}, h, nil
}
