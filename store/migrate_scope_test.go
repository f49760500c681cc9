package store_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// Migration 005 gives customers a connection: a customer row that quotes of
// two connections shared (the leak it closes) becomes one per connection,
// each quote keeping its customer's name; a customer no quote uses is
// dropped (the next card request writes it again, under its connection).
func TestMigrationSplitsCustomersSharedAcrossConnections(t *testing.T) {
	conn, m := migratedTo(t, 4)
	_, err := conn.Exec(ctx, `
		INSERT INTO workspaces (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Acme');
		INSERT INTO connections (id, workspace_id, provider, external_id, status) VALUES
			('00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-000000000001', 'hubspot', '62515', 'disconnected'),
			('00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-000000000001', 'pipedrive', '54321', 'active');
		INSERT INTO customers (id, workspace_id, crm_account_id, name) VALUES
			('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000001', '7', 'Globex'),
			('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-000000000001', '8', 'Unused');
		INSERT INTO quotes (id, workspace_id, connection_id, customer_id, crm_record_id, number, currency) VALUES
			('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-0000000000c1', '42', 'Q-00001', 'USD'),
			('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-0000000000c1', '42', 'Q-00002', 'USD'),
			('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-0000000000c1', '42', 'Q-00003', 'USD'),
			('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-00000000000b', NULL, '42', 'Q-00004', 'USD');`)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 5); err != nil {
		t.Fatal(err)
	}

	rows, err := conn.Query(ctx, `SELECT q.number, coalesce(cu.connection_id = q.connection_id, true), coalesce(cu.crm_account_id, ''),
		coalesce(cu.name, ''), coalesce(cu.id::text, '') FROM quotes q LEFT JOIN customers cu ON cu.id = q.customer_id ORDER BY q.number`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Number   string
		SameConn bool
		Account  string
		Name     string
		Customer string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d quotes after the migration, want 4", len(got))
	}
	for _, r := range got[:3] {
		if !r.SameConn || r.Account != "7" || r.Name != "Globex" {
			t.Fatalf("quote %s: customer %+v; want account 7 named Globex, of the quote's connection", r.Number, r)
		}
	}
	if got[0].Customer != got[1].Customer || got[0].Customer == got[2].Customer {
		t.Fatalf("customers %s, %s, %s: want the first connection's two quotes to share one, the second's another",
			got[0].Customer, got[1].Customer, got[2].Customer)
	}
	if got[3].Customer != "" {
		t.Fatalf("quote %s had no customer and got %q", got[3].Number, got[3].Customer)
	}
	var customers, unused int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE crm_account_id = '8') FROM customers`).Scan(&customers, &unused); err != nil {
		t.Fatal(err)
	}
	if customers != 2 || unused != 0 {
		t.Fatalf("%d customers (%d unused) after the migration, want 2 (none unused)", customers, unused)
	}
	// A quote cannot take another connection's customer any more.
	_, err = conn.Exec(ctx, `UPDATE quotes SET customer_id = $1 WHERE number = 'Q-00004'`, got[0].Customer)
	if err == nil {
		t.Fatal("a quote of one connection took a customer of another")
	}
}
