// Package static embeds the CSS, scripts and icons the pages use, and names
// each file by a content hash so browsers may cache it forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// FS holds every static file.
//
//go:embed *.css *.js *.svg vendor
var FS embed.FS

var versions = map[string]string{}

func init() {
	_ = fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		versions[path] = hex.EncodeToString(sum[:6])
		return nil
	})
}

// URL returns the path of a static file with its content version, such as
// /static/app.css?v=1a2b3c4d5e6f. It panics on a name that does not exist,
// so a typo fails the first test that renders the page.
func URL(name string) string {
	v, ok := versions[name]
	if !ok {
		panic("static: no file " + name)
	}
	return "/static/" + name + "?v=" + v
}

// HTMX is the vendored htmx file (0BSD licence beside it).
const HTMX = "vendor/htmx-2.0.11.min.js"

// PipedriveSDK is Pipedrive's app extensions SDK, bundled (MIT licence and
// build notes beside it).
const PipedriveSDK = "vendor/pipedrive/app-extensions-sdk-0.15.1.min.js"
