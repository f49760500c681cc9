package pdtest_test

import (
	"bytes"
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
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// These tests check the emulator against Pipedrive's documentation on the
// wire, without the pipedrive package's clients.

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeQuery() url.Values {
	return url.Values{"client_id": {pdtest.DefaultClientID}, "redirect_uri": {pdtest.DefaultCallbackURL}, "state": {"st-1"}}
}

// authorize GETs the authorize endpoint and returns the status, the
// callback's query (nil without a redirect) and the body.
func authorize(t *testing.T, srv *pdtest.Server, q url.Values) (int, url.Values, string) {
	t.Helper()
	resp, err := noFollow.Get(srv.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc == "" {
		return resp.StatusCode, nil, string(body)
	}
	if !strings.HasPrefix(loc, pdtest.DefaultCallbackURL+"?") {
		t.Fatalf("redirected to %s, not to the registered callback", loc)
	}
	u, _ := url.Parse(loc)
	return resp.StatusCode, u.Query(), string(body)
}

func code(t *testing.T, srv *pdtest.Server) string {
	t.Helper()
	status, q, _ := authorize(t, srv, authorizeQuery())
	if status != http.StatusFound || q.Get("code") == "" {
		t.Fatalf("authorize = %d %v, want a code", status, q)
	}
	return q.Get("code")
}

// tokenRequest POSTs a form to the token endpoint with Basic credentials
// (unless basic is nil) and decodes the JSON answer.
func tokenRequest(t *testing.T, srv *pdtest.Server, basic *[2]string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s answered %d %q, not JSON", req.URL.Path, resp.StatusCode, body)
	}
	return resp.StatusCode, v
}

var app = &[2]string{pdtest.DefaultClientID, pdtest.DefaultClientSecret}

func exchangeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pdtest.DefaultCallbackURL}}
}

func wantOAuthError(t *testing.T, what string, status int, v map[string]any, code, message string) {
	t.Helper()
	if status != http.StatusBadRequest || v["error"] != code || v["message"] != message || v["success"] != false {
		t.Errorf("%s: %d %v, want 400 %s %q", what, status, v, code, message)
	}
}

func TestAuthorize(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})

	t.Run("unknown client or callback shows Pipedrive's page", func(t *testing.T) {
		for _, change := range []func(url.Values){
			func(q url.Values) { q.Set("client_id", "nope") },
			func(q url.Values) { q.Set("redirect_uri", pdtest.DefaultCallbackURL+"/") },
			func(q url.Values) { q.Del("redirect_uri") },
		} {
			q := authorizeQuery()
			change(q)
			status, cb, _ := authorize(t, srv, q)
			if status != http.StatusBadRequest || cb != nil {
				t.Errorf("authorize %v = %d %v, want a 400 page and no redirect", q, status, cb)
			}
		}
	})

	t.Run("install gives a code and the state back", func(t *testing.T) {
		status, q, _ := authorize(t, srv, authorizeQuery())
		if status != http.StatusFound || q.Get("state") != "st-1" || q.Get("error") != "" {
			t.Fatalf("authorize = %d %v, want a code with state st-1", status, q)
		}
		if !strings.HasPrefix(q.Get("code"), "54321.12345.") {
			t.Errorf("code %q, want the documented {company}.{user}.{hex} shape", q.Get("code"))
		}
		q2 := authorizeQuery()
		q2.Del("state")
		_, cb, _ := authorize(t, srv, q2)
		if _, ok := cb["state"]; ok || cb.Get("code") == "" {
			t.Errorf("without state the callback is %v, want a code and no state", cb)
		}
	})

	t.Run("cancel sends user_denied and no code", func(t *testing.T) {
		srv.SetDenyInstall(true)
		defer srv.SetDenyInstall(false)
		status, q, _ := authorize(t, srv, authorizeQuery())
		if status != http.StatusFound || q.Get("error") != "user_denied" || q.Has("code") || q.Get("state") != "st-1" {
			t.Errorf("authorize = %d %v, want error=user_denied with the state", status, q)
		}
	})
}

func TestTokenRefusals(t *testing.T) {
	clk := emulator.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := pdtest.New(t, pdtest.Options{Now: clk.Now})

	t.Run("JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(app[0], app[1])
		status, v := do(t, req)
		wantOAuthError(t, "JSON body", status, v, "invalid_request", "Invalid request: content must be application/x-www-form-urlencoded")
	})

	c := code(t, srv)
	withBody := exchangeForm(c)
	withBody.Set("client_id", app[0])
	withBody.Set("client_secret", app[1])
	cases := []struct {
		name          string
		basic         *[2]string
		form          url.Values
		code, message string
	}{
		{"no credentials", nil, exchangeForm(c), "invalid_client", "Invalid client: cannot retrieve client credentials"},
		{"credentials in the body only", nil, withBody, "invalid_client", "Invalid client: cannot retrieve client credentials"},
		{"wrong secret", &[2]string{app[0], "nope"}, exchangeForm(c), "invalid_client", "Invalid client: client is invalid"},
		{"unknown client", &[2]string{"nope", app[1]}, exchangeForm(c), "invalid_client", "Invalid client: client is invalid"},
		{"no grant_type", app, url.Values{"code": {c}}, "invalid_request", "Missing parameter: grant_type"},
		{"password grant", app, url.Values{"grant_type": {"password"}}, "unsupported_grant_type", "Unsupported grant type: grant_type is invalid"},
		{"no redirect_uri", app, url.Values{"grant_type": {"authorization_code"}, "code": {c}}, "invalid_request", "Invalid request: redirect_uri is not a valid URI"},
		{"other redirect_uri", app, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"https://evil.example/cb"}}, "invalid_request", "Invalid request: redirect_uri is invalid"},
		{"unknown code", app, exchangeForm("54321.12345.nope"), "invalid_grant", "Invalid grant: authorization code is invalid"},
		{"unknown refresh token", app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, "invalid_grant", "Invalid grant: refresh token is invalid"},
	}
	for _, tc := range cases {
		status, v := tokenRequest(t, srv, tc.basic, tc.form)
		wantOAuthError(t, tc.name, status, v, tc.code, tc.message)
	}

	// None of the refusals above reached the code: it still works, once.
	if status, v := tokenRequest(t, srv, app, exchangeForm(c)); status != http.StatusOK {
		t.Fatalf("exchange after refusals = %d %v", status, v)
	}
	status, v := tokenRequest(t, srv, app, exchangeForm(c))
	wantOAuthError(t, "code used twice", status, v, "invalid_grant", "Invalid grant: authorization code is invalid")

	c2 := code(t, srv)
	clk.Advance(pdtest.CodeTTL)
	status, v = tokenRequest(t, srv, app, exchangeForm(c2))
	wantOAuthError(t, "code 5 minutes old", status, v, "invalid_grant", "Invalid grant: authorization code has expired")

	if got := srv.TokenCalls("authorization_code"); got != 10 {
		t.Errorf("TokenCalls(authorization_code) = %d, want 10", got)
	}
}

func TestTokenBodyCredentialsWhenAllowed(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{AllowBodyCredentials: true})
	form := exchangeForm(code(t, srv))
	form.Set("client_id", app[0])
	form.Set("client_secret", app[1])
	if status, v := tokenRequest(t, srv, nil, form); status != http.StatusOK {
		t.Errorf("exchange with body credentials = %d %v, want 200", status, v)
	}
}

func TestTokenLifecycle(t *testing.T) {
	clk := emulator.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv := pdtest.New(t, pdtest.Options{Now: clk.Now})
	status, v := tokenRequest(t, srv, app, exchangeForm(code(t, srv)))
	if status != http.StatusOK {
		t.Fatalf("exchange = %d %v", status, v)
	}
	for _, k := range []string{"access_token", "refresh_token", "scope", "api_domain"} {
		if s, _ := v[k].(string); s == "" {
			t.Errorf("token answer has no %s: %v", k, v)
		}
	}
	if v["token_type"] != "bearer" || v["expires_in"] != json.Number("3600") || v["api_domain"] != srv.URL {
		t.Errorf("token answer %v, want a bearer token for 3600 s on api_domain %s", v, srv.URL)
	}
	if !strings.HasPrefix(v["access_token"].(string), "v1u:") {
		t.Errorf("access token %q, want the documented v1u: prefix", v["access_token"])
	}
	access, refresh := v["access_token"].(string), v["refresh_token"].(string)

	me := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return do(t, req)
	}
	if status, v := me(access); status != http.StatusOK {
		t.Fatalf("users/me = %d %v", status, v)
	}

	// The hour passes: the access token dies, the refresh token gives a new
	// one and comes back unchanged.
	clk.Advance(pdtest.AccessTokenTTL)
	status, v = me(access)
	if status != http.StatusUnauthorized || v["error"] != "Invalid token: access_token is invalid" || v["success"] != false {
		t.Errorf("users/me with an expired token = %d %v, want the documented 401", status, v)
	}
	status, v = tokenRequest(t, srv, app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusOK || v["refresh_token"] != refresh || v["access_token"] == access {
		t.Fatalf("refresh = %d %v, want a new access token and the same refresh token", status, v)
	}
	access = v["access_token"].(string)
	if status, _ := me(access); status != http.StatusOK {
		t.Errorf("users/me with the refreshed token = %d", status)
	}

	srv.ExpireAccessTokens()
	if status, _ := me(access); status != http.StatusUnauthorized {
		t.Errorf("users/me after ExpireAccessTokens = %d, want 401", status)
	}

	// Each use resets the 60 days; 60 days unused kill the refresh token.
	for range 2 {
		clk.Advance(59 * 24 * time.Hour)
		if status, v := tokenRequest(t, srv, app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusOK {
			t.Fatalf("refresh 59 days after the last use = %d %v", status, v)
		}
	}
	clk.Advance(pdtest.RefreshTokenIdle)
	status, v = tokenRequest(t, srv, app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	wantOAuthError(t, "refresh after 60 idle days", status, v, "invalid_grant", "Invalid grant: refresh token is invalid")
	if got := srv.TokenCalls("refresh_token"); got != 4 {
		t.Errorf("TokenCalls(refresh_token) = %d, want 4", got)
	}
}

func TestUninstallRevokesTokens(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	_, v := tokenRequest(t, srv, app, exchangeForm(code(t, srv)))
	srv.Uninstall(pdtest.DefaultCompanyID)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+v["access_token"].(string))
	if status, _ := do(t, req); status != http.StatusUnauthorized {
		t.Errorf("users/me after uninstall = %d, want 401", status)
	}
	status, v := tokenRequest(t, srv, app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {v["refresh_token"].(string)}})
	wantOAuthError(t, "refresh after uninstall", status, v, "invalid_grant", "Invalid grant: refresh token is invalid")
}

// connect installs the app as the logged-in user and returns the tokens.
func connect(t *testing.T, srv *pdtest.Server) map[string]any {
	t.Helper()
	status, v := tokenRequest(t, srv, app, exchangeForm(code(t, srv)))
	if status != http.StatusOK {
		t.Fatalf("exchange = %d %v", status, v)
	}
	return v
}

func get(t *testing.T, srv *pdtest.Server, auth, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req)
}

func TestAPI(t *testing.T) {
	other := pdtest.Company{ID: 999, Name: "Initech", Domain: "initech",
		Users: []pdtest.User{{ID: 900, Name: "Other", Email: "o@initech.example"}},
		Deals: []pdtest.Deal{{ID: 90, Title: "Theirs", Value: "1", Currency: "USD"}}}
	srv := pdtest.New(t, pdtest.Options{Companies: []pdtest.Company{
		{ID: pdtest.DefaultCompanyID, Name: "Acme", Domain: "acme",
			Users: []pdtest.User{{ID: pdtest.DefaultAdminID, Name: "Ada", Email: "ada@acme.example", Admin: true}},
			Orgs:  []pdtest.Org{{ID: 7, Name: "Globex"}},
			Deals: []pdtest.Deal{{ID: 3, Title: "Big", Value: "12000.50", Currency: "EUR", OrgID: 7}, {ID: 4, Title: "Lone", Currency: "USD"}}},
		other,
	}})
	bearer := "Bearer " + connect(t, srv)["access_token"].(string)

	status, v := get(t, srv, bearer, "/api/v1/users/me")
	data, _ := v["data"].(map[string]any)
	if status != http.StatusOK || v["success"] != true || data["id"] != json.Number("12345") ||
		data["company_id"] != json.Number("54321") || data["company_domain"] != "acme" || data["is_admin"] != json.Number("1") {
		t.Errorf("users/me = %d %v, want Ada of company 54321 (acme), is_admin 1", status, v)
	}

	status, v = get(t, srv, bearer, "/api/v2/deals/3")
	data, _ = v["data"].(map[string]any)
	if status != http.StatusOK || data["title"] != "Big" || data["value"] != json.Number("12000.50") ||
		data["currency"] != "EUR" || data["org_id"] != json.Number("7") || data["status"] != "open" {
		t.Errorf("deal 3 = %d %v, want Big, 12000.50 EUR, org 7", status, v)
	}
	status, v = get(t, srv, bearer, "/api/v2/deals/4")
	data, _ = v["data"].(map[string]any)
	if status != http.StatusOK || data["org_id"] != nil || data["value"] != json.Number("0") {
		t.Errorf("deal 4 = %d %v, want org_id null and value 0", status, v)
	}
	status, v = get(t, srv, bearer, "/api/v2/organizations/7")
	data, _ = v["data"].(map[string]any)
	if status != http.StatusOK || data["name"] != "Globex" {
		t.Errorf("organization 7 = %d %v, want Globex", status, v)
	}

	for _, path := range []string{"/api/v2/deals/90", "/api/v2/deals/5", "/api/v2/deals/x"} {
		status, v = get(t, srv, bearer, path)
		if status != http.StatusNotFound || v["success"] != false || v["error"] != "Deal not found" || v["error_info"] == nil {
			t.Errorf("%s = %d %v, want the documented 404", path, status, v)
		}
	}

	status, v = get(t, srv, "", "/api/v2/deals/3")
	if status != http.StatusUnauthorized || v["success"] != false {
		t.Errorf("no Authorization = %d %v, want 401", status, v)
	}
	status, v = get(t, srv, "Token abc", "/api/v2/deals/3")
	if status != http.StatusBadRequest || v["error"] != "Invalid request: malformed authorization header" {
		t.Errorf("malformed Authorization = %d %v, want the documented 400", status, v)
	}
	if got := srv.APICalls("/api/v2/deals/3"); got != 3 {
		t.Errorf("APICalls(/api/v2/deals/3) = %d, want 3", got)
	}
}

func TestAPIScopes(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		Scopes: []string{"base", "deals:read"}}})
	tokens := connect(t, srv)
	if tokens["scope"] != "base,deals:read" {
		t.Errorf("scope = %v, want base,deals:read", tokens["scope"])
	}
	bearer := "Bearer " + tokens["access_token"].(string)
	if status, _ := get(t, srv, bearer, "/api/v2/deals/3"); status != http.StatusOK {
		t.Errorf("deal with deals:read = %d, want 200", status)
	}
	status, v := get(t, srv, bearer, "/api/v2/organizations/7")
	if status != http.StatusForbidden || v["error"] != "Scope and URL mismatch" {
		t.Errorf("organization without contacts scope = %d %v, want the documented 403", status, v)
	}
}

// decodeToken checks an extension token's HS256 signature with key and
// returns its header and payload.
func decodeToken(t *testing.T, tok string, key string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", tok)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		t.Fatalf("token is not signed with %q", key)
	}
	var h, p map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(pb, &p) != nil {
		t.Fatalf("token %q does not decode", tok)
	}
	return h, p
}

func TestPanelRequest(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, jwtSecret, key string
	}{
		{"JWT secret configured", "panel-secret", "panel-secret"},
		{"no JWT secret: the client secret signs", "", pdtest.DefaultClientSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := pdtest.New(t, pdtest.Options{Now: func() time.Time { return now },
				App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, PanelJWTSecret: tc.jwtSecret, CustomPanelJWTSecret: "other"}})
			req, err := srv.PanelRequest("https://app.example/api/crm/pipedrive/panel", pdtest.PanelParams{DealID: 3})
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != http.MethodGet || req.Header.Get("Authorization") != "" {
				t.Errorf("request %s with Authorization %q, want a GET without HTTP Auth", req.Method, req.Header.Get("Authorization"))
			}
			raw := req.URL.RawQuery
			tok := req.URL.Query().Get("token")
			want := "resource=deal&view=details&userId=12345&companyId=54321&selectedIds=3&isShared=false&token=" + tok
			if req.URL.Scheme+"://"+req.URL.Host+req.URL.Path != "https://app.example/api/crm/pipedrive/panel" || raw != want {
				t.Errorf("request URL %s, want the endpoint with query %s", req.URL, want)
			}
			h, p := decodeToken(t, tok, tc.key)
			if h["alg"] != "HS256" || p["userId"] != float64(12345) || p["companyId"] != float64(54321) ||
				p["iat"] != float64(now.Unix()) || p["exp"] != float64(now.Add(5*time.Minute).Unix()) {
				t.Errorf("token header %v payload %v, want HS256 for user 12345 of company 54321, 5 minutes", h, p)
			}
		})
	}

	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: "c", ClientSecret: "s", PanelUsername: "qwoty", PanelPassword: "pw"}})
	req, err := srv.PanelRequest("https://app.example/panel?tenant=a", pdtest.PanelParams{UserID: pdtest.DefaultRepID, DealID: 4, IsShared: true})
	if err != nil {
		t.Fatal(err)
	}
	if u, p, ok := req.BasicAuth(); !ok || u != "qwoty" || p != "pw" {
		t.Errorf("Basic auth %q %q %v, want the panel's HTTP Auth", u, p, ok)
	}
	if q := req.URL.Query(); q.Get("tenant") != "a" || q.Get("userId") != "12346" || q.Get("isShared") != "true" || q.Get("selectedIds") != "4" {
		t.Errorf("query %s, want the registered query kept, the rep, deal 4, shared", req.URL.RawQuery)
	}
	if _, err := srv.PanelRequest("https://app.example/panel", pdtest.PanelParams{UserID: 777, DealID: 3}); err == nil {
		t.Error("a panel request for an unknown user succeeded")
	}
}

func TestCustomUIURLAndSignedToken(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	srv := pdtest.New(t, pdtest.Options{Now: func() time.Time { return now },
		App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, CustomPanelJWTSecret: "iframe-secret", PanelJWTSecret: "other"}})
	raw, err := srv.CustomUIURL("https://app.example/embed/pipedrive/card", pdtest.CustomUIParams{DealID: 3})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := "userId=12345&companyId=54321&token=" + q.Get("token") + "&id=" + q.Get("id") + "&resource=deal&view=details&selectedIds=3"
	if u.Path != "/embed/pipedrive/card" || u.RawQuery != want || len(q.Get("id")) < 16 {
		t.Errorf("iframe URL %s, want the card with query %s and a runtime id", raw, want)
	}
	_, p := decodeToken(t, q.Get("token"), "iframe-secret")
	if p["companyId"] != float64(54321) || p["exp"] != float64(now.Add(5*time.Minute).Unix()) {
		t.Errorf("iframe token payload %v", p)
	}
	other, _ := srv.CustomUIURL("https://app.example/embed/pipedrive/card", pdtest.CustomUIParams{DealID: 3})
	if o, _ := url.Parse(other); o.Query().Get("id") == q.Get("id") {
		t.Error("two loads got the same runtime id")
	}

	tok, err := srv.SignedToken(pdtest.DefaultRepID)
	if err != nil {
		t.Fatal(err)
	}
	_, p = decodeToken(t, tok, "iframe-secret")
	if p["userId"] != float64(pdtest.DefaultRepID) || p["exp"] != float64(now.Add(5*time.Minute).Unix()) {
		t.Errorf("GET_SIGNED_TOKEN payload %v, want the rep for 5 minutes", p)
	}
}

// The base's faults answer in Pipedrive's error envelope.
func TestInjectedServerError(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{})
	tok := connect(t, srv)["access_token"].(string)
	if err := srv.Inject(emulator.Fault{Route: "GET /api/v2/deals/{id}", Times: 1, Status: 500}); err != nil {
		t.Fatal(err)
	}
	path := "/api/v2/deals/" + strconv.Itoa(pdtest.DefaultDealID)
	status, v := get(t, srv, "Bearer "+tok, path)
	if status != 500 || v["success"] != false || v["error"] != "Internal Server Error" || v["errorCode"] != json.Number("500") {
		t.Errorf("deal under a 500 fault: %d %v, want Pipedrive's error envelope", status, v)
	}
	if status, v := get(t, srv, "Bearer "+tok, path); status != http.StatusOK {
		t.Errorf("the next read: %d %v, want 200", status, v)
	}
}
