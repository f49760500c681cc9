// Package migrations embeds the numbered SQL migrations that store.Migrate
// applies at start (tern format: NNN_name.sql, applied in order, each in a
// transaction).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
