package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/qwoty/companion/static"
)

// get fetches u with the Accept-Encoding given (and other headers), without
// the transport's own gzip handling, and returns the body as sent.
func rawGet(t *testing.T, u, acceptEncoding string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", acceptEncoding) // set: the transport leaves the body as it came
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func decode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		r = zr
	case "":
		return b
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body: %v", enc, err)
	}
	return out
}

// Static files go compressed to a browser that accepts it, brotli first,
// each coding with its own ETag, Vary on Accept-Encoding, and 304 for the
// ETag the browser holds.
func TestStaticFilesCompressed(t *testing.T) {
	a := newApp(t, "", nil)
	want, err := static.FS.ReadFile(static.HTMX)
	if err != nil {
		t.Fatal(err)
	}
	u := a.url() + static.URL(static.HTMX)
	etags := map[string]bool{}
	for _, c := range []struct{ accept, enc string }{
		{"gzip, deflate, br, zstd", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip;q=0.5", "gzip"}, {"", ""},
		{"identity", ""}, {"*", "br"}, {"br;q=0, gzip;q=0", ""},
	} {
		r := rawGet(t, u, c.accept, nil)
		if r.status != 200 || r.header.Get("Content-Encoding") != c.enc {
			t.Fatalf("Accept-Encoding %q: %d, Content-Encoding %q, want %q", c.accept, r.status, r.header.Get("Content-Encoding"), c.enc)
		}
		if got := decode(t, c.enc, r.body); !bytes.Equal(got, want) {
			t.Fatalf("Accept-Encoding %q: the body decodes to %d bytes, not the file's %d", c.accept, len(got), len(want))
		}
		if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") || !strings.Contains(r.header.Get("Content-Type"), "javascript") ||
			r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("Accept-Encoding %q: headers %v", c.accept, r.header)
		}
		etag := r.header.Get("ETag")
		if c.enc != "" && len(r.body) >= len(want)/2 {
			t.Fatalf("%s: %d bytes of %d", c.enc, len(r.body), len(want))
		}
		etags[c.enc+" "+etag] = true
		// The browser's copy is still good: 304, nothing sent.
		nm := rawGet(t, u, c.accept, map[string]string{"If-None-Match": etag})
		if nm.status != http.StatusNotModified || len(nm.body) != 0 || nm.header.Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: %d, %d bytes, ETag %q", etag, nm.status, len(nm.body), nm.header.Get("ETag"))
		}
	}
	// One ETag per coding: a cache never serves one coding's bytes for another's tag.
	seen := map[string]string{}
	for k := range etags {
		enc, tag, _ := strings.Cut(k, " ")
		if other, dup := seen[tag]; dup && other != enc {
			t.Fatalf("ETag %s is shared by %q and %q", tag, other, enc)
		}
		seen[tag] = enc
	}
	if len(seen) != 3 {
		t.Fatalf("ETags %v: want one for br, gzip and identity", seen)
	}
	// Another coding's ETag is not a match.
	br := rawGet(t, u, "br", nil)
	if r := rawGet(t, u, "gzip", map[string]string{"If-None-Match": br.header.Get("ETag")}); r.status != 200 || r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip with brotli's ETag: %d %q", r.status, r.header.Get("Content-Encoding"))
	}
	for _, p := range []string{"/static/nope.js", "/static/vendor", "/static/vendor/", "/static/../go.mod", "/static/"} {
		if r := rawGet(t, a.url()+p, "br", nil); r.status != http.StatusNotFound {
			t.Fatalf("%s: %d, want 404", p, r.status)
		}
	}
	// A tiny file is not worth compressing.
	if r := rawGet(t, a.url()+static.URL("logo.svg"), "br", nil); r.status != 200 || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("logo.svg: %d %q", r.status, r.header.Get("Content-Encoding"))
	}
}

// The card page and its fragments are compressed; the CRM's signed JSON
// callout is not (its path is measured to the microsecond).
func TestPagesCompressedCalloutsNot(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")

	req := a.request(callout{org: org, secret: conn.Secret, body: body(recordA, accountA, "Acme", "USD")})
	req.Header.Set("Accept-Encoding", "br, gzip")
	callout := do(t, req)
	if callout.status != 200 || callout.header.Get("Content-Encoding") != "" || !bytes.HasPrefix(callout.body, []byte(`{"embedUrl"`)) {
		t.Fatalf("callout: %d, Content-Encoding %q, %.40s", callout.status, callout.header.Get("Content-Encoding"), callout.body)
	}
	ans := callout.answer(t)

	for _, enc := range []string{"br", "gzip"} {
		// Each embed token opens the card; a fresh one per coding.
		if enc == "gzip" {
			ans = openCard(t, a, org, conn.Secret)
		}
		r := rawGet(t, ans.EmbedURL, enc, nil)
		if r.status != 200 || r.header.Get("Content-Encoding") != enc || !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") ||
			r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("card page with %s: %d %v", enc, r.status, r.header)
		}
		html := decode(t, enc, r.body)
		if !bytes.Contains(html, []byte(`id="card"`)) || len(r.body) >= len(html)*3/4 {
			t.Fatalf("card page with %s: %d bytes for %d of HTML", enc, len(r.body), len(html))
		}
	}
	r := rawGet(t, openCard(t, a, org, conn.Secret).EmbedURL, "", nil)
	if r.status != 200 || r.header.Get("Content-Encoding") != "" || !bytes.Contains(r.body, []byte(`id="card"`)) {
		t.Fatalf("card page without Accept-Encoding: %d %q", r.status, r.header.Get("Content-Encoding"))
	}
}
