package hstest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// These tests check the emulator against HubSpot's documented behaviour on
// the wire, without the client.

func newClock() *emulator.Clock {
	return emulator.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var installScopes = strings.Join(hubspot.DefaultScopes, " ")

func authorizeQuery() url.Values {
	return url.Values{"client_id": {hstest.DefaultClientID}, "redirect_uri": {hstest.DefaultRedirectURL},
		"scope": {installScopes}, "optional_scope": {strings.Join(hubspot.OptionalScopes, " ")}, "state": {"st/1+2"}}
}

// authorize GETs the authorize URL and returns the status and the callback
// query (nil without a redirect).
func authorize(t *testing.T, srv *hstest.Server, q url.Values) (int, url.Values) {
	t.Helper()
	resp, err := noFollow.Get(srv.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc == "" {
		return resp.StatusCode, nil
	}
	if !strings.HasPrefix(loc, hstest.DefaultRedirectURL+"?") {
		t.Fatalf("redirected to %s, not to the registered redirect URL", loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, u.Query()
}

func code(t *testing.T, srv *hstest.Server) string {
	t.Helper()
	status, q := authorize(t, srv, authorizeQuery())
	if status != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("authorize = %d %v, want a redirect with a code", status, q)
	}
	return q.Get("code")
}

// post POSTs a form body and decodes the JSON answer.
func post(t *testing.T, srv *hstest.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("POST %s answered %d %q, not JSON", path, resp.StatusCode, body)
	}
	return resp.StatusCode, v
}

func codeForm(c string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {hstest.DefaultClientID},
		"client_secret": {hstest.DefaultClientSecret}, "redirect_uri": {hstest.DefaultRedirectURL}, "code": {c}}
}

func tokens(t *testing.T, srv *hstest.Server) map[string]any {
	t.Helper()
	status, v := post(t, srv, "/oauth/2026-03/token", codeForm(code(t, srv)))
	if status != http.StatusOK {
		t.Fatalf("token = %d %v", status, v)
	}
	return v
}

func get(t *testing.T, srv *hstest.Server, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: not JSON: %v", path, err)
	}
	return resp.StatusCode, v
}

func TestAuthorizeRedirectsWithCodeAndState(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	status, q := authorize(t, srv, authorizeQuery())
	if status != http.StatusFound || q.Get("code") == "" || q.Get("state") != "st/1+2" {
		t.Errorf("authorize = %d %v, want 302 with a code and the state back", status, q)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	srv := hstest.New(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: []string{"crm.objects.deals.read", "oauth"}, OptionalScopes: []string{"crm.objects.companies.read"}}})
	tests := []struct {
		name   string
		change func(url.Values)
		status int
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, http.StatusBadRequest},
		{"redirect URL not registered", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest},
		{"redirect URL with a different path", func(q url.Values) { q.Set("redirect_uri", hstest.DefaultRedirectURL+"/x") }, http.StatusBadRequest},
		{"a required scope missing", func(q url.Values) { q.Set("scope", "crm.objects.deals.read") }, http.StatusBadRequest},
		{"an optional scope in scope", func(q url.Values) { q.Set("scope", installScopes) }, http.StatusBadRequest},
		{"an unknown optional scope", func(q url.Values) {
			q.Set("scope", "crm.objects.deals.read oauth")
			q.Set("optional_scope", "crm.objects.contacts.read")
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorizeQuery()
			tt.change(q)
			status, cb := authorize(t, srv, q)
			if status != tt.status || cb != nil {
				t.Errorf("authorize = %d, callback %v; want %d on HubSpot's page, no redirect", status, cb, tt.status)
			}
		})
	}
	q := authorizeQuery()
	q.Set("scope", "oauth crm.objects.deals.read")
	q.Set("optional_scope", "crm.objects.companies.read")
	if status, cb := authorize(t, srv, q); status != http.StatusFound || cb.Get("code") == "" {
		t.Errorf("required scopes in any order plus an optional one: %d %v, want a code", status, cb)
	}
}

func TestAuthorizeRefusesAUserWhoCannotInstall(t *testing.T) {
	srv := hstest.New(t, hstest.Options{LoginAs: hstest.DefaultRepID})
	if status, cb := authorize(t, srv, authorizeQuery()); status != http.StatusForbidden || cb != nil {
		t.Errorf("a rep installing: %d %v, want 403 and no redirect", status, cb)
	}
}

func TestTokenAnswersTheVersionedShape(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	v := tokens(t, srv)
	if v["expires_in"] != float64(1800) || v["token_type"] != "bearer" || v["token_use"] != "access_token" {
		t.Errorf("token answer %v, want expires_in 1800, bearer, access_token", v)
	}
	if v["hub_id"] != float64(hstest.DefaultPortalID) || v["user_id"] != float64(hstest.DefaultAdminID) {
		t.Errorf("token answer hub %v user %v, want %d and %d", v["hub_id"], v["user_id"], hstest.DefaultPortalID, hstest.DefaultAdminID)
	}
	if rt, _ := v["refresh_token"].(string); !strings.HasPrefix(rt, "na1-") {
		t.Errorf("refresh_token = %q, want HubSpot's na1- form", rt)
	}
	if n := srv.TokenCalls("authorization_code"); n != 1 {
		t.Errorf("TokenCalls = %d, want 1", n)
	}
}

func TestTokenRefusals(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	tests := []struct {
		name   string
		form   func() url.Values
		query  bool // send the form in the query, not the body
		code   string
		status string
	}{
		{"spent code", func() url.Values {
			f := codeForm(code(t, srv))
			post(t, srv, "/oauth/2026-03/token", f)
			return f
		}, false, "invalid_grant", "BAD_AUTH_CODE"},
		{"unknown code", func() url.Values { return codeForm("nope") }, false, "invalid_grant", "BAD_AUTH_CODE"},
		{"other redirect URL", func() url.Values {
			f := codeForm(code(t, srv))
			f.Set("redirect_uri", "http://localhost:8080/other")
			return f
		}, false, "invalid_grant", "BAD_REDIRECT_URI"},
		{"expired code", func() url.Values {
			f := codeForm(code(t, srv))
			c.Advance(hstest.CodeTTL)
			return f
		}, false, "invalid_grant", "BAD_AUTH_CODE"},
		{"wrong secret", func() url.Values {
			f := codeForm(code(t, srv))
			f.Set("client_secret", "wrong")
			return f
		}, false, "invalid_client", "BAD_CLIENT_SECRET"},
		{"parameters in the query", func() url.Values { return codeForm(code(t, srv)) }, true, "invalid_client", "BAD_CLIENT_ID"},
		{"unknown refresh token", func() url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "client_id": {hstest.DefaultClientID},
				"client_secret": {hstest.DefaultClientSecret}, "refresh_token": {"na1-nope"}}
		}, false, "invalid_grant", "BAD_REFRESH_TOKEN"},
		{"unsupported grant", func() url.Values {
			f := codeForm("x")
			f.Set("grant_type", "password")
			return f
		}, false, "unsupported_grant_type", "BAD_GRANT_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.form()
			var status int
			var v map[string]any
			if tt.query {
				resp, err := http.Post(srv.URL+"/oauth/2026-03/token?"+f.Encode(), "application/x-www-form-urlencoded", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				status = resp.StatusCode
				json.NewDecoder(resp.Body).Decode(&v)
			} else {
				status, v = post(t, srv, "/oauth/2026-03/token", f)
			}
			if status != http.StatusBadRequest || v["error"] != tt.code || v["status"] != tt.status {
				t.Errorf("token = %d %v, want 400 %s (%s)", status, v, tt.code, tt.status)
			}
			if v["error_description"] == "" || v["error_description"] != v["message"] {
				t.Errorf("error_description %q and message %q should both say what failed", v["error_description"], v["message"])
			}
		})
	}
}

func TestTokenRefusesAJSONBody(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	body, _ := json.Marshal(map[string]string{"grant_type": "authorization_code"})
	resp, err := http.Post(srv.URL+"/oauth/2026-03/token", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != http.StatusBadRequest || v["error"] != "invalid_request" {
		t.Errorf("JSON body: %d %v, want 400 invalid_request", resp.StatusCode, v)
	}
}

func TestRefreshKeepsTheRefreshTokenUntilUninstall(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	rt := tokens(t, srv)["refresh_token"].(string)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {hstest.DefaultClientID},
		"client_secret": {hstest.DefaultClientSecret}, "refresh_token": {rt}}
	status, v := post(t, srv, "/oauth/v3/token", form)
	if status != http.StatusOK || v["refresh_token"] != rt || v["access_token"] == "" {
		t.Fatalf("refresh on the v3 path = %d %v, want a new access token and the same refresh token", status, v)
	}
	srv.Uninstall(hstest.DefaultPortalID)
	if status, v := post(t, srv, "/oauth/2026-03/token", form); status != http.StatusBadRequest || v["error"] != "invalid_grant" ||
		v["error_description"] != "refresh token is invalid, expired or revoked" {
		t.Errorf("refresh after uninstall = %d %v, want the changelog's invalid_grant", status, v)
	}
	if n := srv.TokenCalls("refresh_token"); n != 2 {
		t.Errorf("TokenCalls(refresh_token) = %d, want 2", n)
	}
}

func TestIntrospect(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	tok := tokens(t, srv)
	form := func(token, hint string) url.Values {
		return url.Values{"client_id": {hstest.DefaultClientID}, "client_secret": {hstest.DefaultClientSecret},
			"token": {token}, "token_type_hint": {hint}}
	}
	status, v := post(t, srv, "/oauth/2026-03/token/introspect", form(tok["access_token"].(string), "access_token"))
	if status != http.StatusOK || v["active"] != true || v["hub_id"] != float64(hstest.DefaultPortalID) ||
		v["user"] != hstest.DefaultAdminEmail || v["client_id"] != hstest.DefaultClientID || v["token_use"] != "access_token" {
		t.Errorf("introspect access token = %d %v", status, v)
	}
	c.Advance(10 * time.Minute)
	if _, v := post(t, srv, "/oauth/2026-03/token/introspect", form(tok["access_token"].(string), "")); v["expires_in"] != float64(1200) {
		t.Errorf("expires_in after 10 minutes = %v, want 1200", v["expires_in"])
	}
	_, v = post(t, srv, "/oauth/2026-03/token/introspect", form(tok["refresh_token"].(string), "refresh_token"))
	if v["active"] != true || v["token_use"] != "refresh_token" {
		t.Errorf("introspect refresh token = %v", v)
	}
	c.Advance(20 * time.Minute)
	if _, v := post(t, srv, "/oauth/2026-03/token/introspect", form(tok["access_token"].(string), "access_token")); v["active"] != false || len(v) != 1 {
		t.Errorf("introspect after 30 minutes = %v, want only active false", v)
	}
	bad := form("x", "")
	bad.Set("client_secret", "wrong")
	if status, v := post(t, srv, "/oauth/2026-03/token/introspect", bad); status != http.StatusBadRequest || v["error"] != "invalid_client" {
		t.Errorf("introspect with a wrong secret = %d %v, want invalid_client", status, v)
	}
	if n := srv.IntrospectCalls(); n != 5 {
		t.Errorf("IntrospectCalls = %d, want 5", n)
	}
}

func TestReadDealWithAssociations(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	status, v := get(t, srv, "/crm/v3/objects/deals/"+hstest.DefaultDealID+"?properties=dealname,amount&properties=deal_currency_code,nosuch&associations=companies", at)
	if status != http.StatusOK || v["id"] != hstest.DefaultDealID {
		t.Fatalf("read deal = %d %v", status, v)
	}
	props := v["properties"].(map[string]any)
	want := map[string]any{"dealname": "Acme - 200 licences", "amount": "12000.50", "deal_currency_code": "USD", "hs_object_id": hstest.DefaultDealID}
	for k, w := range want {
		if props[k] != w {
			t.Errorf("property %s = %v, want %v", k, props[k], w)
		}
	}
	if _, ok := props["nosuch"]; ok {
		t.Error("an unknown property was answered; HubSpot ignores it")
	}
	if _, ok := props["dealstage"]; ok {
		t.Error("a property not asked for was answered")
	}
	results := v["associations"].(map[string]any)["companies"].(map[string]any)["results"].([]any)
	var got []string
	for _, r := range results {
		m := r.(map[string]any)
		got = append(got, m["id"].(string)+" "+m["type"].(string))
	}
	wantAssoc := []string{
		hstest.DefaultOtherCompanyID + " deal_to_company_unlabeled",
		hstest.DefaultCompanyID + " deal_to_company_unlabeled",
		hstest.DefaultCompanyID + " deal_to_company",
	}
	if strings.Join(got, "|") != strings.Join(wantAssoc, "|") {
		t.Errorf("associations = %v, want %v", got, wantAssoc)
	}

	status, v = get(t, srv, "/crm/v3/objects/deals/"+hstest.DefaultBareDealID+"?properties=amount,deal_currency_code&associations=companies", at)
	props = v["properties"].(map[string]any)
	if status != http.StatusOK || props["amount"] != nil || props["deal_currency_code"] != nil || v["associations"] != nil {
		t.Errorf("bare deal = %d %v, want null amount and currency and no associations", status, v)
	}
	if _, ok := props["amount"]; !ok {
		t.Error("an unset property asked for must come back as null, not be left out")
	}
	if n := srv.Reads("deals"); n != 2 {
		t.Errorf("Reads(deals) = %d, want 2", n)
	}
}

func TestCRMErrors(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now,
		App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret, RequiredScopes: []string{"crm.objects.deals.read", "oauth"}}})
	q := authorizeQuery()
	q.Set("scope", "crm.objects.deals.read oauth")
	_, cb := authorize(t, srv, q)
	_, tok := post(t, srv, "/oauth/2026-03/token", codeForm(cb.Get("code")))
	at := tok["access_token"].(string)

	check := func(name, path, token string, status int, category string) {
		t.Helper()
		got, v := get(t, srv, path, token)
		if got != status || v["category"] != category || v["status"] != "error" || v["correlationId"] == nil {
			t.Errorf("%s: %d %v, want %d %s in HubSpot's error shape", name, got, v, status, category)
		}
	}
	check("no token", "/crm/v3/objects/deals/"+hstest.DefaultDealID, "", 401, "INVALID_AUTHENTICATION")
	check("unknown token", "/crm/v3/objects/deals/"+hstest.DefaultDealID, "nope", 401, "INVALID_AUTHENTICATION")
	check("scope not granted", "/crm/v3/objects/companies/"+hstest.DefaultCompanyID, at, 403, "MISSING_SCOPES")
	check("unknown deal", "/crm/v3/objects/deals/999", at, 404, "OBJECT_NOT_FOUND")
	c.Advance(30 * time.Minute)
	check("expired token", "/crm/v3/objects/deals/"+hstest.DefaultDealID, at, 401, "EXPIRED_AUTHENTICATION")
}

// The card request is checked field by field and its signature recomputed
// here from HubSpot's guide, with the decoded URI written out by hand.
func TestSignedCardRequest(t *testing.T) {
	c := newClock()
	srv := hstest.New(t, hstest.Options{Now: c.Now})
	req := srv.SignedCardRequest("https://quotes.example.com/", hstest.DefaultPortalID, hstest.DefaultRepID, hstest.DefaultDealID)

	wireURI := "https://quotes.example.com/api/crm/hubspot/card?associatedObjectId=" + hstest.DefaultDealID +
		"&associatedObjectType=DEAL&userId=1002&portalId=62515&userEmail=rep%40acme.example&appId=4242424"
	signedURI := strings.Replace(wireURI, "rep%40acme.example", "rep@acme.example", 1)
	if req.Method != "GET" || req.URL.String() != wireURI || req.Body != nil {
		t.Fatalf("request = %s %s (body %v), want GET %s without a body", req.Method, req.URL, req.Body, wireURI)
	}
	ts := strconv.FormatInt(c.Now().UnixMilli(), 10)
	if got := req.Header.Get("X-HubSpot-Request-Timestamp"); got != ts {
		t.Errorf("timestamp header = %q, want %s (milliseconds)", got, ts)
	}
	mac := hmac.New(sha256.New, []byte(hstest.DefaultClientSecret))
	mac.Write([]byte("GET" + signedURI + ts))
	if got, want := req.Header.Get("X-HubSpot-Signature-v3"), base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
	if req.Header.Get("X-HubSpot-Signature") != "" {
		t.Error("the card request carries a legacy signature header")
	}

	at := c.Now().Add(-time.Hour)
	old := srv.SignedCardRequest("https://quotes.example.com", hstest.DefaultPortalID, hstest.DefaultRepID, "5", hstest.SignedAt(at), hstest.SignedWith("other"), hstest.OnObjectType("COMPANY"))
	if old.Header.Get("X-HubSpot-Request-Timestamp") != strconv.FormatInt(at.UnixMilli(), 10) || old.URL.Query().Get("associatedObjectType") != "COMPANY" {
		t.Errorf("options not applied: %s %v", old.URL, old.Header)
	}
	mac = hmac.New(sha256.New, []byte("other"))
	mac.Write([]byte("GET" + strings.Replace(old.URL.String(), "%40", "@", 1) + strconv.FormatInt(at.UnixMilli(), 10)))
	if old.Header.Get("X-HubSpot-Signature-v3") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Error("SignedWith did not sign with the given secret")
	}
}

func TestSignedCardRequestOnlyForHubSpotsOwnUsers(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	for name, call := range map[string]func(){
		"unknown user":      func() { srv.SignedCardRequest("https://q.example", hstest.DefaultPortalID, 9, "1") },
		"user of no portal": func() { srv.SignedCardRequest("https://q.example", 7, hstest.DefaultRepID, "1") },
		"app URL with query": func() {
			srv.SignedCardRequest("https://q.example?x=1", hstest.DefaultPortalID, hstest.DefaultRepID, "1")
		},
		"app URL not a URL": func() { srv.SignedCardRequest("quotes", hstest.DefaultPortalID, hstest.DefaultRepID, "1") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SignedCardRequest did not refuse")
				}
			}()
			call()
		})
	}
}

// The base's faults answer in HubSpot's shape: a 429 is the documented
// rate-limit answer, with Retry-After.
func TestInjectedRateLimit(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	if err := srv.Inject(emulator.Fault{Route: "GET /crm/v3/objects/{type}/{id}", Times: 1, Status: 429, RetryAfter: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/crm/v3/objects/deals/"+hstest.DefaultDealID, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" || v["errorType"] != "RATE_LIMIT" || v["status"] != "error" || v["policyName"] == nil {
		t.Errorf("read under a 429 fault: %d Retry-After %q %v, want HubSpot's rate-limit answer", resp.StatusCode, resp.Header.Get("Retry-After"), v)
	}
	if status, v := get(t, srv, "/crm/v3/objects/deals/"+hstest.DefaultDealID, at); status != http.StatusOK {
		t.Errorf("the next read: %d %v, want 200", status, v)
	}
	if n := srv.Reads("deals"); n != 1 {
		t.Errorf("Reads(deals) = %d, want 1: the injected answer never reached the CRM", n)
	}
}
