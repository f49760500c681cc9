package sftest

import (
	"net/http"
	"strings"

	"github.com/qwoty/companion/crm/salesforce"
)

// identity is GET /id/{org}/{user}. Unlike the REST API it refuses a bad
// token with a plain-text 403 (observed: "Bad_OAuth_Token"; clients that
// refresh only on 401 are caught out by it) and an unknown id with a 404
// "Bad_Id" (observed on other endpoints; assumed here).
func (s *Server) identity(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" && r.URL.Query().Get("oauth_token") == "" {
		plain(w, http.StatusForbidden, "Missing_OAuth_Token")
		return
	}
	if tok := r.URL.Query().Get("oauth_token"); tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	a, ok := s.session(r)
	if !ok {
		plain(w, http.StatusForbidden, "Bad_OAuth_Token")
		return
	}
	u := a.Grant.user
	orgID, err1 := salesforce.NormalizeOrgID(r.PathValue("org"))
	userID, err2 := salesforce.NormalizeID(r.PathValue("user"))
	// A token reads its own user's identity only (assumed: other users need
	// View All Data, which the emulator does not model).
	if err1 != nil || err2 != nil || orgID != u.org.ID || userID != u.ID {
		plain(w, http.StatusNotFound, "Bad_Id")
		return
	}
	first, last, _ := strings.Cut(u.Name, " ")
	base := s.URL
	writeJSON(w, http.StatusOK, map[string]any{
		"id":               base + "/id/" + orgID + "/" + userID,
		"asserted_user":    true,
		"user_id":          userID,
		"organization_id":  orgID,
		"username":         u.Username,
		"nick_name":        strings.SplitN(u.Username, "@", 2)[0],
		"display_name":     u.Name,
		"email":            u.Email,
		"email_verified":   true,
		"first_name":       first,
		"last_name":        last,
		"timezone":         "Europe/Paris",
		"active":           true,
		"user_type":        "STANDARD",
		"language":         "en_US",
		"locale":           "en_US",
		"utcOffset":        3600000,
		"is_app_installed": true,
		"urls": map[string]string{
			"enterprise":    base + "/services/Soap/c/{version}/" + orgID[:15],
			"partner":       base + "/services/Soap/u/{version}/" + orgID[:15],
			"rest":          base + "/services/data/v{version}/",
			"sobjects":      base + "/services/data/v{version}/sobjects/",
			"search":        base + "/services/data/v{version}/search/",
			"query":         base + "/services/data/v{version}/query/",
			"profile":       base + "/" + userID,
			"custom_domain": base,
		},
	})
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// userinfo is the OpenID Connect UserInfo endpoint, on the login host and
// on the org's own (My Domain, instance) URL: who the access token is
// for, user_id and organization_id included. Like the identity URL it is
// not part of the REST API, so it is not counted against the org's
// allocation (assumed).
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		plain(w, http.StatusForbidden, "Bad_OAuth_Token")
		return
	}
	u := a.Grant.user
	writeJSON(w, http.StatusOK, map[string]any{
		"sub":                s.URL + "/id/" + u.org.ID + "/" + u.ID,
		"user_id":            u.ID,
		"organization_id":    u.org.ID,
		"preferred_username": u.Username,
		"email":              u.Email,
		"name":               u.Name,
	})
}
