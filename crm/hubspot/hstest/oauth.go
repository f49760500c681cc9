package hstest

import (
	"crypto/subtle"
	"html"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// contentType is how HubSpot labels its JSON.
const contentType = "application/json;charset=utf-8"

// grant is what a code or a token of the emulator stands for: the user who
// installed the app in their portal, and the scopes granted.
type grant struct {
	user   *user
	scopes []string
}

// authorize is GET /oauth/authorize on the app host. The browser is assumed
// logged in as the LoginAs user, who picks their portal and approves at once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	app := s.opts.App
	// A wrong client, redirect URL or scope list is shown on HubSpot's own
	// page, never sent to an untrusted redirect (assumed wording).
	if q.Get("client_id") != app.ClientID {
		errorPage(w, http.StatusBadRequest, "The app's client_id is missing or unknown.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !slices.Contains(app.RedirectURLs, redirectURI) {
		errorPage(w, http.StatusBadRequest, "The redirect_uri does not match any redirect URL of the app.")
		return
	}
	scopes, ok := s.grantedScopes(strings.Fields(q.Get("scope")), strings.Fields(q.Get("optional_scope")))
	if !ok {
		// Since October 2024 the install URL's scopes must match the
		// app's settings: every required scope, nothing unknown.
		errorPage(w, http.StatusBadRequest, "Scope mismatch: the install URL's scopes do not match the app's scope settings.")
		return
	}
	s.mu.Lock()
	u := s.loginAs
	s.mu.Unlock()
	if !u.Installer {
		errorPage(w, http.StatusForbidden, "Only a Super Admin or a user with HubSpot Marketplace Access can install apps.")
		return
	}
	params := url.Values{"code": {s.tokens.NewCode(grant{user: u, scopes: scopes}, redirectURI, "")}}
	if state := q.Get("state"); state != "" {
		params.Set("state", state)
	}
	emulator.Redirect(w, r, redirectURI, params)
}

// grantedScopes checks an install URL's scopes against the app: scope must
// hold every required scope and only those, optional_scope only optional
// ones. The grant is the required scopes and the optional ones asked for.
func (s *Server) grantedScopes(asked, optional []string) ([]string, bool) {
	app := s.opts.App
	for _, req := range app.RequiredScopes {
		if !slices.Contains(asked, req) {
			return nil, false
		}
	}
	for _, sc := range asked {
		if !slices.Contains(app.RequiredScopes, sc) {
			return nil, false
		}
	}
	granted := slices.Clone(app.RequiredScopes)
	for _, sc := range optional {
		if !slices.Contains(app.OptionalScopes, sc) {
			return nil, false
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return granted, true
}

// token is POST /oauth/{version}/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r)
	if !ok {
		return
	}
	grant := f.Get("grant_type")
	s.calls.Add("token:" + grant)
	if !s.clientOK(w, f) {
		return
	}
	switch grant {
	case "authorization_code":
		s.codeGrant(w, f)
	case "refresh_token":
		s.refreshGrant(w, f)
	default:
		oauthError(w, "unsupported_grant_type", "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) codeGrant(w http.ResponseWriter, f url.Values) {
	// A code is spent by any attempt (assumed; RFC 6749 asks that codes be
	// single-use).
	c, state := s.tokens.Redeem(f.Get("code"))
	switch state {
	case emulator.Unknown:
		oauthError(w, "invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
		return
	case emulator.Expired:
		oauthError(w, "invalid_grant", "BAD_AUTH_CODE", "auth code is expired")
		return
	}
	if f.Get("redirect_uri") != c.RedirectURI {
		oauthError(w, "invalid_grant", "BAD_REDIRECT_URI", "redirect URI does not match initial auth code URI")
		return
	}
	s.issue(w, c.Grant, s.tokens.NewRefresh(c.Grant))
}

func (s *Server) refreshGrant(w http.ResponseWriter, f url.Values) {
	rt := f.Get("refresh_token")
	g, ok := s.tokens.UseRefresh(rt)
	if !ok {
		// The wording of HubSpot's changelog example.
		oauthError(w, "invalid_grant", "BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked")
		return
	}
	// HubSpot refresh tokens do not rotate: the same one comes back.
	s.issue(w, g, rt)
}

// issue answers a token response: the versioned API's AccessTokenResponse.
func (s *Server) issue(w http.ResponseWriter, g grant, refresh string) {
	a := s.tokens.Issue(g, refresh)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  a.Token,
		"refresh_token": refresh,
		"expires_in":    int64(s.opts.AccessTokenTTL / time.Second),
		"token_type":    "bearer",
		"token_use":     "access_token",
		"hub_id":        g.user.portal.ID,
		"user_id":       g.user.ID,
		"scopes":        g.scopes,
	})
}

// introspect is POST /oauth/{version}/token/introspect.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r)
	if !ok {
		return
	}
	s.calls.Add("introspect")
	if !s.clientOK(w, f) {
		return
	}
	tok, hint, now := f.Get("token"), f.Get("token_type_hint"), s.Now()
	if a, state := s.tokens.LookupAccess(tok); state == emulator.Live && hint != "refresh_token" {
		u := a.Grant.user
		writeJSON(w, http.StatusOK, map[string]any{
			"active": true, "token_use": "access_token", "token": tok, "token_type": "bearer",
			"client_id": s.opts.App.ClientID, "app_id": s.opts.App.ID,
			"hub_id": u.portal.ID, "hub_domain": u.portal.Domain, "user_id": u.ID, "user": u.Email,
			"scopes": a.Grant.scopes, "expires_in": int64(a.Expires.Sub(now) / time.Second),
			"is_private_distribution": false,
			"signed_access_token": map[string]any{
				"appId": s.opts.App.ID, "hubId": u.portal.ID, "userId": u.ID, "installingUserId": u.ID,
				"expiresAt": a.Expires.UnixMilli(), "scopes": strings.Join(a.Grant.scopes, ","), "hublet": "na1",
			},
		})
		return
	}
	if g, ok := s.tokens.LookupRefresh(tok); ok && hint != "access_token" {
		u := g.user
		writeJSON(w, http.StatusOK, map[string]any{
			"active": true, "token_use": "refresh_token", "token": tok, "token_type": "refresh",
			"client_id": s.opts.App.ClientID, "app_id": s.opts.App.ID,
			"hub_id": u.portal.ID, "hub_domain": u.portal.Domain, "user_id": u.ID, "user": u.Email,
			"scopes": g.scopes,
		})
		return
	}
	// RFC 7662: an unknown, expired or revoked token is only inactive
	// (assumed for HubSpot, whose docs show only the active answer).
	writeJSON(w, http.StatusOK, map[string]any{"active": false})
}

// form reads a form body. The versioned OAuth API takes its parameters in
// the body only: values in the query are not read.
func (s *Server) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		oauthError(w, "invalid_request", "BAD_REQUEST", "the body must be application/x-www-form-urlencoded")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "BAD_REQUEST", "the body is not a form")
		return nil, false
	}
	return r.PostForm, true
}

// clientOK authenticates the app by its body parameters; it answers the
// error itself.
func (s *Server) clientOK(w http.ResponseWriter, f url.Values) bool {
	app := s.opts.App
	if f.Get("client_id") != app.ClientID {
		oauthError(w, "invalid_client", "BAD_CLIENT_ID", "missing or invalid client id")
		return false
	}
	if subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(app.ClientSecret)) != 1 {
		// The status name is assumed; invalid_client is RFC 6749's code.
		oauthError(w, "invalid_client", "BAD_CLIENT_SECRET", "missing or invalid client secret")
		return false
	}
	return true
}

// oauthError answers the versioned API's error: RFC 6749's error and
// error_description, with HubSpot's older status and message kept beside
// them (changelog "New OAuth v3 API endpoints and standardized error
// responses").
func oauthError(w http.ResponseWriter, code, status, message string) {
	emulator.OAuthError(w, contentType, code, message,
		map[string]any{"status": status, "message": message, "correlationId": emulator.UUID()})
}

func errorPage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte("<!doctype html><title>HubSpot</title><h1>Couldn't complete the connection</h1><p>" + html.EscapeString(message) + "</p>"))
}

func writeJSON(w http.ResponseWriter, status int, v any) { emulator.JSON(w, contentType, status, v) }
