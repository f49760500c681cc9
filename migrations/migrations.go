// Package migrations embeds the numbered SQL migrations that store.Migrate
// applies at start (tern format: NNN_name.sql, applied in order, each in a
// transaction).
package migrations

import (
	"embed"
	"strconv"
	"strings"
)

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS

// Latest is the number of the newest embedded migration: the version a
// migrated database's schema_version holds.
func Latest() int {
	entries, _ := FS.ReadDir(".")
	latest := 0
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if n, err := strconv.Atoi(num); ok && err == nil && n > latest {
			latest = n
		}
	}
	return latest
}
