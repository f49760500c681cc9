package server

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/static"
)

// render writes a templ component as HTML. It renders into a buffer first,
// so a failure mid-template becomes a clean 500 instead of half a page.
func render(c *gin.Context, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// staticFiles serves the embedded static files; versioned URLs (?v=) are
// cached for a year, since their content never changes under that URL.
func staticFiles() gin.HandlerFunc {
	fs := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c *gin.Context) {
		if c.Query("v") != "" {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "public, max-age=300")
		}
		fs.ServeHTTP(c.Writer, c.Request)
	}
}
