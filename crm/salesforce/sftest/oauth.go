package sftest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type authCode struct {
	user        *user
	redirectURI string
	challenge   string
	scope       string
	expires     time.Time
}

type accessToken struct {
	user    *user
	issued  time.Time
	refresh string
	expired bool
}

type refreshToken struct {
	user    *user
	scope   string
	revoked bool
}

// authorize is GET /services/oauth2/authorize. The browser is assumed logged
// in as the LoginAs user, who approves at once; with Options.ShowLogin the
// user logs in and allows access first (POST, login.go).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			errorPage(w, "invalid_request", "request body is not a form")
			return
		}
		q = r.PostForm
	}
	// An unknown client or callback cannot be trusted with a redirect:
	// Salesforce shows the error on its own page (observed: the page reads
	// "error=invalid_client_id&error_description=client%20identifier%20invalid").
	if q.Get("client_id") != s.opts.App.ClientID {
		errorPage(w, "invalid_client_id", "client identifier invalid")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !slices.Contains(s.opts.App.CallbackURLs, redirectURI) {
		errorPage(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	state := q.Get("state")
	fail := func(code, description string) { redirectError(w, r, redirectURI, state, code, description) }

	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response type not supported")
		return
	}
	// The app requires PKCE (its global OAuth settings), so a missing
	// challenge fails here (observed message); only S256 is modelled.
	challenge := q.Get("code_challenge")
	if challenge == "" {
		fail("invalid_request", "missing required code challenge")
		return
	}
	if q.Get("code_challenge_method") != "S256" || !validChallenge(challenge) {
		fail("invalid_request", "invalid code challenge")
		return
	}
	scope, ok := s.grantScope(q.Get("scope"))
	if !ok {
		fail("invalid_scope", "the requested scope is not allowed")
		return
	}

	s.mu.Lock()
	u := s.loginAs
	s.mu.Unlock()
	if s.opts.ShowLogin {
		var done bool
		if u, done = s.loginAndConsent(w, r, q, fail); done {
			return
		}
	}
	s.mu.Lock()
	if !u.org.installed {
		s.mu.Unlock()
		// Observed after a successful login when the External Client App is
		// not installed in the user's org; the description is assumed.
		fail("OAUTH_EC_APP_NOT_FOUND", "External client app is not installed in this org")
		return
	}
	code := "aPrx" + randomToken(48)
	s.codes[code] = &authCode{user: u, redirectURI: redirectURI, challenge: challenge, scope: scope,
		expires: s.now().Add(s.opts.CodeTTL)}
	s.mu.Unlock()

	params := url.Values{"code": {code}}
	if state != "" {
		params.Set("state", state)
	}
	redirect(w, r, redirectURI, params)
}

// grantScope returns the scopes granted for a request: those asked for,
// which must all be the app's, or all of the app's when none are asked for.
func (s *Server) grantScope(requested string) (string, bool) {
	asked := strings.Fields(requested)
	if len(asked) == 0 {
		return strings.Join(s.opts.App.Scopes, " "), true
	}
	for _, sc := range asked {
		if !slices.Contains(s.opts.App.Scopes, sc) {
			return "", false
		}
	}
	return strings.Join(asked, " "), true
}

// validChallenge: an S256 challenge is the base64url (unpadded) SHA-256 of
// the verifier, so exactly 43 characters of the URL-safe alphabet.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// token is POST /services/oauth2/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.opts.TokenDelay > 0 {
		select {
		case <-time.After(s.opts.TokenDelay):
		case <-r.Context().Done():
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "request body is not a form")
		return
	}
	// Only the body counts: the client secret is a body parameter in
	// Salesforce's documentation of both grants.
	f := r.PostForm
	grant := f.Get("grant_type")

	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls[grant]++

	if f.Get("client_id") != s.opts.App.ClientID {
		oauthError(w, "invalid_client_id", "client identifier invalid")
		return
	}
	if subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(s.opts.App.ClientSecret)) != 1 {
		oauthError(w, "invalid_client", "invalid client credentials")
		return
	}
	switch grant {
	case "authorization_code":
		s.codeGrant(w, f)
	case "refresh_token":
		s.refreshGrant(w, f)
	default:
		oauthError(w, "unsupported_grant_type", "grant type not supported")
	}
}

func (s *Server) codeGrant(w http.ResponseWriter, f url.Values) {
	c, ok := s.codes[f.Get("code")]
	if !ok {
		oauthError(w, "invalid_grant", "invalid authorization code")
		return
	}
	// A code is spent by any attempt, failed or not (assumed; RFC 6749
	// 10.5 asks that codes be single-use and short-lived).
	delete(s.codes, f.Get("code"))
	if !s.now().Before(c.expires) {
		oauthError(w, "invalid_grant", "expired authorization code")
		return
	}
	if f.Get("redirect_uri") != c.redirectURI {
		oauthError(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	// The docs say a missing verifier fails with invalid_grant (and, oddly,
	// a mismatch with invalid_request); Salesforce is observed answering
	// invalid_grant "invalid code verifier" to a mismatch.
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if f.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		oauthError(w, "invalid_grant", "invalid code verifier")
		return
	}
	refresh := ""
	// "refresh_token" must be granted for a refresh token to be issued.
	if slices.Contains(strings.Fields(c.scope), "refresh_token") {
		refresh = "5Aep861" + randomToken(64)
		s.refresh[refresh] = &refreshToken{user: c.user, scope: c.scope}
	}
	s.issue(w, c.user, c.scope, refresh, refresh)
}

func (s *Server) refreshGrant(w http.ResponseWriter, f url.Values) {
	old := f.Get("refresh_token")
	rt, ok := s.refresh[old]
	if !ok || rt.revoked {
		oauthError(w, "invalid_grant", "expired access/refresh token")
		return
	}
	if !rt.user.org.installed {
		// Observed when the External Client App was removed from the org.
		oauthError(w, "app_not_found", "External client app is not installed in this org")
		return
	}
	answer := ""
	if s.opts.RotateRefreshTokens {
		rt.revoked = true
		old = "5Aep861" + randomToken(64)
		s.refresh[old] = &refreshToken{user: rt.user, scope: rt.scope}
		answer = old
	}
	s.issue(w, rt.user, rt.scope, old, answer)
}

// issue answers a token response for u. refreshFor ties the access token to
// its refresh token (revoking that one revokes this); refreshAnswer is the
// refresh token sent back, empty when none is.
func (s *Server) issue(w http.ResponseWriter, u *user, scope, refreshFor, refreshAnswer string) {
	now := s.now()
	at := u.org.ID[:15] + "!" + randomToken(96)
	s.access[at] = &accessToken{user: u, issued: now, refresh: refreshFor}
	id := s.URL + "/id/" + u.org.ID + "/" + u.ID
	issuedAt := strconv.FormatInt(now.UnixMilli(), 10)
	body := map[string]string{
		"access_token": at,
		"signature":    s.signature(id, issuedAt),
		"scope":        scope,
		"instance_url": s.URL,
		"id":           id,
		"token_type":   "Bearer",
		"issued_at":    issuedAt,
	}
	if refreshAnswer != "" {
		body["refresh_token"] = refreshAnswer
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	writeJSON(w, http.StatusOK, body)
}

// signature is the token response's "signature": base64 of HMAC-SHA256 over
// id + issued_at, keyed with the consumer secret.
func (s *Server) signature(id, issuedAt string) string {
	mac := hmac.New(sha256.New, []byte(s.opts.App.ClientSecret))
	mac.Write([]byte(id + issuedAt))
	sum := mac.Sum(nil)
	if s.opts.CorruptSignature {
		sum[0] ^= 0xff
	}
	return base64.StdEncoding.EncodeToString(sum)
}

// revoke is POST /services/oauth2/revoke: a refresh token takes its access
// tokens with it; an access token goes alone.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_token", "invalid token")
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refresh[tok]; ok && !rt.revoked {
		rt.revoked = true
		for _, a := range s.access {
			if a.refresh == tok {
				a.expired = true
			}
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if a, ok := s.access[tok]; ok && !a.expired {
		a.expired = true
		w.WriteHeader(http.StatusOK)
		return
	}
	// "For all error conditions, Salesforce returns a 400 status code" with
	// invalid_token or unsupported_token_type; the JSON shape is assumed.
	oauthError(w, "invalid_token", "invalid token")
}

// session returns the live access token of an API request: a bearer (or
// "OAuth") Authorization header.
func (s *Server) session(r *http.Request) (*accessToken, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[strings.TrimSpace(tok)]
	if !ok || a.expired || !s.now().Before(a.issued.Add(s.opts.AccessTokenTTL)) {
		return nil, false
	}
	return a, true
}

func randomToken(n int) string {
	b := make([]byte, n*3/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
}

func errorPage(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte("error=" + url.PathEscape(code) + "&error_description=" + url.PathEscape(description)))
}

func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, description string) {
	params := url.Values{"error": {code}, "error_description": {description}}
	if state != "" {
		params.Set("state", state)
	}
	redirect(w, r, redirectURI, params)
}

// redirect sends the browser to the registered callback with params added to
// any query it already has.
func redirect(w http.ResponseWriter, r *http.Request, to string, params url.Values) {
	u, _ := url.Parse(to) // a registered callback parses
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
