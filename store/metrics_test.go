package store_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/qwoty/companion/migrations"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Sync's state by CRM, aggregated over its connections: the lowest budget
// share, the connections under 10 % and blocked, and the lag's quantiles
// over the connections behind; a disconnected connection does not count.
func TestSyncHealthByProvider(t *testing.T) {
	db := storetest.New(t)
	pool := storetest.Pool(t, db)
	conns := make([]*qwoty.Connection, 5)
	for i := range conns {
		c, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: fmt.Sprintf("W%d", i), Provider: qwoty.ProviderSalesforce,
			ExternalID: fmt.Sprintf("00D00000000000%dAAA", i), MyDomain: fmt.Sprintf("w%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	bucket := store.BudgetBucket{Name: "daily", Capacity: 1000}
	for i, left := range []float64{500, 50, 5, 900} { // shares .5, .05, .005, .9
		if err := db.ObserveBudget(ctx, conns[i].ID, bucket, left); err != nil {
			t.Fatal(err)
		}
	}
	// Blocked: conns[1], and conns[4], which has no bucket besides.
	for _, c := range []*qwoty.Connection{conns[1], conns[4]} {
		if err := db.BlockBudget(ctx, c.ID, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Records not pushed, their latest change 100 s, 200 s and 400 s ago on
	// three connections (and an older one pushed).
	for i, age := range []int{100, 200, 400} {
		for j, extra := range []int{0, 50} {
			if _, err := pool.Exec(ctx, `INSERT INTO sync_records (connection_id, crm_record_id, workspace_id, desired_seq, state, updated_at)
				VALUES ($1, $2, $3, 1, $4, now() - make_interval(secs => $5))`,
				conns[i].ID, fmt.Sprintf("rec-%d", j), conns[i].WorkspaceID, []string{"pending", "in_flight"}[j], age-extra); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sync_records (connection_id, crm_record_id, workspace_id, desired_seq, synced_seq, state, updated_at)
		VALUES ($1, 'done', $2, 1, 1, 'synced', now() - interval '1 day')`, conns[3].ID, conns[3].WorkspaceID); err != nil {
		t.Fatal(err)
	}
	// Disconnected: its tiny budget and old record do not count.
	if _, err := pool.Exec(ctx, `UPDATE connections SET status = 'disconnected' WHERE id = $1`, conns[2].ID); err != nil {
		t.Fatal(err)
	}

	// A connection without a bucket nor records (conns[4]) is neither at
	// 0 % nor behind: PostgreSQL's greatest(NULL, 0) is 0, a trap.
	hs, err := db.SyncHealthByProvider(ctx)
	if err != nil || len(hs) != 1 {
		t.Fatalf("%+v, %v", hs, err)
	}
	h := hs[0]
	near := func(got, want float64) bool { return math.Abs(got-want) < 2 }
	if h.Provider != "salesforce" || h.Connections != 4 || h.BudgetUnder10 != 1 || h.Blocked != 2 || h.Behind != 2 ||
		math.Abs(h.LowestBudgetShare-0.05) > 0.001 {
		t.Fatalf("health: %+v", h)
	}
	// Lags 100 and 200: p50 150, p90 190, p99 199, oldest 200.
	if !near(h.LagP50, 150) || !near(h.LagP90, 190) || !near(h.LagP99, 199) || !near(h.OldestPending, 200) {
		t.Fatalf("lags: %+v", h)
	}
}

// The schema's version is the newest embedded migration once migrated.
func TestSchemaVersionIsTheLatestMigration(t *testing.T) {
	db := storetest.New(t)
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != migrations.Latest() || v < 24 {
		t.Fatalf("schema version %d (%v), latest embedded %d", v, err, migrations.Latest())
	}
}
