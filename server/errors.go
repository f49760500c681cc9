package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
)

// statusFor maps each error code to its HTTP status: the one place that
// decides. Anything unknown is our fault.
func statusFor(code qwoty.Code) int {
	switch code {
	case qwoty.CodeBadRequest:
		return http.StatusBadRequest
	case qwoty.CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case qwoty.CodeSignatureMissing, qwoty.CodeSignatureInvalid, qwoty.CodeTimestampOutOfRange,
		qwoty.CodeTokenMissing, qwoty.CodeTokenInvalid, qwoty.CodeTokenExpired:
		return http.StatusUnauthorized
	case qwoty.CodeUnauthenticated:
		return http.StatusUnauthorized
	case qwoty.CodeOrgDisconnected, qwoty.CodeForbidden, qwoty.CodeCSRF:
		return http.StatusForbidden
	case qwoty.CodeWorkspaceConnected:
		return http.StatusConflict
	case qwoty.CodeOAuthFailed:
		return http.StatusBadRequest
	case qwoty.CodeCRMUnavailable:
		return http.StatusBadGateway
	case qwoty.CodeOrgNotConnected, qwoty.CodeNotFound:
		return http.StatusNotFound
	case qwoty.CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case qwoty.CodeReplayedRequest, qwoty.CodeInvalidTransition, qwoty.CodeQuoteLocked, qwoty.CodeVersionConflict:
		return http.StatusConflict
	case qwoty.CodeValidation:
		return http.StatusUnprocessableEntity
	case qwoty.CodeUnavailable:
		return http.StatusServiceUnavailable
	case qwoty.CodeRateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON error shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      qwoty.Code `json:"code"`
	Message   string     `json:"message"`
	Hint      string     `json:"hint"`
	RequestID string     `json:"requestId"`
}

// fail answers err: the JSON error shape for API clients, or a flash
// fragment retargeted above the card for htmx requests. It logs 5xx with
// their cause (never a secret: causes are our own wrapped errors).
func (s *Server) fail(c *gin.Context, err error) {
	e := qwoty.AsError(err)
	if errors.Is(err, qwoty.ErrNotFound) && e.Code == qwoty.CodeInternal {
		e = &qwoty.Error{Code: qwoty.CodeNotFound, Message: "not found", Hint: "Reload the card.", Err: err}
	}
	status := statusFor(e.Code)
	rid := requestIDOf(c)
	c.Set(ctxErrorCode, string(e.Code))
	if status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", rid, "code", e.Code,
			"connection_id", c.GetString(ctxConnectionID), "error", errText(e))
	}
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Retarget", "#flash")
		c.Header("HX-Reswap", "innerHTML")
		render(c, status, templates.Flash(templates.ErrorView{Code: string(e.Code), Message: sentence(e.Message), Hint: e.Hint, RequestID: rid}))
		return
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message, Hint: e.Hint, RequestID: rid}})
}

func errText(e *qwoty.Error) string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// sentenceEnd is sentence with a full stop, unless it has one.
func sentenceEnd(s string) string {
	s = sentence(s)
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// sentence capitalises a message for display.
func sentence(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (s *Server) noRoute(c *gin.Context) {
	s.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Check the URL; the API is described in docs/callout-contract.md.", "no route for %s %s", c.Request.Method, c.Request.URL.Path))
}

func (s *Server) noMethod(c *gin.Context) {
	s.fail(c, qwoty.Errorf(qwoty.CodeMethodNotAllowed, "Check the method; signed callouts are POST.", "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
}
