package store_test

import (
	"testing"
)

// Migration 006 lets a connection name any CRM whose name has the form the
// registry requires, where 001 allowed three names only: a fourth CRM is
// refused before it and accepted after it, the existing connections stay,
// and a name that could not be a provider is still refused.
func TestMigrationAcceptsAnyWellFormedProvider(t *testing.T) {
	conn, m := migratedTo(t, 5)
	const ws = "00000000-0000-4000-8000-000000000001"
	if _, err := conn.Exec(ctx, `
		INSERT INTO workspaces (id, name) VALUES ('`+ws+`', 'Acme');
		INSERT INTO connections (workspace_id, provider, external_id, status) VALUES
			('`+ws+`', 'salesforce', '00D000000000001AAA', 'disconnected'),
			('`+ws+`', 'hubspot', '62515', 'disconnected'),
			('`+ws+`', 'pipedrive', '54321', 'active');`); err != nil {
		t.Fatal(err)
	}
	add := func(provider, external string) error {
		_, err := conn.Exec(ctx, `INSERT INTO connections (workspace_id, provider, external_id, status) VALUES ($1, $2, $3, 'disconnected')`,
			ws, provider, external)
		return err
	}
	if err := add("fakecrm2", "1"); err == nil {
		t.Fatal("before 006, a fourth CRM's connection was accepted")
	}

	if err := m.MigrateTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM connections`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d connections after the migration, %v; want the 3 kept", n, err)
	}
	if err := add("fakecrm2", "1"); err != nil {
		t.Fatalf("after 006, a fourth CRM's connection was refused: %v", err)
	}
	for _, bad := range []string{"", "x", "Salesforce", "fake-crm", "2crm", "crm/x", "fake crm", "abcdefghijklmnopqrstuvwxyz0123456"} {
		if err := add(bad, "2"); err == nil {
			t.Errorf("provider %q was accepted", bad)
		}
	}
}
