package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Every engine runs in gin's release mode: no debug banner, no route dump.
func init() { gin.SetMode(gin.ReleaseMode) }

// Keys of what handlers leave in the gin context for the access log.
const (
	ctxRequestID    = "qwoty.request_id"
	ctxConnectionID = "qwoty.connection_id"
	ctxErrorCode    = "qwoty.error_code"
	ctxLogPath      = "qwoty.log_path"
)

// HeaderRequestID carries the request id on every response.
const HeaderRequestID = "X-Request-Id"

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID accepts an id set by a load balancer in front of us, so one
// id follows the request across hops; anything odd is replaced.
func validRequestID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// AssignRequestID gives the request its id: the load balancer's, when it
// set a sane one, else a new one; the answer carries it.
func AssignRequestID(c *gin.Context) {
	id := c.GetHeader(HeaderRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Set(ctxRequestID, id)
	c.Header(HeaderRequestID, id)
	c.Next()
}

// RequestID is the request's id (AssignRequestID).
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// SetConnectionID names the CRM connection a request acted for, for the
// access log and the error log.
func SetConnectionID(c *gin.Context, id string) { c.Set(ctxConnectionID, id) }

// SetErrorCode records the code of an answer that is an error, for the
// access log; Errors.Classify does it for every error answer, handlers only
// for an error they answer in a page of their own (a login form).
func SetErrorCode(c *gin.Context, code qwoty.Code) { c.Set(ctxErrorCode, string(code)) }

// SetLogPath replaces the path the access log writes, for a route whose
// path carries a secret (a customer link's token): the route's pattern
// is logged instead.
func SetLogPath(c *gin.Context, path string) { c.Set(ctxLogPath, path) }

// AccessLog writes one JSON line per request to log. It logs the path
// without the query: embed URLs carry tokens there, and tokens are never
// logged.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500 && c.GetString(ctxErrorCode) == string(qwoty.CodeUnavailable):
			level = slog.LevelWarn // counted under its code, but not our fault
		case status >= 500:
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("path", logPath(c)),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("remote", c.ClientIP()),
		}
		if v := c.GetString(ctxConnectionID); v != "" {
			attrs = append(attrs, slog.String("connection_id", v))
		}
		if v := c.GetString(ctxErrorCode); v != "" {
			attrs = append(attrs, slog.String("code", v))
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// logPath is the path the access log writes (SetLogPath).
func logPath(c *gin.Context) string {
	if p := c.GetString(ctxLogPath); p != "" {
		return p
	}
	return c.Request.URL.Path
}

// Recover turns a panic into an error answer in shape (500 internal) with
// the request id, and logs the panic; the client never sees a stack trace.
func Recover(x *Errors, shape Shape) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				x.Answer(c, &qwoty.Error{Code: qwoty.CodeInternal, Message: "Something went wrong on our side.",
					Hint: "Try again; if it persists, contact support with the request id.", Err: fmt.Errorf("panic: %v", v)}, shape)
			}
		}()
		c.Next()
	}
}

// SecureHeaders sets the headers every response carries.
func SecureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", Policy("frame-ancestors 'none'"))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}

// Content-Security-Policy of every page but the card: scripts and styles
// from our origin only, and no framing at all. The card page replaces
// frame-ancestors with its connection's origins.
const BasePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'"

// Policy is BasePolicy with a frame-ancestors directive.
func Policy(frameAncestors string) string { return BasePolicy + "; " + frameAncestors }

// PolicyFormTo is the base policy whose forms may also lead to hosts (a
// form whose answer redirects elsewhere needs that host in form-action).
func PolicyFormTo(hosts, frameAncestors string) string {
	return strings.Replace(BasePolicy, "form-action 'self'", "form-action 'self' "+hosts, 1) + "; " + frameAncestors
}

// SameOrigin refuses a form posted from another site than appURL's
// (login CSRF: being logged in to someone else's account) when the browser
// says where from; fail answers the refusal in the surface's shape.
func SameOrigin(appURL string, fail func(*gin.Context, error)) gin.HandlerFunc {
	origin := crm.Origin(appURL)
	return func(c *gin.Context) {
		if o := c.GetHeader("Origin"); o != "" && o != origin {
			fail(c, qwoty.Errorf(qwoty.CodeCSRF, "Open the Qwoty console at its own address and try again.", "this form was sent from another site"))
			c.Abort()
			return
		}
		c.Next()
	}
}
