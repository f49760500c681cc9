package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
)

// Render writes a templ component as HTML. It renders into a buffer first,
// so a failure mid-template becomes a clean 500 instead of half a page, and
// compresses it for a client that accepts brotli or gzip (compress.go).
func Render(c *gin.Context, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	writeBody(c, status, "text/html; charset=utf-8", buf.Bytes())
}

var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonAppender is a value that writes its own JSON (the card answer).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// WriteJSON answers v as JSON in one write with its length, never cached:
// the answers of signed calls are for one caller, once. A value that cannot
// be encoded is a bug of ours: a bare 500, logged through c.Error.
func WriteJSON(c *gin.Context, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer jsonBuffers.Put(buf)
	buf.Reset()
	if a, ok := v.(jsonAppender); ok {
		buf.Write(append(a.AppendJSON(buf.AvailableBuffer()), '\n'))
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false) // an API answer, never inlined in HTML: keep URLs' & as is
		if err := enc.Encode(v); err != nil {
			c.Error(fmt.Errorf("web: encode answer: %w", err))
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
	}
	b := buf.Bytes()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	c.Writer.WriteHeader(status)
	_, _ = c.Writer.Write(b)
}
