package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/static"
)

// Compression of what the browser loads: the static files, compressed once
// per process at the best ratio (brotli 11, gzip 9) and kept in memory, and
// the pages and card fragments, compressed as they are rendered at a fast
// level. The signed JSON answers to CRM callouts are not compressed: they
// are a few kilobytes read by a server next to a CRM, and their path is
// measured to the microsecond (docs/performance.md).
//
// Go's standard library has gzip but no brotli; brotli is andybalholm/brotli,
// a pure Go port of Google's C library (no cgo), already in the module graph
// through templ. On htmx it gives 15.3 KB where gzip gives 17.0 KB.

// encoding is a content coding the server can send.
type encoding int

const (
	identity encoding = iota
	encGzip
	encBrotli
)

func (e encoding) token() string {
	switch e {
	case encBrotli:
		return "br"
	case encGzip:
		return "gzip"
	}
	return ""
}

// acceptedEncoding picks brotli, else gzip, else none, from an
// Accept-Encoding header; a coding with q=0 is refused, "*" stands for any
// coding not named.
func acceptedEncoding(header string) encoding {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = f
				}
			}
		}
		q[name] = weight
	}
	ok := func(name string) bool {
		if w, named := q[name]; named {
			return w > 0
		}
		w, star := q["*"]
		return star && w > 0
	}
	switch {
	case ok("br"):
		return encBrotli
	case ok("gzip"), ok("x-gzip"):
		return encGzip
	}
	return identity
}

// minCompress is the smallest body worth compressing: below it, a packet
// carries it whole either way.
const minCompress = 1024

var (
	brPool = sync.Pool{New: func() any { return brotli.NewWriterLevel(io.Discard, 5) }}
	gzPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, 5); return w }}
)

// compressFast compresses a rendered body at a level that costs well under a
// millisecond for a card page (brotli 5, gzip 5).
func compressFast(enc encoding, body []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(body) / 3)
	switch enc {
	case encBrotli:
		w := brPool.Get().(*brotli.Writer)
		w.Reset(&out)
		_, _ = w.Write(body)
		_ = w.Close()
		brPool.Put(w)
	case encGzip:
		w := gzPool.Get().(*gzip.Writer)
		w.Reset(&out)
		_, _ = w.Write(body)
		_ = w.Close()
		gzPool.Put(w)
	default:
		return body
	}
	return out.Bytes()
}

// writeBody writes a rendered body, compressed when the client accepts it
// and it is worth it. Vary is set whenever the answer could differ by
// Accept-Encoding, so a cache in between keeps the codings apart.
func writeBody(c *gin.Context, status int, contentType string, body []byte) {
	h := c.Writer.Header()
	if len(body) >= minCompress {
		h.Add("Vary", "Accept-Encoding")
		if enc := acceptedEncoding(c.GetHeader("Accept-Encoding")); enc != identity {
			body = compressFast(enc, body)
			h.Set("Content-Encoding", enc.token())
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(status, contentType, body)
}

// asset is one static file in each coding, with its ETags.
type asset struct {
	name, contentType, etag string
	plain, br, gz           []byte
}

// assets holds the static files, each compressed on first use (or by
// warmAssets at start).
var assets sync.Map // name → func() *asset

func loadAsset(name string) *asset {
	if f, ok := assets.Load(name); ok {
		return f.(func() *asset)()
	}
	f, _ := assets.LoadOrStore(name, sync.OnceValue(func() *asset { return buildAsset(name) }))
	return f.(func() *asset)()
}

func buildAsset(name string) *asset {
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	a := &asset{name: name, plain: b, etag: hex.EncodeToString(sum[:8])}
	a.contentType = mime.TypeByExtension(path.Ext(name))
	if a.contentType == "" {
		a.contentType = http.DetectContentType(b)
	}
	if compressible(a.contentType) && len(b) >= minCompress {
		var br, gz bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		_, _ = bw.Write(b)
		_ = bw.Close()
		gw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = gw.Write(b)
		_ = gw.Close()
		if br.Len() < len(b) {
			a.br = br.Bytes()
		}
		if gz.Len() < len(b) {
			a.gz = gz.Bytes()
		}
	}
	return a
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json") || strings.Contains(contentType, "svg")
}

var warmOnce sync.Once

// warmAssets compresses every static file in the background, once per
// process, so no rep's first card waits for brotli's best level.
func warmAssets() {
	warmOnce.Do(func() {
		go func() {
			_ = fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					loadAsset(p)
				}
				return nil
			})
		}()
	})
}

// StaticFiles serves the embedded static files; versioned URLs (?v=) are
// cached for a year, since their content never changes under that URL.
// Each coding of a file has its own strong ETag, and If-None-Match answers
// 304 (http.ServeContent), as does Range, on the coding sent.
func StaticFiles() gin.HandlerFunc {
	warmAssets()
	return func(c *gin.Context) {
		name := strings.TrimPrefix(path.Clean("/"+c.Param("path")), "/")
		a := (*asset)(nil)
		if name != "" && fs.ValidPath(name) {
			a = loadAsset(name)
		}
		if a == nil {
			c.Status(http.StatusNotFound)
			c.Writer.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = c.Writer.WriteString("404 page not found\n")
			return
		}
		h := c.Writer.Header()
		if c.Query("v") != "" {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		body, etag := a.plain, a.etag
		if a.br != nil || a.gz != nil {
			h.Add("Vary", "Accept-Encoding")
			switch enc := acceptedEncoding(c.GetHeader("Accept-Encoding")); {
			case enc == encBrotli && a.br != nil:
				body, etag = a.br, a.etag+"-br"
				h.Set("Content-Encoding", "br")
			case enc != identity && a.gz != nil:
				body, etag = a.gz, a.etag+"-gz"
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", `"`+etag+`"`)
		http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(body))
	}
}
