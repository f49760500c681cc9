package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
)

// JSON answers v as JSON with status. contentType is the CRM's own spelling
// ("application/json;charset=UTF-8"...), which clients may compare. <, > and
// & are written as they are, not as \u003c escapes: the CRMs' JSON carries
// them so.
func JSON(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// OAuthError answers a token endpoint's refusal as RFC 6749 §5.2 has it: 400
// with error and error_description, and the fields of extra a CRM adds
// beside them.
func OAuthError(w http.ResponseWriter, contentType, code, description string, extra map[string]any) {
	body := map[string]any{"error": code, "error_description": description}
	maps.Copy(body, extra)
	JSON(w, contentType, http.StatusBadRequest, body)
}

// Redirect sends the browser to a registered callback with params added to
// the query it already has. to must parse: it is a callback the app
// registered.
func Redirect(w http.ResponseWriter, r *http.Request, to string, params url.Values) {
	u, _ := url.Parse(to)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// RedirectError sends the browser back to the callback with an OAuth error
// (RFC 6749 §4.1.2.1): error, error_description unless empty, and the
// client's state unless empty.
func RedirectError(w http.ResponseWriter, r *http.Request, to, state, code, description string) {
	params := url.Values{"error": {code}}
	if description != "" {
		params.Set("error_description", description)
	}
	if state != "" {
		params.Set("state", state)
	}
	Redirect(w, r, to, params)
}

// RandomBase64 is n random bytes, base64url without padding.
func RandomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomHex is n random bytes in hexadecimal.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// UUID is a random version 4 UUID.
func UUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
