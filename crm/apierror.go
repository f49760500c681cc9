package crm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// APIError is an error a CRM's API answered, whichever CRM: the status, the
// CRM's own code and words, and what support needs to find the call in the
// CRM's logs. It matches the shared sentinels (ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrRateLimited) and the CRM package's own with
// errors.Is.
type APIError struct {
	Provider qwoty.Provider
	Status   int
	// Code is the CRM's own code or category (Salesforce's errorCode,
	// HubSpot's category, Pipedrive's code); SubCode its finer one
	// (HubSpot's subCategory). Either may be "".
	Code    string
	SubCode string
	Message string
	// Hint is what the answer says to do (the Qwoty package's hint,
	// Pipedrive's error_info); Field the request field it is about.
	Hint  string
	Field string
	// RequestID is the CRM's id of the call (HubSpot's correlationId), ""
	// when it gave none.
	RequestID string
	// RetryAfter is how long the CRM asked us to wait (Retry-After); 0 when
	// it did not say.
	RetryAfter time.Duration
	// Source names who answered when it was not the CRM itself but our code
	// running inside it ("Qwoty package" for the package's Apex in a
	// Salesforce org); "" for the CRM.
	Source string
	// Kinds are the sentinels the answer matches. nil means those its
	// status alone says (StatusKinds): a CRM's Read sets them when its
	// codes say more, or otherwise (an empty list matches none).
	Kinds []error
}

func (e *APIError) Error() string {
	retry := ""
	if e.RetryAfter > 0 {
		retry = e.RetryAfter.String()
	}
	return fmt.Sprintf("%s answered HTTP %d", cmp.Or(e.Source, e.Provider.Title()), e.Status) +
		part(" ", e.Code, "") + part(" (field ", e.Field, ")") + part(": ", e.Message, "") +
		part(" (request id ", e.RequestID, ")") + part(" (retry after ", retry, ")")
}

// part is prefix+s+suffix, or "" when s is: an optional part of a message.
func part(prefix, s, suffix string) string {
	if s == "" {
		return ""
	}
	return prefix + s + suffix
}

// Is matches the answer's Kinds.
func (e *APIError) Is(target error) bool { return matches(e.Kinds, StatusKinds(e.Status), target) }

// StatusKinds are the shared sentinels an HTTP status means by itself.
func StatusKinds(status int) []error { return slices.Clone(statusKinds[status]) }

var statusKinds = map[int][]error{
	http.StatusUnauthorized:    {ErrUnauthorized},
	http.StatusForbidden:       {ErrForbidden},
	http.StatusNotFound:        {ErrNotFound},
	http.StatusTooManyRequests: {ErrRateLimited},
}

// matches says whether target is among kinds, or among defaults when
// kinds is nil.
func matches(kinds, defaults []error, target error) bool {
	if kinds == nil {
		kinds = defaults
	}
	return slices.Contains(kinds, target)
}

// APIErrors makes the errors of one CRM's API from its refusals.
type APIErrors struct {
	Provider qwoty.Provider
	// Read fills e from the CRM's error body, which may be anything (a
	// proxy's page): its code, message, ids, and Kinds when the status
	// alone does not say. nil reads nothing.
	Read func(e *APIError, body []byte)
}

// Answer is the error of an answer that is not a success (Request.Refused).
// A body the CRM's Read finds nothing in is kept, shortened, as the message.
func (x APIErrors) Answer(status int, header http.Header, body []byte) error {
	e := &APIError{Provider: x.Provider, Status: status, RetryAfter: RetryAfter(header, time.Now())}
	if x.Read != nil {
		x.Read(e, body)
	}
	if e.Code == "" && e.Message == "" {
		e.Message = Snippet(body)
	}
	return e
}

// RetryAfter reads a Retry-After header (RFC 9110: seconds, or an HTTP
// date) as a wait from now; 0 when there is none or it is unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// OAuthError is an error a CRM's OAuth server answered, on the callback
// (query parameters) or to a token, revoke or introspection request. It
// matches the shared sentinels (ErrInvalidGrant, ErrInvalidClient,
// ErrAccessDenied) and the CRM package's own with errors.Is.
type OAuthError struct {
	Provider qwoty.Provider
	// Status is the answer's HTTP status; 0 on a callback.
	Status int
	// Code is the answer's "error": RFC 6749's invalid_grant,
	// invalid_client, ... or the CRM's own (OAUTH_EC_APP_NOT_FOUND).
	Code        string
	Description string
	// CRMCode is a code the CRM sends beside the standard one (HubSpot's
	// older "status": BAD_REFRESH_TOKEN, ...); "" when none.
	CRMCode string
	// RequestID is the CRM's id of the call, "" when it gave none.
	RequestID string
	// Kinds are the sentinels the error matches. nil means those its code
	// alone says (OAuthKinds); a CRM's Read sets them when its own codes
	// say more.
	Kinds []error
}

func (e *OAuthError) Error() string {
	status := ""
	if e.Status != 0 {
		status = strconv.Itoa(e.Status) + part(", request id ", e.RequestID, "")
	}
	return string(e.Provider) + " oauth error" + part(" ", e.Code, "") + part(" (", e.CRMCode, ")") +
		part(": ", e.Description, "") + part(" (HTTP ", status, ")")
}

// Is matches the error's Kinds.
func (e *OAuthError) Is(target error) bool { return matches(e.Kinds, OAuthKinds(e.Code), target) }

// OAuthKinds are the shared sentinels an RFC 6749 error code means.
func OAuthKinds(code string) []error { return slices.Clone(oauthKinds[code]) }

var oauthKinds = map[string][]error{
	"invalid_grant":  {ErrInvalidGrant},
	"invalid_client": {ErrInvalidClient},
	"access_denied":  {ErrAccessDenied},
}

// OAuthErrors makes the errors of one CRM's OAuth server.
type OAuthErrors struct {
	Provider qwoty.Provider
	// Read completes e from what the CRM's answer holds beyond RFC 6749's
	// error and error_description, already read (body is nil on a
	// callback), and sets Kinds when the CRM's own codes say more. nil
	// reads nothing.
	Read func(e *OAuthError, body []byte)
}

// Callback returns the error the CRM sent to the OAuth callback, or nil
// when the query carries none (it then carries a code).
func (x OAuthErrors) Callback(q url.Values) error {
	if q.Get("error") == "" {
		return nil
	}
	e := &OAuthError{Provider: x.Provider, Code: q.Get("error"), Description: q.Get("error_description")}
	if x.Read != nil {
		x.Read(e, nil)
	}
	return e
}

// Answer is the error of an OAuth answer that is not a success
// (Request.Refused): RFC 6749's JSON, or its form-encoded variant, then
// whatever the CRM's Read finds; a body with nothing readable is kept,
// shortened, as the description.
func (x OAuthErrors) Answer(status int, _ http.Header, body []byte) error {
	e := &OAuthError{Provider: x.Provider, Status: status}
	var v struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code, e.Description = v.Error, v.ErrorDescription
	} else if q, err := url.ParseQuery(strings.TrimSpace(string(body))); err == nil && q.Get("error") != "" {
		e.Code, e.Description = q.Get("error"), q.Get("error_description")
	}
	if x.Read != nil {
		x.Read(e, body)
	}
	if e.Code == "" && e.Description == "" && e.CRMCode == "" {
		e.Description = Snippet(body)
	}
	return e
}
