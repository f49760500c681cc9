package server

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
)

// statusFor is the HTTP status of an error code, as the catalogue gives it
// (qwoty.HTTPStatus): the one place that decides. Anything unknown is our
// fault.
func statusFor(code qwoty.Code) int { return qwoty.HTTPStatus(code) }

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

// retryAfter is what an unavailable answer asks a client to wait, in
// seconds (its Retry-After): a PostgreSQL restart takes a few seconds, and
// the pools reconnect on the first request after it.
const retryAfter = "2"

// errUnavailable is the answer to an error of a database that could not be
// reached: not our code's fault nor the request's, and over by itself.
func errUnavailable(cause error) *qwoty.Error {
	return &qwoty.Error{Code: qwoty.CodeUnavailable, Message: "Qwoty is temporarily unavailable: its database did not answer",
		Hint: "Try again in a few seconds. If it persists, the Qwoty operator checks that PostgreSQL is up.", Err: cause}
}

// problem is the one prologue of every error answer, whatever renders it
// (JSON, the card's flash, a full page, the console, Pipedrive's panel): it
// classifies err, records its code for the access log, asks the client to
// come back later when the service is unavailable, and logs the cause once.
// An error nobody classified is our fault (internal, logged at error),
// except a missing row (not found, with notFoundHint) and a database that
// could not be reached (unavailable, logged at warn: it is counted in the
// access log under its code, but it is no bug of ours).
func (s *Server) problem(c *gin.Context, err error, notFoundHint string) (*qwoty.Error, int) {
	e := qwoty.AsError(err)
	if e.Code == qwoty.CodeInternal {
		switch {
		case errors.Is(err, qwoty.ErrNotFound):
			e = &qwoty.Error{Code: qwoty.CodeNotFound, Message: "not found", Hint: notFoundHint, Err: err}
		case s.db.Unavailable(err):
			e = errUnavailable(err)
		}
	}
	status := statusFor(e.Code)
	c.Set(ctxErrorCode, string(e.Code))
	if e.Code == qwoty.CodeUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", retryAfter) // unless the handler knows better (a busy login queue)
	}
	ctx := c.Request.Context()
	switch {
	case e.Code == qwoty.CodeUnavailable:
		s.log.WarnContext(ctx, "unavailable", "request_id", requestIDOf(c), "code", e.Code,
			"connection_id", c.GetString(ctxConnectionID), "error", errText(e))
	case status >= 500:
		s.log.ErrorContext(ctx, "request failed", "request_id", requestIDOf(c), "code", e.Code,
			"connection_id", c.GetString(ctxConnectionID), "error", errText(e))
	}
	return e, status
}

// fail answers err: the JSON error shape for API clients, or a flash
// fragment retargeted above the card for htmx requests.
func (s *Server) fail(c *gin.Context, err error) {
	e, status := s.problem(c, err, "Reload the card.")
	rid := requestIDOf(c)
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Retarget", "#flash")
		c.Header("HX-Reswap", "innerHTML")
		render(c, status, templates.Flash(templates.ErrorView{Code: string(e.Code), Message: sentence(e.Message), Hint: e.Hint, RequestID: rid, Field: e.Field}))
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
	if s.slashRedirect(c) {
		return
	}
	s.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Check the URL; the API is described in docs/callout-contract.md.", "no route for %s %s", c.Request.Method, c.Request.URL.Path))
}

func (s *Server) noMethod(c *gin.Context) {
	s.fail(c, qwoty.Errorf(qwoty.CodeMethodNotAllowed, "Check the method; signed callouts are POST.", "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
}
