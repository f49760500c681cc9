package tctest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm"
)

// CardOption changes one thing of a card fetch, for tests of refusals.
type CardOption func(*cardFetch)

type cardFetch struct {
	at        time.Time
	secret    string
	requestID string
}

// SignedAt signs the fetch at t instead of the emulator's now.
func SignedAt(t time.Time) CardOption { return func(c *cardFetch) { c.at = t } }

// SignedWith signs with another secret than the app's, as a forger would.
func SignedWith(secret string) CardOption { return func(c *cardFetch) { c.secret = secret } }

// WithRequestID gives the fetch this request id instead of a new one.
func WithRequestID(id string) CardOption { return func(c *cardFetch) { c.requestID = id } }

// SignedCardRequest builds the fetch the CRM's card on a deal page sends to
// our backend:
//
//	GET {appURL}/api/crm/testcrm/card?account={account}&user={user}&deal={deal}&email={email}
//	X-TestCRM-Timestamp: {Unix seconds}
//	X-TestCRM-Request-Id: {a new id}
//	X-TestCRM-Signature: base64(HMAC-SHA256(client secret, "GET\n" + URI + "\n" + timestamp + "\n" + request id))
//
// It is signed here, as the CRM signs it, not with testcrm.Sign: the
// verifier is checked against the CRM, not against itself. It panics when
// the account or user is not the emulator's: the CRM signs only for its
// own.
func (s *Server) SignedCardRequest(appURL, accountID, userID, dealID string, opts ...CardOption) *http.Request {
	c := cardFetch{at: s.Now(), secret: s.opts.ClientSecret, requestID: emulator.RandomHex(16)}
	for _, o := range opts {
		o(&c)
	}
	var user *User
	for _, acc := range s.opts.Accounts {
		for i, u := range acc.Users {
			if acc.ID == accountID && u.ID == userID {
				user = &acc.Users[i]
			}
		}
	}
	if user == nil {
		panic(fmt.Sprintf("tctest: account %s has no user %s", accountID, userID))
	}
	q := url.Values{testcrm.QueryAccount: {accountID}, testcrm.QueryUser: {userID}, testcrm.QueryDeal: {dealID}, testcrm.QueryEmail: {user.Email}}
	uri := strings.TrimRight(appURL, "/") + crm.CardPath(testcrm.Provider) + "?" + q.Encode()
	req, err := http.NewRequest(http.MethodGet, uri, nil)
	if err != nil {
		panic(fmt.Sprintf("tctest: card request: %v", err))
	}
	ts := strconv.FormatInt(c.at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(c.secret))
	mac.Write([]byte(http.MethodGet + "\n" + uri + "\n" + ts + "\n" + c.requestID))
	req.Header.Set(testcrm.HeaderTimestamp, ts)
	req.Header.Set(testcrm.HeaderRequestID, c.requestID)
	req.Header.Set(testcrm.HeaderSignature, base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return req
}
