package store_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/qwoty/companion/migrations"
	"github.com/qwoty/companion/store/storetest"
)

// migratedTo is a connection to a new database migrated up to version, and
// the migrator that takes it further: a migration's test writes the rows
// the version before it held, then migrates.
func migratedTo(t *testing.T, version int32) (*pgx.Conn, *migrate.Migrator) {
	t.Helper()
	conn, err := pgx.Connect(ctx, storetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	m, err := migrate.NewMigrator(ctx, conn, "public.schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return conn, m
}
