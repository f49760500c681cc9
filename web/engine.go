package web

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/metrics"
)

// NewEngine is a gin engine as every Qwoty surface runs: a 405 for a known
// path with another method, no redirects of gin's own (they would skip the
// middleware; NoRoute calls SlashRedirect instead), the client address from
// trustedProxies' X-Forwarded-For only, and the middleware every request
// passes: Probe, the request id, the access log, panics answered in shape,
// and the security headers. The caller adds its routes, NoRoute and
// NoMethod.
func NewEngine(log *slog.Logger, errs *Errors, shape Shape, trustedProxies []string) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	// The client address (logs, login throttle) is the peer's, or the
	// X-Forwarded-For that a configured proxy (QWOTY_TRUSTED_PROXIES) sets;
	// never a header anyone can send. config.Load validated the CIDRs.
	_ = r.SetTrustedProxies(trustedProxies)
	r.Use(Probe, AssignRequestID, AccessLog(log), metrics.Gin, Recover(errs, shape), SecureHeaders)
	return r
}
