package server

import (
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// gin can answer a path that differs from a route by a trailing slash with a
// redirect of its own, but it does so before any middleware runs: no request
// id, no security headers, no access log line. Its redirects are off
// (routes.go); NoRoute, which runs after the middleware, redirects instead
// (slashRedirect), as gin would: 301 for GET, 307 for other methods, the
// query kept.

// routeTable answers whether a path matches a route, for slashRedirect.
type routeTable struct {
	once   sync.Once
	routes map[string][][]string // method → each route's path segments
}

func (t *routeTable) load(e *gin.Engine) {
	t.once.Do(func() {
		t.routes = map[string][][]string{}
		for _, r := range e.Routes() {
			t.routes[r.Method] = append(t.routes[r.Method], strings.Split(r.Path, "/"))
		}
	})
}

// has reports whether method and path match a route: a :param matches one
// non-empty segment, a *param the rest of the path.
func (t *routeTable) has(method, path string) bool {
	segs := strings.Split(path, "/")
	for _, route := range t.routes[method] {
		if segmentsMatch(route, segs) {
			return true
		}
	}
	return false
}

func segmentsMatch(route, segs []string) bool {
	for i, r := range route {
		if strings.HasPrefix(r, "*") {
			return true
		}
		if i >= len(segs) {
			return false
		}
		if strings.HasPrefix(r, ":") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if r != segs[i] {
			return false
		}
	}
	return len(route) == len(segs)
}

// slashRedirect redirects a request whose path matches a route once a
// trailing slash is added or removed, and reports whether it did.
func (s *Server) slashRedirect(c *gin.Context) bool {
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
	s.routeTable.load(s.engine)
	if !s.routeTable.has(c.Request.Method, to) {
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
