package hstest

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

	"github.com/qwoty/companion/crm/hubspot"
)

// CardOption changes one thing of a card request, for tests of refusals.
type CardOption func(*cardRequest)

type cardRequest struct {
	at         time.Time
	secret     string
	objectType string
}

// SignedAt signs the request at t instead of the emulator's now.
func SignedAt(t time.Time) CardOption { return func(c *cardRequest) { c.at = t } }

// SignedWith signs with another secret than the app's, as a forger would.
func SignedWith(secret string) CardOption { return func(c *cardRequest) { c.secret = secret } }

// OnObjectType puts the card on another record type than DEAL.
func OnObjectType(t string) CardOption { return func(c *cardRequest) { c.objectType = t } }

// SignedCardRequest builds the request HubSpot sends to our backend when the
// app card on a deal record calls hubspot.fetch for the card data:
//
//	GET {appURL}/api/crm/hubspot/card?associatedObjectId={dealID}&associatedObjectType=DEAL
//	    &userId={userID}&portalId={portalID}&userEmail={email}&appId={appID}
//	X-HubSpot-Signature-v3: base64(HMAC-SHA256(client secret, "GET" + URI + "" + timestamp))
//	X-HubSpot-Request-Timestamp: {Unix ms}
//
// The record parameters are what the Qwoty card's code puts in the URL from
// its context (contracts.md §2); HubSpot appends the caller's identity. The
// order of the appended parameters is assumed; the signature covers the URI
// as sent, so a server that verifies the raw URI does not depend on it.
//
// The request is a client request: send it with an http.Client, or hand it
// to a handler. It panics when the portal
// or user is not the emulator's, or appURL is not a URL: HubSpot calls only
// for its own portals and users.
func (s *Server) SignedCardRequest(appURL string, portalID, userID int64, dealID string, opts ...CardOption) *http.Request {
	c := cardRequest{at: s.Now(), secret: s.opts.App.ClientSecret, objectType: "DEAL"}
	for _, o := range opts {
		o(&c)
	}
	s.mu.Lock()
	u := s.users[userID]
	s.mu.Unlock()
	if u == nil || u.portal.ID != portalID {
		panic(fmt.Sprintf("hstest: portal %d has no user %d", portalID, userID))
	}
	base, err := url.Parse(strings.TrimRight(appURL, "/"))
	if err != nil || base.Host == "" || base.RawQuery != "" {
		panic(fmt.Sprintf("hstest: app URL %q is not a base URL", appURL))
	}
	query := strings.Join([]string{
		param(hubspot.QueryAssociatedObjectID, dealID),
		param(hubspot.QueryAssociatedObjectType, c.objectType),
		param(hubspot.QueryUserID, strconv.FormatInt(userID, 10)),
		param(hubspot.QueryPortalID, strconv.FormatInt(portalID, 10)),
		param(hubspot.QueryUserEmail, u.Email),
		param(hubspot.QueryAppID, strconv.FormatInt(s.opts.App.ID, 10)),
	}, "&")
	uri := base.String() + hubspot.CardPath + "?" + query
	req, err := http.NewRequest(http.MethodGet, uri, nil)
	if err != nil {
		panic(fmt.Sprintf("hstest: card request: %v", err))
	}
	ts := strconv.FormatInt(c.at.UnixMilli(), 10)
	req.Header.Set(hubspot.HeaderSignatureV3, signV3(c.secret, http.MethodGet, uri, "", ts))
	req.Header.Set(hubspot.HeaderRequestTimestamp, ts)
	return req
}

// param encodes a query parameter as a URL encoder does: "@" becomes %40.
func param(name, value string) string {
	return url.QueryEscape(name) + "=" + url.QueryEscape(value)
}

// signedForm undoes the escapes HubSpot's validation guide lists, which
// HubSpot decodes in the URI before signing. It is written apart from the
// hubspot package on purpose: the emulator signs as the guide says, and the
// server's verifier must agree with it, not share its code.
var signedForm = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
)

// signV3 is HubSpot's v3 signature: base64 of HMAC-SHA256 keyed with the
// client secret over method + URI + body + timestamp.
func signV3(secret, method, uri, body, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + signedForm.Replace(uri) + body + timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
