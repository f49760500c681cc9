package sftest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm/emulator"
)

// contentType is how Salesforce labels its JSON.
const contentType = "application/json;charset=UTF-8"

// grant is what a code or a token of the emulator stands for: a user of an
// org, and the scopes granted.
type grant struct {
	user  *user
	scope string
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
	fail := func(code, description string) { emulator.RedirectError(w, r, redirectURI, state, code, description) }

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
	installed := u.org.installed
	s.mu.Unlock()
	if !installed {
		// Observed after a successful login when the External Client App is
		// not installed in the user's org; the description is assumed.
		fail("OAUTH_EC_APP_NOT_FOUND", "External client app is not installed in this org")
		return
	}
	params := url.Values{"code": {s.tokens.NewCode(grant{user: u, scope: scope}, redirectURI, challenge)}}
	if state != "" {
		params.Set("state", state)
	}
	emulator.Redirect(w, r, redirectURI, params)
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
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "request body is not a form")
		return
	}
	// Only the body counts: the client secret is a body parameter in
	// Salesforce's documentation of both grants.
	f := r.PostForm
	grant := f.Get("grant_type")
	s.tokenCalls.Add(grant)

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
	// A code is spent by any attempt, failed or not (assumed; RFC 6749
	// 10.5 asks that codes be single-use and short-lived).
	c, state := s.tokens.Redeem(f.Get("code"))
	switch state {
	case emulator.Unknown:
		oauthError(w, "invalid_grant", "invalid authorization code")
		return
	case emulator.Expired:
		oauthError(w, "invalid_grant", "expired authorization code")
		return
	}
	if f.Get("redirect_uri") != c.RedirectURI {
		oauthError(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	// The docs say a missing verifier fails with invalid_grant (and, oddly,
	// a mismatch with invalid_request); Salesforce is observed answering
	// invalid_grant "invalid code verifier" to a mismatch.
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if f.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.Challenge {
		oauthError(w, "invalid_grant", "invalid code verifier")
		return
	}
	refresh := ""
	// "refresh_token" must be granted for a refresh token to be issued.
	if slices.Contains(strings.Fields(c.Grant.scope), "refresh_token") {
		refresh = s.tokens.NewRefresh(c.Grant)
	}
	s.issue(w, c.Grant, refresh, refresh)
}

func (s *Server) refreshGrant(w http.ResponseWriter, f url.Values) {
	old := f.Get("refresh_token")
	g, ok := s.tokens.UseRefresh(old)
	if !ok {
		oauthError(w, "invalid_grant", "expired access/refresh token")
		return
	}
	s.mu.Lock()
	installed := g.user.org.installed
	s.mu.Unlock()
	if !installed {
		// Observed when the External Client App was removed from the org.
		oauthError(w, "app_not_found", "External client app is not installed in this org")
		return
	}
	answer := ""
	if s.opts.RotateRefreshTokens {
		if old, ok = s.tokens.Rotate(old); !ok {
			// A concurrent refresh rotated it first.
			oauthError(w, "invalid_grant", "expired access/refresh token")
			return
		}
		answer = old
	}
	s.issue(w, g, old, answer)
}

// issue answers a token response for g. refreshFor ties the access token to
// its refresh token (revoking that one revokes this); refreshAnswer is the
// refresh token sent back, empty when none is.
func (s *Server) issue(w http.ResponseWriter, g grant, refreshFor, refreshAnswer string) {
	a := s.tokens.Issue(g, refreshFor)
	u := g.user
	id := s.URL + "/id/" + u.org.ID + "/" + u.ID
	issuedAt := strconv.FormatInt(a.Issued.UnixMilli(), 10)
	body := map[string]string{
		"access_token": a.Token,
		"signature":    s.signature(id, issuedAt),
		"scope":        g.scope,
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
	if s.tokens.Revoke(r.PostForm.Get("token")) {
		w.WriteHeader(http.StatusOK)
		return
	}
	// "For all error conditions, Salesforce returns a 400 status code" with
	// invalid_token or unsupported_token_type; the JSON shape is assumed.
	oauthError(w, "invalid_token", "invalid token")
}

// session returns the live access token of an API request: a bearer (or
// "OAuth") Authorization header.
func (s *Server) session(r *http.Request) (emulator.Access[grant], bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return emulator.Access[grant]{}, false
	}
	a, state := s.tokens.Authenticate(r, strings.TrimSpace(tok))
	return a, state == emulator.Live
}

func oauthError(w http.ResponseWriter, code, description string) {
	emulator.OAuthError(w, contentType, code, description, nil)
}

func errorPage(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte("error=" + url.PathEscape(code) + "&error_description=" + url.PathEscape(description)))
}

func writeJSON(w http.ResponseWriter, status int, v any) { emulator.JSON(w, contentType, status, v) }
