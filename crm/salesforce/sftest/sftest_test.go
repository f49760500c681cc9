package sftest_test

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
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// These tests check the emulator against Salesforce's documented (and, where
// noted in the code, observed) behaviour on the wire, without the client.

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk0123456789"

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeQuery() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {sftest.DefaultClientID}, "redirect_uri": {sftest.DefaultCallbackURL},
		"scope": {"api refresh_token"}, "state": {"st"}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"},
	}
}

// get GETs the authorize endpoint and returns the status, the redirect's
// query (nil without a redirect) and the body.
func get(t *testing.T, srv *sftest.Server, q url.Values) (int, url.Values, string) {
	t.Helper()
	resp, err := noFollow.Get(srv.URL + "/services/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(loc, sftest.DefaultCallbackURL+"?") {
			t.Fatalf("redirected to %s, not to the registered callback", loc)
		}
		return resp.StatusCode, u.Query(), string(body)
	}
	return resp.StatusCode, nil, string(body)
}

func code(t *testing.T, srv *sftest.Server) string {
	t.Helper()
	status, q, _ := get(t, srv, authorizeQuery())
	if status != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("authorize = %d %v, want a code", status, q)
	}
	return q.Get("code")
}

// post POSTs a form and decodes the JSON answer.
func post(t *testing.T, srv *sftest.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	body, _ := io.ReadAll(resp.Body)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s answered %d %q, not JSON", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, v
}

func exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {sftest.DefaultClientID},
		"client_secret": {sftest.DefaultClientSecret}, "redirect_uri": {sftest.DefaultCallbackURL}, "code_verifier": {verifier},
	}
}

func wantOAuthError(t *testing.T, what string, status int, v map[string]any, code, description string) {
	t.Helper()
	if status != http.StatusBadRequest || v["error"] != code || v["error_description"] != description {
		t.Errorf("%s: %d %v, want 400 %s %q", what, status, v, code, description)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	cases := []struct {
		name   string
		change func(url.Values)
		// page: the error shows on Salesforce's page, without a redirect.
		page        bool
		code, descr string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, true, "invalid_client_id", "client identifier invalid"},
		{"callback not registered", func(q url.Values) { q.Set("redirect_uri", sftest.DefaultCallbackURL+"/") }, true, "redirect_uri_mismatch", "redirect_uri must match configuration"},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "token") }, false, "unsupported_response_type", "response type not supported"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, false, "invalid_request", "missing required code challenge"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, false, "invalid_request", "invalid code challenge"},
		{"malformed challenge", func(q url.Values) { q.Set("code_challenge", "short") }, false, "invalid_request", "invalid code challenge"},
		{"scope the app lacks", func(q url.Values) { q.Set("scope", "api full") }, false, "invalid_scope", "the requested scope is not allowed"},
	}
	for _, c := range cases {
		q := authorizeQuery()
		c.change(q)
		status, redirect, body := get(t, srv, q)
		if c.page {
			want := "error=" + c.code + "&error_description=" + url.PathEscape(c.descr)
			if status != http.StatusBadRequest || redirect != nil || body != want {
				t.Errorf("%s: %d redirect=%v body=%q; want 400, no redirect, %q", c.name, status, redirect, body, want)
			}
			continue
		}
		if status != http.StatusFound || redirect.Get("error") != c.code || redirect.Get("error_description") != c.descr ||
			redirect.Get("state") != "st" || redirect.Get("code") != "" {
			t.Errorf("%s: %d %v; want a redirect with error %s %q and the state", c.name, status, redirect, c.code, c.descr)
		}
	}
}

func TestTokenAnswerLikeSalesforce(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	srv := sftest.New(t, sftest.Options{Now: func() time.Time { return now }})
	status, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, v)
	}
	id := srv.URL + "/id/" + sftest.DefaultOrgID + "/" + sftest.DefaultAdminID
	issuedAt := strconv.FormatInt(now.UnixMilli(), 10)
	for k, want := range map[string]any{"instance_url": srv.URL, "id": id, "token_type": "Bearer", "issued_at": issuedAt, "scope": "api refresh_token"} {
		if v[k] != want {
			t.Errorf("%s = %v, want %v", k, v[k], want)
		}
	}
	mac := hmac.New(sha256.New, []byte(sftest.DefaultClientSecret))
	mac.Write([]byte(id + issuedAt))
	if v["signature"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature = %v, want base64(HMAC-SHA256(secret, id+issued_at))", v["signature"])
	}
	if at, _ := v["access_token"].(string); !strings.HasPrefix(at, sftest.DefaultOrgID[:15]+"!") {
		t.Errorf("access_token = %q, want Salesforce's orgId!... shape", at)
	}
	rt, _ := v["refresh_token"].(string)
	if rt == "" {
		t.Fatal("the code grant answered no refresh_token")
	}

	status, v = post(t, srv, "/services/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {sftest.DefaultClientID}, "client_secret": {sftest.DefaultClientSecret}})
	if status != http.StatusOK || v["access_token"] == nil || v["signature"] == nil {
		t.Fatalf("refresh: %d %v", status, v)
	}
	if _, ok := v["refresh_token"]; ok {
		t.Errorf("refresh without rotation answered a refresh_token: %v", v)
	}
}

func TestRotationAnswersNewRefreshToken(t *testing.T) {
	srv := sftest.New(t, sftest.Options{RotateRefreshTokens: true})
	_, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
	old := v["refresh_token"].(string)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {sftest.DefaultClientID}, "client_secret": {sftest.DefaultClientSecret}}
	status, v := post(t, srv, "/services/oauth2/token", form)
	if status != http.StatusOK || v["refresh_token"] == nil || v["refresh_token"] == old {
		t.Fatalf("rotating refresh: %d %v, want a new refresh_token", status, v)
	}
	status, v = post(t, srv, "/services/oauth2/token", form)
	wantOAuthError(t, "refresh with the rotated-out token", status, v, "invalid_grant", "expired access/refresh token")
}

func TestCodeGrantRefusals(t *testing.T) {
	clock := emulator.NewClock(time.Now())
	srv := sftest.New(t, sftest.Options{Now: clock.Now})

	c := code(t, srv)
	clock.Advance(sftest.CodeTTL - time.Second)
	if status, v := post(t, srv, "/services/oauth2/token", exchangeForm(c)); status != http.StatusOK {
		t.Errorf("exchange 1 s before the code expires: %d %v", status, v)
	}

	c = code(t, srv)
	clock.Advance(sftest.CodeTTL)
	status, v := post(t, srv, "/services/oauth2/token", exchangeForm(c))
	wantOAuthError(t, "expired code", status, v, "invalid_grant", "expired authorization code")

	f := exchangeForm(code(t, srv))
	f.Set("redirect_uri", "https://elsewhere.example/cb")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "other redirect_uri", status, v, "redirect_uri_mismatch", "redirect_uri must match configuration")

	f = exchangeForm(code(t, srv))
	f.Del("code_verifier")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "no verifier", status, v, "invalid_grant", "invalid code verifier")

	f = exchangeForm(code(t, srv))
	f.Set("client_secret", "wrong")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "wrong secret", status, v, "invalid_client", "invalid client credentials")

	f.Set("client_id", "someone-else")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "unknown client", status, v, "invalid_client_id", "client identifier invalid")

	f = exchangeForm(code(t, srv))
	f.Set("grant_type", "password")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "password grant", status, v, "unsupported_grant_type", "grant type not supported")

	f = exchangeForm("never-issued")
	status, v = post(t, srv, "/services/oauth2/token", f)
	wantOAuthError(t, "unknown code", status, v, "invalid_grant", "invalid authorization code")

	// The client secret in the query string is not a body parameter.
	f = exchangeForm(code(t, srv))
	secret := f.Get("client_secret")
	f.Del("client_secret")
	resp, err := http.Post(srv.URL+"/services/oauth2/token?client_secret="+url.QueryEscape(secret),
		"application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("secret in the query: %d, want 400", resp.StatusCode)
	}

	if n := srv.TokenCalls("authorization_code"); n != 8 {
		t.Errorf("TokenCalls(authorization_code) = %d, want 8 (refused ones count)", n)
	}
	if n := srv.TokenCalls("password"); n != 1 {
		t.Errorf("TokenCalls(password) = %d, want 1", n)
	}
}

func TestAccessTokenLifetimeAndRevocation(t *testing.T) {
	clock := emulator.NewClock(time.Now())
	srv := sftest.New(t, sftest.Options{Now: clock.Now})
	_, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
	at, rt := v["access_token"].(string), v["refresh_token"].(string)

	if status, _ := apex(t, srv, at, "GET", "/Qwoty/qwoty/config", ""); status != http.StatusOK {
		t.Fatalf("fresh token: %d", status)
	}
	clock.Advance(sftest.AccessTokenTTL)
	if status, body := apex(t, srv, at, "GET", "/Qwoty/qwoty/config", ""); status != http.StatusUnauthorized ||
		body != `[{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]` {
		t.Errorf("token past the session timeout: %d %s", status, body)
	}

	// Revoking an access token leaves its refresh token alive.
	_, v = post(t, srv, "/services/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {sftest.DefaultClientID}, "client_secret": {sftest.DefaultClientSecret}})
	at2 := v["access_token"].(string)
	if status, v := post(t, srv, "/services/oauth2/revoke", url.Values{"token": {at2}}); status != http.StatusOK {
		t.Fatalf("revoke access token: %d %v", status, v)
	}
	if status, _ := apex(t, srv, at2, "GET", "/Qwoty/qwoty/config", ""); status != http.StatusUnauthorized {
		t.Errorf("revoked access token: %d, want 401", status)
	}
	status, v := post(t, srv, "/services/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {sftest.DefaultClientID}, "client_secret": {sftest.DefaultClientSecret}})
	if status != http.StatusOK {
		t.Errorf("refresh after revoking only an access token: %d %v", status, v)
	}
	status, v = post(t, srv, "/services/oauth2/revoke", url.Values{"token": {"never-issued"}})
	wantOAuthError(t, "revoke unknown token", status, v, "invalid_token", "invalid token")
}

// apex calls an Apex REST path with a token and returns the status and the
// body with Salesforce's key order normalised.
func apex(t *testing.T, srv *sftest.Server, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+"/services/apexrest"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if json.Unmarshal(b, &v) == nil {
		b, _ = json.Marshal(v) // sorted keys
	}
	return resp.StatusCode, string(b)
}

func token(t *testing.T, srv *sftest.Server) string {
	t.Helper()
	_, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
	return v["access_token"].(string)
}

func TestApexRESTAnswersOfSalesforce(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	at := token(t, srv)
	cases := []struct {
		token, method, path string
		status              int
		body                string
	}{
		{"", "GET", "/Qwoty/qwoty/config", 401, `[{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]`},
		{"garbage", "GET", "/Qwoty/qwoty/config", 401, `[{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]`},
		{at, "GET", "/Qwoty/qwoty/nothing", 404, `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL /Qwoty/qwoty/nothing"}]`},
		{at, "GET", "/qwoty/config", 404, `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL /qwoty/config"}]`},
		{at, "POST", "/Qwoty/qwoty/config", 405, `[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'POST' not allowed. Allowed are GET,PUT,DELETE"}]`},
		{at, "GET", "/Qwoty/qwoty/ping", 405, `[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'GET' not allowed. Allowed are POST"}]`},
	}
	for _, c := range cases {
		if status, body := apex(t, srv, c.token, c.method, c.path, ""); status != c.status || body != c.body {
			t.Errorf("%s %s: %d %s; want %d %s", c.method, c.path, status, body, c.status, c.body)
		}
	}
	srv.SetPackageInstalled(sftest.DefaultOrgID, false)
	if status, body := apex(t, srv, at, "GET", "/Qwoty/qwoty/config", ""); status != 404 ||
		body != `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL /Qwoty/qwoty/config"}]` {
		t.Errorf("config without the package: %d %s", status, body)
	}
}

// The config resource validates as QwotyConfigResource.cls does, with its
// exact messages (docs/salesforce-package.md, "The config endpoint").
func TestConfigValidation(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	at := token(t, srv)
	const good = "abcdefghijklmnopqrstuvwxyz_-0123456789ABCDEFG" // 45 characters
	secretRule := `secret must be a string of 32 to 255 characters of A-Z, a-z, 0-9, \"_\" and \"-\"`
	appRule := "appUrl must be an https origin such as https://quotes.example.com, without path, trailing slash, query or fragment (http only for localhost); got "
	cases := []struct {
		body    string
		field   string
		message string
	}{
		{``, "", `The request body must be a JSON object: {\"secret\": \"...\", \"appUrl\": \"https://...\"}.`},
		{`[1]`, "", `The request body must be a JSON object: {\"secret\": \"...\", \"appUrl\": \"https://...\"}.`},
		{"{\"secret\":\"\xff\"}", "", `The request body must be a JSON object: {\"secret\": \"...\", \"appUrl\": \"https://...\"}.`},
		{`{"appUrl":"https://a.example"}`, "secret", secretRule + `, and is required.`},
		{`{"secret":42}`, "secret", secretRule + `, not a JSON number.`},
		{`{"secret":"short"}`, "secret", secretRule + ` (got 5 characters).`},
		{`{"secret":"` + good + `!"}`, "secret", secretRule + ` (got a character outside that set).`},
		{`{"secret":"` + good + `"}`, "appUrl", appRule + `nothing (it is required).`},
		{`{"secret":"` + good + `","appUrl":true}`, "appUrl", appRule + `a JSON boolean.`},
		{`{"secret":"` + good + `","appUrl":"https://a.example/"}`, "appUrl", appRule + `\"https://a.example/\".`},
		{`{"secret":"` + good + `","appUrl":"http://a.example"}`, "appUrl", appRule + `\"http://a.example\".`},
		{`{"secret":"` + good + `","appUrl":"HTTPS://a.example"}`, "appUrl", appRule + `\"HTTPS://a.example\".`},
		{`{"secret":"` + good + `","appUrl":"https://a.example:65536"}`, "appUrl", appRule + `\"https://a.example:65536\".`},
		{`{"secret":"` + good + `","appUrl":"https://a.example?x=1"}`, "appUrl", appRule + `\"https://a.example?x=1\".`},
	}
	for _, c := range cases {
		status, body := apex(t, srv, at, "PUT", "/Qwoty/qwoty/config", c.body)
		field := "null"
		if c.field != "" {
			field = `"` + c.field + `"`
		}
		want := `{"code":"BAD_REQUEST","field":` + field + `,"hint":"The Qwoty server sent a request this package version does not accept: upgrade the package, or send the message to Qwoty support.","message":"` +
			c.message + `","ok":false}`
		if status != 400 || body != want {
			t.Errorf("PUT %q:\n got %d %s\nwant 400 %s", c.body, status, body, want)
		}
	}
	if rec := srv.Config(sftest.DefaultOrgID); rec.Configured {
		t.Errorf("refused PUTs wrote %+v", rec)
	}

	for _, ok := range []string{"https://a.example", "https://a.example:8443", "http://localhost:8080", "http://127.0.0.1:1"} {
		status, body := apex(t, srv, at, "PUT", "/Qwoty/qwoty/config", `{"secret":"`+good+`","appUrl":"`+ok+`","extra":1}`)
		want := `{"appUrl":"` + ok + `","configured":true,"ok":true,"orgId":"` + sftest.DefaultOrgID + `","secretSet":true}`
		if status != 200 || body != want {
			t.Errorf("PUT appUrl %s: %d %s, want 200 %s", ok, status, body, want)
		}
		if strings.Contains(body, good) {
			t.Errorf("the answer carries the secret: %s", body)
		}
	}
}

func TestConfigNeedsAdmin(t *testing.T) {
	srv := sftest.New(t, sftest.Options{LoginAs: "rep@acme.example"})
	at := token(t, srv)
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		status, body := apex(t, srv, at, m, "/Qwoty/qwoty/config", "not even JSON")
		if status != 403 || !strings.Contains(body, `"code":"INSUFFICIENT_ACCESS"`) || !strings.Contains(body, "rep@acme.example has neither.") {
			t.Errorf("%s as a rep: %d %s, want 403 INSUFFICIENT_ACCESS naming the user", m, status, body)
		}
	}
}

func TestIdentityRefusals(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	at := token(t, srv)
	get := func(path, tok string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	own := "/id/" + sftest.DefaultOrgID + "/" + sftest.DefaultAdminID
	cases := []struct {
		path, tok string
		status    int
		body      string
	}{
		{own, "", 403, "Missing_OAuth_Token"},
		{own, "garbage", 403, "Bad_OAuth_Token"},
		{"/id/" + sftest.DefaultOrgID + "/" + sftest.DefaultRepID, at, 404, "Bad_Id"},
	}
	for _, c := range cases {
		if status, body := get(c.path, c.tok); status != c.status || body != c.body {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, status, body, c.status, c.body)
		}
	}
	if status, body := get(own+"?oauth_token="+url.QueryEscape(at), ""); status != 200 || !strings.Contains(body, `"organization_id":"`+sftest.DefaultOrgID+`"`) {
		t.Errorf("identity with oauth_token: %d %s", status, body)
	}
}

func TestLoginAsPicksUserAndOrg(t *testing.T) {
	srv := sftest.New(t, sftest.Options{Orgs: []sftest.Org{
		{ID: sftest.DefaultOrgID, MyDomain: "acme", Users: []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Admin: true}}},
		{ID: "00D5g000004Beta", MyDomain: "beta", Users: []sftest.User{{ID: "0055g00000BetaA", Username: "admin@beta.example", Admin: true}}},
	}})
	if err := srv.SetLoginUser("admin@beta.example"); err != nil {
		t.Fatal(err)
	}
	_, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
	if want := srv.URL + "/id/00D5g000004BetaEAC/0055g00000BetaAAAR"; v["id"] != want {
		t.Errorf("id = %v, want %s (18-character ids of the beta org)", v["id"], want)
	}
	if err := srv.SetLoginUser("nobody@example.com"); err == nil {
		t.Error("SetLoginUser accepted an unknown user")
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]sftest.Options{
		"bad org id":     {Orgs: []sftest.Org{{ID: "0065g00000AbCdE", Users: []sftest.User{{ID: sftest.DefaultAdminID}}}}},
		"bad user id":    {Orgs: []sftest.Org{{ID: sftest.DefaultOrgID, Users: []sftest.User{{ID: "0065g00000AbCdE"}}}}},
		"duplicate user": {Orgs: []sftest.Org{{ID: sftest.DefaultOrgID, Users: []sftest.User{{ID: sftest.DefaultAdminID}, {ID: sftest.DefaultAdminID}}}}},
		"unknown login":  {LoginAs: "ghost"},
		"no users":       {Orgs: []sftest.Org{{ID: sftest.DefaultOrgID}}},
	} {
		if s, err := sftest.Start(o); err == nil {
			s.Close()
			t.Errorf("%s: Start accepted it", name)
		}
	}
}

// Many browsers and servers at once: run with -race.
func TestConcurrentUse(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, v := post(t, srv, "/services/oauth2/token", exchangeForm(code(t, srv)))
			at, _ := v["access_token"].(string)
			if status, _ := apex(t, srv, at, "PUT", "/Qwoty/qwoty/config",
				`{"secret":"abcdefghijklmnopqrstuvwxyz_-0123456789","appUrl":"https://a.example"}`); status != 200 {
				t.Errorf("PUT config: %d", status)
			}
		})
		// Readers and controls race with the flows.
		wg.Go(func() { _ = srv.Config(sftest.DefaultOrgID); _ = srv.TokenCalls("authorization_code") })
	}
	wg.Wait()
	srv.ExpireAccessTokens()
	if n := srv.TokenCalls("authorization_code"); n != 16 {
		t.Errorf("TokenCalls = %d, want 16", n)
	}
}

// Start and Close, without a test, as the dev server runs it.
func TestStartOnAddr(t *testing.T) {
	s, err := sftest.Start(sftest.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL, "http://")
	if _, err := sftest.Start(sftest.Options{Addr: addr}); err == nil {
		t.Errorf("a second server started on the busy %s", addr)
	}
	if status, _, _ := get(t, s, authorizeQuery()); status != http.StatusFound {
		t.Errorf("authorize on %s: %d", s.URL, status)
	}
	s.Close()
	if _, err := http.Get(s.URL + "/id/x/y"); err == nil {
		t.Errorf("%s still answers after Close", s.URL)
	}
}

// The base's faults answer in Salesforce's error shape, and its ledger
// names the org a write acted for; a dropped PUT is applied all the same.
func TestFaultsAndLedger(t *testing.T) {
	srv := sftest.New(t, sftest.Options{})
	at := token(t, srv)
	const config = `{"secret":"abcdefghijklmnopqrstuvwxyz_-0123456789","appUrl":"https://a.example"}`
	if err := srv.Inject(emulator.Fault{Route: "PUT /services/apexrest/", Times: 1, Status: 503, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	if status, body := apex(t, srv, at, "PUT", "/Qwoty/qwoty/config", config); status != 503 ||
		body != `[{"errorCode":"SERVER_UNAVAILABLE","message":"Service Unavailable"}]` {
		t.Errorf("PUT under a 503 fault: %d %s", status, body)
	}
	if srv.Config(sftest.DefaultOrgID).Configured {
		t.Error("the refused PUT wrote the config")
	}
	if err := srv.Inject(emulator.Fault{Route: "PUT /services/apexrest/", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", srv.URL+"/services/apexrest/Qwoty/qwoty/config", strings.NewReader(config))
	req.Header.Set("Authorization", "Bearer "+at)
	if resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped PUT answered %d", resp.StatusCode)
	}
	if !srv.Config(sftest.DefaultOrgID).Configured {
		t.Error("the dropped PUT was not applied")
	}
	w := srv.Writes()
	if len(w) != 3 {
		t.Fatalf("ledger holds %d writes, want 3 (the token request and two PUTs)", len(w))
	}
	if w[0].Path != "/services/oauth2/token" || w[0].Body != nil {
		t.Errorf("first write %s %q, want the token request without its body", w[0].Path, w[0].Body)
	}
	if w[1].Status != 503 || !w[1].Injected {
		t.Errorf("second write: status %d injected %v, want the injected 503", w[1].Status, w[1].Injected)
	}
	if w[2].Status != 200 || !w[2].Dropped || w[2].Account != sftest.DefaultOrgID || string(w[2].Body) != config {
		t.Errorf("third write: status %d dropped %v account %q body %q, want the org's dropped 200", w[2].Status, w[2].Dropped, w[2].Account, w[2].Body)
	}
}
