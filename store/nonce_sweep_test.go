package store_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// nonceClock is a settable clock for store.Options.Now.
type nonceClock struct{ unixNano atomic.Int64 }

func (c *nonceClock) now() time.Time          { return time.Unix(0, c.unixNano.Load()) }
func (c *nonceClock) set(t time.Time)         { c.unixNano.Store(t.UnixNano()) }
func (c *nonceClock) advance(d time.Duration) { c.unixNano.Add(int64(d)) }

// insertNonces adds rate nonces per second of [from, from+d), each expiring
// ttl after its second, as the card path does, in one statement.
func insertNonces(t testing.TB, db *store.DB, conn string, from time.Time, d time.Duration, rate int, ttl time.Duration, seq *int64) int64 {
	t.Helper()
	n := int64(d/time.Second) * int64(rate)
	tag, err := db.Pool().Exec(ctx, `INSERT INTO seen_nonces (connection_id, nonce, expires_at)
		SELECT $1::uuid, 'n' || ($2::bigint + g), $3::timestamptz + ((g / $4) * interval '1 second')
		FROM generate_series(0, $5::bigint - 1) g`, conn, *seq, from.Add(ttl), rate, n)
	if err != nil {
		t.Fatalf("insert %d nonces: %v", n, err)
	}
	*seq += n
	return tag.RowsAffected()
}

func countNonces(t testing.TB, db *store.DB, expiredBefore time.Time) (all, expired int64) {
	t.Helper()
	err := db.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE expires_at < $1) FROM seen_nonces`,
		expiredBefore).Scan(&all, &expired)
	if err != nil {
		t.Fatal(err)
	}
	return all, expired
}

// At a card-path rate well above what one 10,000-row batch a minute could
// delete, the table never holds more than rate × (TTL + sweep period) rows,
// and no expired nonce survives a sweep. The clock is simulated: 6,000
// nonces a second for twelve sweep periods; the TTL and the period are
// shortened (20 s and 5 s instead of 11 min and 1 min) to keep the test
// small, which changes the bound's size, not whether it holds.
func TestNonceTableStaysBoundedAtTheCardPathsTopRate(t *testing.T) {
	const (
		rate    = 6000
		ttl     = 20 * time.Second
		period  = 5 * time.Second
		periods = 12
		bound   = rate * int64((ttl+period)/time.Second)
	)
	clock := &nonceClock{}
	clock.set(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	db := storetest.Open(t, storetest.NewDatabase(t), store.Options{Now: clock.now})
	a := addOrg(t, db, "A", "00D00000000000AAAA")

	var seq, inserted, deleted, peak int64
	for p := range periods {
		inserted += insertNonces(t, db, a.ID, clock.now(), period, rate, ttl, &seq)
		clock.advance(period)
		before, _ := countNonces(t, db, clock.now())
		peak = max(peak, before)
		n, err := db.DeleteExpiredNonces(ctx)
		if err != nil {
			t.Fatalf("sweep %d: %v", p, err)
		}
		deleted += n
		after, expired := countNonces(t, db, clock.now())
		if expired != 0 || after != before-n {
			t.Fatalf("sweep %d: %d rows before, %d deleted, %d after of which %d expired; want every expired row gone",
				p, before, n, after, expired)
		}
		if before > bound {
			t.Fatalf("sweep %d: the table held %d nonces before the sweep; want at most rate × (TTL + period) = %d", p, before, bound)
		}
	}
	t.Logf("%d nonces inserted, %d deleted, at most %d in the table (bound %d)", inserted, deleted, peak, bound)
	if want := inserted - rate*int64(ttl/time.Second); deleted != want {
		t.Fatalf("deleted %d nonces in all; want the %d expired ones", deleted, want)
	}
}

// Instances share one table: while one sweeps, another's sweep does nothing
// and returns at once; after it, the next sweep does the work.
func TestOnlyOneInstanceSweepsNoncesAtATime(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	var seq int64
	insertNonces(t, db, a.ID, time.Now().Add(-time.Hour), 10*time.Second, 100, time.Minute, &seq)

	other, err := db.Pool().Acquire(ctx) // the other instance's session
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock($1)`, store.NonceSweepLockKey); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredNonces(ctx); n != 0 || err != nil {
		t.Fatalf("a sweep while another instance sweeps deleted %d, %v; want 0, nil", n, err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock($1)`, store.NonceSweepLockKey); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredNonces(ctx); n != 1000 || err != nil {
		t.Fatalf("the sweep after the other one deleted %d, %v; want 1000, nil", n, err)
	}
	// The sweep gave its lock back: the other instance can take it.
	var got bool
	if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, store.NonceSweepLockKey).Scan(&got); err != nil || !got {
		t.Fatalf("the lock after a sweep: taken %v, %v; want free", got, err)
	}
}

var (
	nonceBenchDuration = flag.Duration("nonce.duration", 20*time.Second, "BenchmarkNonceSweep: how long the card path runs")
	nonceBenchClients  = flag.Int("nonce.clients", 64, "BenchmarkNonceSweep: card requests in flight")
)

// BenchmarkNonceSweep runs the card path's database side (ClaimAndList, the
// real batched statement) flat out from many clients while the sweep runs
// on its schedule, and reports the rows inserted and deleted per second and
// the most rows the table held. Time is compressed 60 times: nonces live 11 s
// and the sweep runs every second (11 min and 1 min in production), so the
// table's bound, rate × (TTL + period), is reached within the run; scale
// max-rows by 60 for production. Run it with -benchtime 1x (make bench-nonces).
func BenchmarkNonceSweep(b *testing.B) {
	const (
		ttl    = 11 * time.Second
		period = time.Second
	)
	db := storetest.New(b)
	a, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "A", Provider: qwoty.ProviderSalesforce,
		ExternalID: "00D00000000000AAAA", MyDomain: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		var inserted, deleted, maxRows atomic.Int64
		var sweeps int
		var sweepTime, maxSweep time.Duration
		var lastSweep time.Time // when the last sweep started: every nonce expired then is gone
		run, stop := context.WithTimeout(ctx, *nonceBenchDuration)
		var wg sync.WaitGroup
		began := time.Now()
		for c := range *nonceBenchClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; run.Err() == nil; i++ {
					res, err := db.ClaimAndList(run, store.CardRequest{ConnectionID: a.ID, WorkspaceID: a.WorkspaceID,
						Nonce: fmt.Sprintf("bench-%d-%02d-%09d", b.N, c, i), NonceExpires: time.Now().Add(ttl), RecordID: "006X"})
					if err == nil && res.Claimed {
						inserted.Add(1)
					}
				}
			}()
		}
		tick := time.NewTicker(period)
		for run.Err() == nil {
			select {
			case <-run.Done():
			case <-tick.C:
				var rows int64
				if err := db.Pool().QueryRow(run, `SELECT count(*) FROM seen_nonces`).Scan(&rows); err == nil && rows > maxRows.Load() {
					maxRows.Store(rows)
				}
				t0 := time.Now()
				n, err := db.DeleteExpiredNonces(run)
				if err != nil {
					if run.Err() != nil {
						break // the run ended during the sweep: it did not finish
					}
					b.Fatalf("sweep: %v", err)
				}
				d := time.Since(t0)
				lastSweep = t0
				deleted.Add(n)
				sweeps++
				sweepTime += d
				maxSweep = max(maxSweep, d)
			}
		}
		tick.Stop()
		wg.Wait()
		stop()
		elapsed := time.Since(began).Seconds()
		rate := float64(inserted.Load()) / elapsed
		// The sweeps deleted what expired between the first TTL and the last
		// sweep's start; nothing that expired by then may be left.
		delRate := float64(deleted.Load()) / lastSweep.Sub(began.Add(ttl)).Seconds()
		var left int64
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM seen_nonces WHERE expires_at < $1`, lastSweep).Scan(&left); err != nil {
			b.Fatal(err)
		}
		bound := rate * (ttl + period).Seconds()
		b.ReportMetric(rate, "inserted/s")
		b.ReportMetric(delRate, "deleted/s")
		b.ReportMetric(float64(maxRows.Load()), "max-rows")
		b.ReportMetric(float64(maxRows.Load())/bound, "max/bound")
		b.ReportMetric(float64(left), "left-behind")
		b.ReportMetric(float64(deleted.Load())/sweepTime.Seconds(), "sweep-rows/s")
		b.ReportMetric(float64(maxSweep.Milliseconds()), "max-sweep-ms")
		b.Logf("inserted %.0f rows/s, deleted %.0f rows/s once nonces expire (%d expired rows left behind); table at most %d rows = %.2f × rate × (TTL + period) = %.0f; "+
			"%d sweeps, mean %v, max %v; in production (×60) at most ~%.1f M rows",
			rate, delRate, left, maxRows.Load(), float64(maxRows.Load())/bound, bound, sweeps,
			(sweepTime / time.Duration(max(sweeps, 1))).Round(time.Millisecond), maxSweep.Round(time.Millisecond), float64(maxRows.Load())*60/1e6)
		if _, err := db.Pool().Exec(ctx, `TRUNCATE seen_nonces`); err != nil {
			b.Fatal(err)
		}
	}
}
