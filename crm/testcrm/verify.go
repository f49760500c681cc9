package testcrm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The card's signed fetch: GET {APP_URL}/api/crm/testcrm/card?account=…
// &user=…&deal=…[&email=…], with three headers of the CRM's own. The
// signature is the padded base64 of HMAC-SHA256, keyed with the app's
// client secret, over
//
//	method "\n" URI "\n" timestamp "\n" request id
//
// where URI is the full URI the CRM called (scheme, host, path and query as
// sent). Each request has its own id: the CRM never sends one twice, so the
// card claims it once and a replay is refused.
const (
	HeaderSignature = "X-TestCRM-Signature"
	HeaderTimestamp = "X-TestCRM-Timestamp" // Unix seconds
	HeaderRequestID = "X-TestCRM-Request-Id"
)

// Query parameters of a card fetch.
const (
	QueryAccount = "account"
	QueryUser    = "user"
	QueryDeal    = "deal"
	QueryEmail   = "email"
)

// id is the form of the CRM's ids and request ids.
var id = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Sign is the signature of a card fetch, as the CRM computes it.
func Sign(secret, method, uri, timestamp, requestID string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + "\n" + uri + "\n" + timestamp + "\n" + requestID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks the card's signed fetch and returns who looks at which deal
// of which connected account; once is the request id, claimed once by the
// card.
func (a *Adapter) Verify(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*crm.EmbedContext, string, error) {
	if !a.configured() {
		return nil, "", qwoty.Errorf(qwoty.CodeNotConfigured, "Set the test CRM's client id and secret on the Qwoty server.",
			"TestCRM is not configured on this server")
	}
	sig, ts, reqID := req.Header.Get(HeaderSignature), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderRequestID)
	if sig == "" {
		return nil, "", qwoty.Errorf(qwoty.CodeSignatureMissing, "Fetch the card through TestCRM, which signs the request.",
			"the %s header is missing", HeaderSignature)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || secs < 0 || len(ts) > 12 || ts[0] == '+' {
		return nil, "", badRequest("%s must be Unix time in seconds", HeaderTimestamp)
	}
	if !id.MatchString(reqID) {
		return nil, "", badRequest("%s must be 1 to 64 letters, digits, - or _", HeaderRequestID)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > crm.MaxSkew || d < -crm.MaxSkew {
		return nil, "", qwoty.Errorf(qwoty.CodeTimestampOutOfRange,
			"TestCRM signs each fetch when it sends it: a request this far from our clock is a replay, or our server's clock is wrong.",
			"the request timestamp is %s away from the server's clock (limit %s)", crm.GapText(secs, now.Unix(), time.Second), crm.MaxSkew)
	}
	got, ok := crm.DecodeMAC(sig)
	if !ok {
		return nil, "", badRequest("%s must be the base64 of a 32-byte HMAC-SHA256", HeaderSignature)
	}
	want, _ := crm.DecodeMAC(Sign(a.o.ClientSecret, req.Method, req.URI, ts, reqID))
	if !hmac.Equal(got, want) {
		return nil, "", qwoty.Errorf(qwoty.CodeSignatureInvalid,
			"Check that the server's client secret is the TestCRM app's, and that APP_URL is the base of the URL the card fetches.",
			"the signature does not match the app's client secret for %s %s", req.Method, req.URI)
	}
	one := func(name string) (string, error) {
		vs := req.Query[name]
		switch {
		case len(vs) != 1:
			return "", badRequest("the %s parameter must be given once", name)
		case !id.MatchString(vs[0]):
			return "", badRequest("the %s parameter is not a TestCRM id", name)
		}
		return vs[0], nil
	}
	account, err := one(QueryAccount)
	if err != nil {
		return nil, "", err
	}
	user, err := one(QueryUser)
	if err != nil {
		return nil, "", err
	}
	dealID, err := one(QueryDeal)
	if err != nil {
		return nil, "", err
	}
	conn, err := crm.AccountConnection(ctx, conns, Provider, account)
	if err != nil {
		return nil, "", err
	}
	email := ""
	if vs := req.Query[QueryEmail]; len(vs) == 1 {
		email = crm.Clip(vs[0], 254)
	}
	return &crm.EmbedContext{
		Provider: Provider, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID, AccountID: conn.ExternalID,
		User:   crm.User{ID: user, Email: email},
		Record: crm.Record{Type: "deal", ID: dealID},
	}, reqID, nil
}

func badRequest(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeBadRequest, "TestCRM's card sends account, user and deal, signed with three X-TestCRM headers.", format, args...)
}
