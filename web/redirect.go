package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// gin can answer a path that differs from a route by a trailing slash with a
// redirect of its own, but it does so before any middleware runs: no request
// id, no security headers, no access log line. An engine turns its redirects
// off and redirects from NoRoute instead (SlashRedirect), which runs after
// the middleware, as gin would: 301 for GET, 307 for other methods, the
// query kept.
//
// Whether the other path has a route is asked of the engine's own tree, so
// a path matches exactly as a request to it would: a probe request for it
// is served by the engine, whose first middleware (Probe) notes the route
// the tree chose and stops before anything else runs.

// probeKey marks a probe request in its context, which no client can set.
type probeKey struct{}

// probe is a probe request's outcome: the route pattern it reached, "" when
// none.
type probe struct{ route string }

// Probe must be an engine's first middleware when its NoRoute calls
// SlashRedirect (NewEngine puts it there): it ends a probe request where the
// route is known, before any handler runs, and lets every other request
// through.
func Probe(c *gin.Context) {
	if p, ok := c.Request.Context().Value(probeKey{}).(*probe); ok {
		p.route = c.FullPath()
		c.Abort()
		return
	}
	c.Next()
}

// hasRoute reports whether method and path reach a route of engine (not its
// NoRoute nor NoMethod), by probing it.
func hasRoute(engine http.Handler, r *http.Request, path string) bool {
	p := &probe{}
	req := r.Clone(context.WithValue(r.Context(), probeKey{}, p))
	req.URL.Path, req.URL.RawPath = path, ""
	engine.ServeHTTP(discard{header: http.Header{}}, req)
	return p.route != ""
}

// discard is the probe's ResponseWriter: nothing a probe would write (a
// 404 body) goes anywhere.
type discard struct{ header http.Header }

func (d discard) Header() http.Header       { return d.header }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// SlashRedirect redirects a request whose path reaches a route of engine
// once a trailing slash is added or removed, and reports whether it did.
func SlashRedirect(c *gin.Context, engine http.Handler) bool {
	path := c.Request.URL.Path
	if path == "/" || path == "" {
		return false
	}
	// Routes match the decoded path; the Location keeps the request's own
	// escaping, so "%3F" or "%2F" stays data and never becomes a query or a
	// path separator.
	to, loc := path+"/", c.Request.URL.EscapedPath()+"/"
	if strings.HasSuffix(path, "/") {
		to, loc = strings.TrimSuffix(path, "/"), strings.TrimSuffix(c.Request.URL.EscapedPath(), "/")
	}
	// Never a Location another host could be read from ("//evil.example").
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
		return false
	}
	if !hasRoute(engine, c.Request, to) {
		return false
	}
	if q := c.Request.URL.RawQuery; q != "" {
		loc += "?" + q
	}
	status := http.StatusMovedPermanently
	if c.Request.Method != http.MethodGet {
		status = http.StatusTemporaryRedirect
	}
	c.Redirect(status, loc)
	c.Abort()
	return true
}
