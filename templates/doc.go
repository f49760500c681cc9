// Package templates holds the templ components of every page: the card view
// shared by all CRMs, the home page and the dev playground. Run
// `go tool templ generate` after editing a .templ file; the generated
// *_templ.go files are committed.
package templates
