package sftest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The rules of QwotyConfigResource.cls, which docs/salesforce-package.md
// specifies ("The config endpoint"). Messages are the Apex's, word for word,
// so that the server's handling of them is tested against what admins see.
const (
	secretMinLength = 32
	secretMaxLength = 255
	appURLMaxLength = 255
	// maxApexBody bounds what the emulator reads; Apex REST accepts far
	// more, but no valid config body comes close.
	maxApexBody = 1 << 20
)

var (
	secretChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// scheme :// host [: port]: the Apex's ORIGIN pattern, anchored as
	// Matcher.matches() is.
	origin     = regexp.MustCompile(`^(https?)://([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::([0-9]{1,5}))?$`)
	localHosts = map[string]bool{"localhost": true, "127.0.0.1": true}
)

const badRequestHint = "The Qwoty server sent a request this package version does not accept: upgrade the package, or send the message to Qwoty support."

// configResource runs QwotyConfigResource as u: admin check first, on every
// method, before the body is read.
func (s *Server) configResource(w http.ResponseWriter, r *http.Request, u *user) {
	if !u.Admin {
		packageError(w, http.StatusForbidden, "INSUFFICIENT_ACCESS",
			"Only a user with the Customize Application or Modify All Data permission can read or change the Qwoty connection; "+
				u.Username+" has neither.",
			"Connect the org again, signing in as a Salesforce admin who has the Qwoty Admin permission set.", nil)
		return
	}
	switch r.Method {
	case http.MethodPut:
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxApexBody))
		secret, appURL, field, msg, ok := parseConfig(body)
		if !ok {
			packageError(w, http.StatusBadRequest, "BAD_REQUEST", msg, badRequestHint, field)
			return
		}
		s.mu.Lock()
		u.org.config = ConfigRecord{Configured: true, Secret: secret, AppURL: appURL}
		s.mu.Unlock()
	case http.MethodDelete:
		s.mu.Lock()
		u.org.config.Secret = ""
		s.mu.Unlock()
	}
	s.mu.Lock()
	c := u.org.config
	s.mu.Unlock()
	var appURL any
	if c.Configured {
		appURL = c.AppURL
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true, "orgId": u.org.ID, "configured": c.Configured,
		"appUrl": appURL, "secretSet": c.Configured && strings.TrimSpace(c.Secret) != "",
	})
}

// parseConfig validates a PUT body as the Apex does: a JSON object, then
// secret, then appUrl; the first failure is answered with its field.
func parseConfig(body []byte) (secret, appURL string, field *string, message string, ok bool) {
	var fields map[string]any
	// Apex's Blob.toString() throws on bytes that are not UTF-8, and
	// JSON.deserializeUntyped on anything but one JSON value.
	dec := json.NewDecoder(bytes.NewReader(body))
	if !utf8.Valid(body) || dec.Decode(&fields) != nil || fields == nil || dec.More() {
		return "", "", nil, `The request body must be a JSON object: {"secret": "...", "appUrl": "https://..."}.`, false
	}
	s, isString := fields["secret"].(string)
	if !isString || apexLen(s) < secretMinLength || apexLen(s) > secretMaxLength || !secretChars.MatchString(s) {
		f := "secret"
		return "", "", &f, "secret must be a string of " + strconv.Itoa(secretMinLength) + " to " + strconv.Itoa(secretMaxLength) +
			` characters of A-Z, a-z, 0-9, "_" and "-"` + describeLength(fields["secret"]) + ".", false
	}
	a, isString := fields["appUrl"].(string)
	if !isString || !validAppURL(a) {
		f := "appUrl"
		return "", "", &f, "appUrl must be an https origin such as https://quotes.example.com, without path, " +
			"trailing slash, query or fragment (http only for localhost); got " + describeValue(fields["appUrl"]) + ".", false
	}
	return s, a, nil, "", true
}

func validAppURL(s string) bool {
	if apexLen(s) > appURLMaxLength {
		return false
	}
	m := origin.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	if m[3] != "" {
		if p, _ := strconv.Atoi(m[3]); p < 1 || p > 65535 {
			return false
		}
	}
	return m[1] == "https" || localHosts[strings.ToLower(m[2])]
}

// apexLen is Apex's String.length(): UTF-16 code units.
func apexLen(s string) int { return len(utf16.Encode([]rune(s))) }

// describeLength says what a rejected secret was, without echoing it.
func describeLength(v any) string {
	s, isString := v.(string)
	switch {
	case v == nil:
		return ", and is required"
	case !isString:
		return ", not a JSON " + jsonType(v)
	case apexLen(s) >= secretMinLength && apexLen(s) <= secretMaxLength:
		return " (got a character outside that set)"
	default:
		return " (got " + strconv.Itoa(apexLen(s)) + " characters)"
	}
}

func describeValue(v any) string {
	s, isString := v.(string)
	switch {
	case v == nil:
		return "nothing (it is required)"
	case !isString:
		return "a JSON " + jsonType(v)
	}
	// String.abbreviate(100): 97 characters and "..." when longer.
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func jsonType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	default:
		return "number"
	}
}

// packageError answers the package's own error shape, a JSON object.
func packageError(w http.ResponseWriter, status int, code, message, hint string, field *string) {
	writeJSON(w, status, map[string]any{"ok": false, "code": code, "message": message, "hint": hint, "field": field})
}
