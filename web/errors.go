// Package web is what every HTTP surface of Qwoty shares (the CRM endpoints
// and card in server, the admin console in console, the playground): the
// one error path, the middleware every request passes, the form-input
// checks, the security headers and their CSP helpers, and rendering.
//
// The error path is one prologue (Errors.Classify: the error's code, its
// status, Retry-After, the code for the access log, and the 5xx logged
// once) followed by the surface's shape (Shape: JSON, the card's flash, a
// full page, the console's page, a CRM's own JSON). A surface answers an
// error with Errors.Answer and the shape it speaks.
package web

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/templates"
)

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

// Problem is an error classified by the prologue, ready for a shape.
type Problem struct {
	*qwoty.Error
	Status    int
	RequestID string
}

// Shape is how one surface writes an error answer: JSON for API clients,
// the card's flash, a full page, the console's page, a CRM's own JSON.
type Shape struct {
	// NotFound is the hint of a missing row nobody classified, in the
	// surface's words ("Reload the card.", "Go back to Integrations.").
	NotFound string
	// Write writes the answer.
	Write func(c *gin.Context, p Problem)
}

// Errors is the error path of an application: the one prologue every
// surface's answers share.
type Errors struct {
	log *slog.Logger
	// unavailable reports whether err is the database not answering.
	unavailable func(error) bool
}

// NewErrors builds the error path; unavailable reports whether an error is
// the database not answering (store.DB.Unavailable), nil for never.
func NewErrors(log *slog.Logger, unavailable func(error) bool) *Errors {
	if log == nil {
		log = slog.Default()
	}
	if unavailable == nil {
		unavailable = func(error) bool { return false }
	}
	return &Errors{log: log, unavailable: unavailable}
}

// Classify is the one prologue of every error answer, whatever renders it:
// it classifies err, records its code for the access log, asks the client
// to come back later when the service is unavailable, and logs the cause
// once. An error nobody classified is our fault (internal, logged at
// error), except a missing row (not found, with notFoundHint) and a
// database that could not be reached (unavailable, logged at warn: it is
// counted in the access log under its code, but it is no bug of ours).
func (x *Errors) Classify(c *gin.Context, err error, notFoundHint string) Problem {
	e := qwoty.AsError(err)
	if e.Code == qwoty.CodeInternal {
		switch {
		case errors.Is(err, qwoty.ErrNotFound):
			e = &qwoty.Error{Code: qwoty.CodeNotFound, Message: "not found", Hint: notFoundHint, Err: err}
		case x.unavailable(err):
			e = errUnavailable(err)
		}
	}
	status := qwoty.HTTPStatus(e.Code) // the catalogue's
	SetErrorCode(c, e.Code)
	if e.Code == qwoty.CodeUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", retryAfter) // unless the handler knows better (a busy login queue)
	}
	ctx := c.Request.Context()
	switch {
	case e.Code == qwoty.CodeUnavailable:
		x.log.WarnContext(ctx, "unavailable", "request_id", RequestID(c), "code", e.Code,
			"connection_id", c.GetString(ctxConnectionID), "error", errText(e))
	case status >= 500:
		x.log.ErrorContext(ctx, "request failed", "request_id", RequestID(c), "code", e.Code,
			"connection_id", c.GetString(ctxConnectionID), "error", errText(e))
	}
	return Problem{Error: e, Status: status, RequestID: RequestID(c)}
}

// Answer answers err in shape, after the prologue, and stops the handler
// chain: nothing after an error answer may write.
func (x *Errors) Answer(c *gin.Context, err error, shape Shape) {
	shape.Write(c, x.Classify(c, err, shape.NotFound))
	c.Abort()
}

// API is the shape of the JSON API (signed CRM calls, the card's actions,
// unknown routes): ErrorBody, or for an htmx request a flash fragment
// retargeted above the card.
var API = Shape{NotFound: "Reload the card.", Write: func(c *gin.Context, p Problem) {
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Retarget", "#flash")
		c.Header("HX-Reswap", "innerHTML")
		Render(c, p.Status, templates.Flash(templates.ErrorView{Code: string(p.Code), Message: Sentence(p.Message), Hint: p.Hint,
			RequestID: p.RequestID, Field: p.Field}))
		return
	}
	c.AbortWithStatusJSON(p.Status, ErrorBody{Error: ErrorDetail{Code: p.Code, Message: p.Message, Hint: p.Hint, RequestID: p.RequestID}})
}}

// JSON is the shape of a caller that reads errors in its own JSON form (a
// CRM's panel): body builds it from the problem.
func JSON(notFoundHint string, body func(Problem) any) Shape {
	return Shape{NotFound: notFoundHint, Write: func(c *gin.Context, p Problem) { WriteJSON(c, p.Status, body(p)) }}
}

// Framing says who may frame a full-page error: the origins the page may
// post to (ParentOrigins) and the CSP frame-ancestors directive that lets
// them; empty keeps the default (no framing at all).
type Framing struct {
	FrameAncestors string
	ParentOrigins  []string
	// Provider is the CRM framing the page, when it needs its own script
	// to show the page at all.
	Provider string
}

// Page is the shape of a page opened in a browser frame (the card, a
// CRM's panel launch): a full-page error state, framed as f says.
func Page(notFoundHint string, f Framing) Shape {
	return Shape{NotFound: notFoundHint, Write: func(c *gin.Context, p Problem) {
		if f.FrameAncestors != "" {
			c.Header("Content-Security-Policy", Policy(f.FrameAncestors))
		}
		Render(c, p.Status, templates.ErrorPage(templates.ErrorView{Title: pageTitle(p.Code), Code: string(p.Code),
			Message: SentenceEnd(p.Message), Hint: p.Hint, RequestID: p.RequestID, ParentOrigins: f.ParentOrigins, Provider: f.Provider}))
	}}
}

// pageTitle is the heading of a full-page error state.
func pageTitle(code qwoty.Code) string {
	switch code {
	case qwoty.CodeTokenExpired:
		return "Session expired"
	case qwoty.CodeTokenInvalid, qwoty.CodeTokenMissing:
		return "This card link is not valid"
	case qwoty.CodeOrgDisconnected:
		return "Disconnected from Qwoty"
	case qwoty.CodeUnavailable:
		return "Temporarily unavailable"
	}
	return "This card cannot open"
}

// Console is the shape of the admin console: the error inside the console's
// layout, page being the page's shared part (who is logged in).
func Console(page templates.ConsolePage) Shape {
	return Shape{NotFound: "Go back to Integrations.", Write: func(c *gin.Context, p Problem) {
		page.Error = &templates.ErrorView{Code: string(p.Code), Message: SentenceEnd(p.Message), Hint: p.Hint, RequestID: p.RequestID}
		Render(c, p.Status, templates.ConsoleError(page))
	}}
}

func errText(e *qwoty.Error) string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// SentenceEnd is Sentence with a full stop, unless it has one.
func SentenceEnd(s string) string {
	s = Sentence(s)
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// Sentence capitalises a message for display.
func Sentence(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
