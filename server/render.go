package server

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
)

// render writes a templ component as HTML. It renders into a buffer first,
// so a failure mid-template becomes a clean 500 instead of half a page, and
// compresses it for a client that accepts brotli or gzip (compress.go).
func render(c *gin.Context, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	writeBody(c, status, "text/html; charset=utf-8", buf.Bytes())
}
