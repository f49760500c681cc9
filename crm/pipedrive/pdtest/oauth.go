package pdtest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type authCode struct {
	user        *user
	redirectURI string
	expires     time.Time
}

type accessToken struct {
	user    *user
	expires time.Time
	expired bool
}

type refreshToken struct {
	user     *user
	lastUsed time.Time
	revoked  bool
}

// authorize is GET /oauth/authorize. The browser is assumed logged in as the
// LoginAs user, who clicks "Allow and install" at once (or "Cancel" after
// SetDenyInstall).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// An unknown client or callback cannot be trusted with a redirect, so
	// Pipedrive's own page shows the error (assumed: the documentation
	// names no error for these).
	if q.Get("client_id") != s.opts.App.ClientID {
		errorPage(w, "Invalid client: client is invalid")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI != s.opts.App.CallbackURL {
		errorPage(w, "Invalid request: redirect_uri is invalid")
		return
	}
	params := url.Values{}
	if state := q.Get("state"); state != "" {
		params.Set("state", state)
	}

	s.mu.Lock()
	if s.deny {
		s.mu.Unlock()
		// "The error code (user_denied) is sent if the user denied
		// installation"; code and error are mutually exclusive.
		params.Set("error", "user_denied")
		redirect(w, r, redirectURI, params)
		return
	}
	u := s.loginAs
	// The documented example is "123.456.2d73391055ca60cbf07f13aaaaf1207cfe33a4b605";
	// reading its first two parts as company and user ids is assumed.
	code := fmt.Sprintf("%d.%d.%s", u.company.ID, u.ID, randomHex(21))
	s.codes[code] = &authCode{user: u, redirectURI: redirectURI, expires: s.now().Add(s.opts.CodeTTL)}
	s.mu.Unlock()

	params.Set("code", code)
	redirect(w, r, redirectURI, params)
}

// token is POST /oauth/token. The checks and their messages are those of
// the documentation's "OAuth status codes" table, every one a 400.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		oauthError(w, "invalid_request", "Invalid request: content must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "Invalid request: content must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")

	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls[grant]++

	id, secret, ok := r.BasicAuth()
	if !ok && s.opts.AllowBodyCredentials {
		id, secret, ok = f.Get("client_id"), f.Get("client_secret"), f.Has("client_id") && f.Has("client_secret")
	}
	if !ok {
		oauthError(w, "invalid_client", "Invalid client: cannot retrieve client credentials")
		return
	}
	if id != s.opts.App.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.App.ClientSecret)) != 1 {
		oauthError(w, "invalid_client", "Invalid client: client is invalid")
		return
	}
	switch grant {
	case "":
		oauthError(w, "invalid_request", "Missing parameter: grant_type")
	case "authorization_code":
		s.codeGrant(w, f)
	case "refresh_token":
		s.refreshGrant(w, f)
	default:
		oauthError(w, "unsupported_grant_type", "Unsupported grant type: grant_type is invalid")
	}
}

func (s *Server) codeGrant(w http.ResponseWriter, f url.Values) {
	redirectURI := f.Get("redirect_uri")
	if u, err := url.Parse(redirectURI); err != nil || !u.IsAbs() {
		oauthError(w, "invalid_request", "Invalid request: redirect_uri is not a valid URI")
		return
	}
	if redirectURI != s.opts.App.CallbackURL {
		oauthError(w, "invalid_request", "Invalid request: redirect_uri is invalid")
		return
	}
	c, ok := s.codes[f.Get("code")]
	if !ok {
		// Unknown, or "already exchanged to ACCESS TOKEN".
		oauthError(w, "invalid_grant", "Invalid grant: authorization code is invalid")
		return
	}
	delete(s.codes, f.Get("code"))
	if !s.now().Before(c.expires) {
		oauthError(w, "invalid_grant", "Invalid grant: authorization code has expired")
		return
	}
	rt := "pdr:" + randomHex(32)
	s.refresh[rt] = &refreshToken{user: c.user, lastUsed: s.now()}
	s.issue(w, c.user, rt)
}

func (s *Server) refreshGrant(w http.ResponseWriter, f url.Values) {
	rt, ok := s.refresh[f.Get("refresh_token")]
	if !ok || rt.revoked || !s.now().Before(rt.lastUsed.Add(RefreshTokenIdle)) {
		oauthError(w, "invalid_grant", "Invalid grant: refresh token is invalid")
		return
	}
	// "The same refresh token will be issued in the response with the
	// expiry window extended by 60 days."
	rt.lastUsed = s.now()
	s.issue(w, rt.user, f.Get("refresh_token"))
}

// issue answers a token response for u with a new access token.
func (s *Server) issue(w http.ResponseWriter, u *user, refresh string) {
	// The documented access tokens start with "v1u:".
	at := "v1u:" + randomHex(48)
	s.access[at] = &accessToken{user: u, expires: s.now().Add(s.opts.AccessTokenTTL)}
	domain := s.opts.APIDomain
	if domain == "" {
		// ts.URL, not s.URL: it is set before the server starts serving.
		domain = s.ts.URL
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"token_type":    "bearer",
		"refresh_token": refresh,
		// The documented example lists scopes comma separated, base last.
		"scope":      strings.Join(s.opts.App.Scopes, ","),
		"expires_in": int(s.opts.AccessTokenTTL / time.Second),
		"api_domain": domain,
	})
}

// session returns the live access token of an API request, or writes
// Pipedrive's refusal.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*accessToken, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		apiError(w, http.StatusUnauthorized, "unauthorized access")
		return nil, false
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		apiError(w, http.StatusBadRequest, "Invalid request: malformed authorization header")
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tok]
	if !ok || a.expired || !s.now().Before(a.expires) {
		apiError(w, http.StatusUnauthorized, "Invalid token: access_token is invalid")
		return nil, false
	}
	return a, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// oauthError writes a token endpoint refusal. The documentation gives the
// status and the message but not the body; an RFC 6749 "error" code beside
// Pipedrive's usual "success": false and the message is assumed.
func oauthError(w http.ResponseWriter, code, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": code, "message": message})
}

func errorPage(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!doctype html><title>Pipedrive</title><p>%s</p>", message)
}

// redirect sends the browser to the registered callback with params added to
// any query it already has.
func redirect(w http.ResponseWriter, r *http.Request, to string, params url.Values) {
	u, _ := url.Parse(to) // the registered callback parses
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
