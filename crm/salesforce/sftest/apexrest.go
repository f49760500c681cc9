package sftest

import (
	"net/http"
	"slices"
	"strings"
)

// The package's Apex REST resources: urlMapping under the namespace.
const (
	configResource = "/Qwoty/qwoty/config"
	pingResource   = "/Qwoty/qwoty/ping"
)

// apexrest is /services/apexrest/... . Salesforce answers for itself, with a
// JSON array, before the Apex class runs: the session, then the URL mapping
// (only installed packages have one), then access to the class, then the
// HTTP method.
func (s *Server) apexrest(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	u := a.Grant.user
	path := strings.TrimPrefix(r.URL.Path, "/services/apexrest")
	s.mu.Lock()
	installed := u.org.installed
	s.mu.Unlock()

	var class string
	var methods []string
	switch {
	case installed && path == configResource:
		class, methods = "QwotyConfigResource", []string{http.MethodGet, http.MethodPut, http.MethodDelete}
	case installed && path == pingResource:
		class, methods = "QwotyPing", []string{http.MethodPost}
	default:
		sfError(w, http.StatusNotFound, "NOT_FOUND", "Could not find a match for URL "+path)
		return
	}
	if u.NoClassAccess {
		// Assumed code and wording for a user without class access.
		sfError(w, http.StatusForbidden, "FORBIDDEN", "You do not have access to the Apex class named: "+class)
		return
	}
	if !slices.Contains(methods, r.Method) {
		sfError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			"HTTP Method '"+r.Method+"' not allowed. Allowed are "+strings.Join(methods, ","))
		return
	}
	if path == pingResource {
		s.ping(w, r, u)
		return
	}
	s.configResource(w, r, u)
}

// sfError answers Salesforce's own error shape: an array of
// {"message", "errorCode"}.
func sfError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, []map[string]string{{"message": message, "errorCode": code}})
}
