package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// TestSyncLogAt1M is `make bench-synclog`: the sync log with 1,000,000
// rows on the connection, a page of each filter read 200 times at the
// store and through the handler (an admin's GET, over loopback HTTP),
// p50 and p99 of each against the 50 ms target, and each filter's plan
// checked for an index read. Skipped unless QWOTY_BENCH_SYNCLOG=1: the
// seed takes a while.
func TestSyncLogAt1M(t *testing.T) {
	if os.Getenv("QWOTY_BENCH_SYNCLOG") != "1" {
		t.Skip("set QWOTY_BENCH_SYNCLOG=1 (make bench-synclog)")
	}
	const rows, reads = 1_000_000, 200
	e := newSyncEnv(t, "")
	ctx := context.Background()
	pool := storetest.Pool(t, e.db)
	run := "5d7e1f0a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
	start := time.Now()
	// 90 days of rows, oldest first: 2% failed, three objects, one in ten
	// pulled, 50,000 records, one run of 1,000 rows.
	if _, err := pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, created_at, crm_record_id, crm_object, crm_id, outcome,
			error_code, message, direction, run_id, api_calls)
		SELECT $1, $2, now() - interval '90 days' + i * interval '7776 milliseconds', 'r-' || (i % 50000),
			(ARRAY['Opportunity', 'OpportunityLineItem', 'Quote'])[1 + i % 3], 'crm-' || i,
			CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'synced' END,
			CASE WHEN i % 50 = 0 THEN 'sync_rejected' ELSE '' END,
			CASE WHEN i % 50 = 0 THEN 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Close date is required' ELSE '' END,
			CASE WHEN i % 10 = 0 THEN 'pull' ELSE 'push' END,
			CASE WHEN i BETWEEN 500000 AND 500999 THEN $3::uuid END, 1
		FROM generate_series(1, $4::int) i`, e.conn.WorkspaceID, e.conn.ID, run, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE sync_log`); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d rows in %s", rows, time.Since(start).Round(time.Millisecond))

	var mid int64
	if err := pool.QueryRow(ctx, `SELECT id FROM sync_log WHERE connection_id = $1 ORDER BY id OFFSET 500000 LIMIT 1`, e.conn.ID).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().AddDate(0, 0, -45).Format(logDate)
	week := time.Now().UTC().AddDate(0, 0, -38).Format(logDate)
	cases := []struct{ name, query string }{
		{"unfiltered", ""},
		{"older page (middle)", fmt.Sprintf("before=%d", mid)},
		{"newer page (middle)", fmt.Sprintf("after=%d", mid)},
		{"outcome=failed", "outcome=failed"},
		{"object=Quote", "object=Quote"},
		{"direction=pull", "direction=pull"},
		{"record", "record=r-4242"},
		{"run", "run=" + run},
		{"from/to (a week)", "from=" + day + "&to=" + week},
		{"to (45 days ago)", "to=" + day},
		{"failed+object+week", "outcome=failed&object=Quote&from=" + day + "&to=" + week},
	}
	logURL := e.url() + "/settings/integrations/testcrm/sync-log"
	var report strings.Builder
	fmt.Fprintf(&report, "| filter | rows on the page | store p50 | store p99 | handler p50 | handler p99 |\n|---|---|---|---|---|---|\n")
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, logURL+"?"+c.query, nil)
		q, f, err := syncLogFilterOf(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_ = q
		var storeT, handlerT []time.Duration
		var n int
		for range reads {
			t0 := time.Now()
			p, err := e.db.SyncLogPaged(ctx, e.conn.WorkspaceID, e.conn.ID, f, syncLogPage)
			storeT = append(storeT, time.Since(t0))
			if err != nil {
				t.Fatal(err)
			}
			n = len(p.Entries)
		}
		for range reads {
			t0 := time.Now()
			e.b.Get(logURL + "?" + c.query)
			handlerT = append(handlerT, time.Since(t0))
			if e.b.Last.StatusCode != 200 {
				t.Fatalf("%s: %d\n%s", c.name, e.b.Last.StatusCode, e.b.Body)
			}
		}
		s50, s99, h50, h99 := pct(storeT, 50), pct(storeT, 99), pct(handlerT, 50), pct(handlerT, 99)
		fmt.Fprintf(&report, "| %s | %d | %s | %s | %s | %s |\n", c.name, n, ms(s50), ms(s99), ms(h50), ms(h99))
		if h99 > 50*time.Millisecond {
			t.Errorf("%s: handler p99 %s, over 50 ms", c.name, h99)
		}
		if n == 0 {
			t.Errorf("%s: an empty page measures nothing", c.name)
		}
	}
	t.Logf("sync log at %d rows, %d reads each:\n%s", rows, reads, report.String())

	// Each filter's page is an index read, never a scan of the table.
	for name, where := range map[string]string{
		"unfiltered": "", "outcome": "AND outcome = 'failed'", "object": "AND crm_object = 'Quote'",
		"direction": "AND direction = 'pull'", "record": "AND crm_record_id = 'r-4242'", "run": "AND run_id = '" + run + "'",
		"dates": "AND created_at >= now() - interval '45 days' AND created_at < now() - interval '38 days'",
	} {
		var plan []string
		r, err := pool.Query(ctx, `EXPLAIN SELECT id FROM sync_log WHERE workspace_id = $1 AND connection_id = $2 `+where+
			` ORDER BY created_at DESC, id DESC LIMIT 51`, e.conn.WorkspaceID, e.conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var line string
			_ = r.Scan(&line)
			plan = append(plan, line)
		}
		r.Close()
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "Index") {
			t.Errorf("%s: the plan reads no index:\n%s", name, text)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(plan[min(1, len(plan)-1)]))
	}
}

// syncLogFilterOf reads a request's filter as the handler does.
func syncLogFilterOf(req *http.Request) (logQuery, store.SyncLogFilter, error) {
	c, _ := ginContextFor(req)
	return syncLogFilter(c)
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func ginContextFor(req *http.Request) (*gin.Context, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = req
	return c, w
}
