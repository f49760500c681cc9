package pdtest

import (
	"cmp"
	"crypto/subtle"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// contentType is how Pipedrive labels its JSON.
const contentType = "application/json; charset=utf-8"

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
	state := q.Get("state")
	s.mu.Lock()
	deny, u := s.deny, s.loginAs
	s.mu.Unlock()
	if deny {
		// "The error code (user_denied) is sent if the user denied
		// installation"; code and error are mutually exclusive.
		emulator.RedirectError(w, r, redirectURI, state, "user_denied", "")
		return
	}
	params := url.Values{"code": {s.tokens.NewCode(u, redirectURI, "")}}
	if state != "" {
		params.Set("state", state)
	}
	emulator.Redirect(w, r, redirectURI, params)
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
	s.calls.Add("token:" + grant)

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
	c, state := s.tokens.Redeem(f.Get("code"))
	switch state {
	case emulator.Unknown:
		// Unknown, or "already exchanged to ACCESS TOKEN".
		oauthError(w, "invalid_grant", "Invalid grant: authorization code is invalid")
		return
	case emulator.Expired:
		oauthError(w, "invalid_grant", "Invalid grant: authorization code has expired")
		return
	}
	s.issue(w, c.Grant, s.tokens.NewRefresh(c.Grant))
}

func (s *Server) refreshGrant(w http.ResponseWriter, f url.Values) {
	// "The same refresh token will be issued in the response with the
	// expiry window extended by 60 days": UseRefresh starts the 60 days
	// again.
	u, ok := s.tokens.UseRefresh(f.Get("refresh_token"))
	if !ok {
		oauthError(w, "invalid_grant", "Invalid grant: refresh token is invalid")
		return
	}
	s.issue(w, u, f.Get("refresh_token"))
}

// issue answers a token response for u with a new access token.
func (s *Server) issue(w http.ResponseWriter, u *user, refresh string) {
	a := s.tokens.Issue(u, refresh)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  a.Token,
		"token_type":    "bearer",
		"refresh_token": refresh,
		// The documented example lists scopes comma separated, base last.
		"scope":      strings.Join(s.opts.App.Scopes, ","),
		"expires_in": int(s.opts.AccessTokenTTL / time.Second),
		"api_domain": cmp.Or(s.opts.APIDomain, s.URL),
	})
}

// session returns the user of an API request's live access token and the
// token, or writes Pipedrive's refusal.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*user, string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		apiError(w, http.StatusUnauthorized, "unauthorized access")
		return nil, "", false
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		apiError(w, http.StatusBadRequest, "Invalid request: malformed authorization header")
		return nil, "", false
	}
	a, state := s.tokens.Authenticate(r, tok)
	if state != emulator.Live {
		apiError(w, http.StatusUnauthorized, "Invalid token: access_token is invalid")
		return nil, "", false
	}
	return a.Grant, tok, true
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

func writeJSON(w http.ResponseWriter, status int, v any) { emulator.JSON(w, contentType, status, v) }
