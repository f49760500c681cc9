package multi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qwoty/companion/store/storetest"
)

// The soak (make soak): two instances behind the balancer for
// SOAK_DURATION (10m by default) with signed callouts at SOAK_CALLOUTS a
// second (300), card edits, the sync pushes they cause and API calls, all
// at once, on loopback only. It prints the 5xx count, each surface's p99,
// each instance's RSS every 10 s, its PostgreSQL connections, and the job
// queue at the end; it fails on any 5xx or failed request, when the queue
// does not drain, or when the emulator's records differ from the quotes.
func TestSoak(t *testing.T) {
	if os.Getenv("QWOTY_SOAK") == "" {
		t.Skip("the soak runs with QWOTY_SOAK=1 (make soak)")
	}
	duration := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("SOAK_DURATION=%q: want a duration of 10s or more", v)
		}
		duration = d
	}
	rate := envInt(t, "SOAK_CALLOUTS", 300)
	const (
		records      = 60
		editors      = 8
		editPause    = 200 * time.Millisecond // each editor: ≤ 5 edits a second
		apiReaders   = 4
		apiPause     = 100 * time.Millisecond // each reader: ≤ 10 calls a second
		apiCreateOne = 20                     // every 20th API call creates a quote
	)
	f := newFleet(t, records, true, "LOG_LEVEL=error")
	ctx := context.Background()
	conn, key := f.connectConsole(t)
	c := newClient(f.lb.URL)
	pool := storetest.Pool(t, f.db)

	t.Logf("soak: %s, 2 instances, callouts %d/s over %d records, %d card editors (one edit each %s at most), %d API callers (one call each %s at most, 1 in %d a create), GOMAXPROCS of this machine's %s",
		duration, rate, records, editors, editPause, apiReaders, apiPause, apiCreateOne, cpuInfo())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var workerErrs sync.Map

	// Signed callouts at a fixed rate, each on its own schedule (no
	// coordinated omission: a slow answer does not delay the next call,
	// and a call sent late counts from when it was due).
	var inFlight atomic.Int64
	var dropped atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var cw sync.WaitGroup
		defer cw.Wait()
		start := time.Now()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			select {
			case <-stop:
				return
			case <-time.After(time.Until(due)):
			}
			if inFlight.Load() > 2000 {
				dropped.Add(1)
				continue
			}
			inFlight.Add(1)
			cw.Add(1)
			go func() {
				defer cw.Done()
				defer inFlight.Add(-1)
				_, _, _ = c.calloutAt(conn, f.crm.Records[i%records], due)
			}()
		}
	}()

	// Card editors: a quote each, its line edited again and again.
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := f.crm.Records[i]
			k, err := c.openCard(conn, rec)
			if err != nil {
				workerErrs.Store("editor "+rec, err)
				return
			}
			q, err := k.newQuote()
			if err != nil {
				workerErrs.Store("editor "+rec, err)
				return
			}
			for n := 2; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(editPause):
				}
				if err := k.setQuantity(q, n); err != nil {
					workerErrs.Store("editor "+rec, err)
					return
				}
				if n%50 == 0 { // the card is opened again, with a fresh token
					if k, err = c.openCard(conn, rec); err != nil {
						workerErrs.Store("editor "+rec, err)
						return
					}
				}
			}
		}()
	}

	// API callers: list and read quotes, and now and then create one (each
	// pushed to the CRM).
	for w := range apiReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(apiPause):
				}
				var err error
				if n%apiCreateOne == 0 {
					_, err = c.apiCreate(key, f.crm.Records[editors+(n/apiCreateOne*apiReaders+w)%(records-editors)], fmt.Sprintf("soak-%d-%d", w, n))
				} else {
					var status int
					var b []byte
					status, b, err = c.apiGet(key, "/quotes?limit=20")
					if err == nil && status != http.StatusOK {
						err = fmt.Errorf("GET /quotes: %d %s", status, tail(string(b), 200))
					}
				}
				if err != nil {
					workerErrs.Store(fmt.Sprintf("API caller %d", w), err)
					return
				}
			}
		}()
	}

	// Every 10 s: each instance's RSS and PostgreSQL connections.
	rss := make([][]int, len(f.ins))
	conns := make([][]int, len(f.ins))
	var pgMax int
	var queue []int
	began := time.Now()
	sample := func() {
		var line strings.Builder
		fmt.Fprintf(&line, "t=%4ds", int(time.Since(began).Seconds()))
		for i, in := range f.ins {
			r, n := in.rssKiB(), pgConnsOf(in.pid())
			rss[i] = append(rss[i], r)
			conns[i] = append(conns[i], n)
			fmt.Fprintf(&line, "  %s: RSS %5.1f MiB, %2d PostgreSQL connections", in.name, float64(r)/1024, n)
		}
		var total int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).Scan(&total)
		pgMax = max(pgMax, total)
		var available, running, retrying int
		_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'available'), count(*) FILTER (WHERE state = 'running'),
			count(*) FILTER (WHERE state = 'retryable') FROM river_job`).Scan(&available, &running, &retrying)
		queue = append(queue, available+running+retrying)
		fmt.Fprintf(&line, "  (database: %d connections; jobs available %d, running %d, retrying %d)", total, available, running, retrying)
		t.Log(line.String())
	}
	sample()
	end := time.After(duration)
	tick := time.NewTicker(10 * time.Second)
loop:
	for {
		select {
		case <-tick.C:
			sample()
		case <-end:
			break loop
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	loadTook := time.Since(began)
	sample()

	// The queue once the load stops: everything synced, then River's jobs.
	drainBegan := time.Now()
	f.waitSynced(t, conn, 5*time.Minute)
	drained := time.Since(drainBegan)
	// Then the job queue: how long until nothing is left that was due
	// (periodic jobs come and go), 2 minutes at most.
	queueBegan := time.Now()
	var queueDrained time.Duration
	for time.Since(queueBegan) < 2*time.Minute {
		var due int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')
			AND scheduled_at < now() - interval '10 seconds'`).Scan(&due); err != nil {
			t.Fatal(err)
		}
		if due == 0 {
			queueDrained = time.Since(drainBegan)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	backlog, jobs := riverQueue(t, pool)

	// The report.
	s5, s4, tr, first := c.failures()
	t.Logf("=== soak report (%s of load, loopback, this machine shared: figures are noisy) ===", loadTook.Round(time.Second))
	t.Logf("5xx: %d (target 0); 4xx: %d; transport errors: %d; balancer failures: %d; connections refused and retried: %d; callouts not sent (2,000 in flight): %d",
		s5, s4, tr, f.lb.failed.Load(), f.lb.refused.Load(), dropped.Load())
	for _, name := range c.surfaces() {
		n := c.count(name)
		t.Logf("%-12s %7d requests (%6.1f/s)  p50 %8s  p99 %8s  max %8s", name, n, float64(n)/loadTook.Seconds(),
			c.p(name, 0.50).Round(10*time.Microsecond), c.p(name, 0.99).Round(10*time.Microsecond), c.p(name, 1).Round(time.Millisecond))
	}
	for i, in := range f.ins {
		t.Logf("%s: RSS MiB every 10 s: %s; PostgreSQL connections: max %d, at the end %d; requests %d",
			in.name, mibList(rss[i]), maxOf(conns[i]), conns[i][len(conns[i])-1], f.lb.sent[i].Load())
	}
	t.Logf("database: at most %d connections (both instances, and this test's own pool)", pgMax)
	t.Logf("sync: every record synced and checked against the emulator %s after the load stopped", drained.Round(100*time.Millisecond))
	if queueDrained > 0 {
		t.Logf("job queue: nothing overdue %s after the load stopped", queueDrained.Round(100*time.Millisecond))
	}
	t.Logf("River queue at the end: backlog %d (target 0); jobs by state: %s; available, running or retrying every 10 s: %v", backlog, jobs, queue)
	workerErrs.Range(func(k, v any) bool { t.Errorf("%s stopped: %v", k, v); return true })
	if s5 > 0 || s4 > 0 || tr > 0 || f.lb.failed.Load() > 0 {
		t.Errorf("failed requests: %v %v\n%s", first, f.lb.errors(), f.logs())
	}
	if backlog > 0 {
		t.Errorf("the queue did not drain: %d jobs overdue (%s)", backlog, jobs)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// riverQueue is River's jobs by state ("completed=812, scheduled=3"), and
// the backlog: jobs that were due more than 10 s ago and are still
// available, running or retrying. Periodic jobs come due every few
// seconds, so a drained queue may show one available or running; it has
// no backlog.
func riverQueue(t *testing.T, pool *pgxpool.Pool) (backlog int, states string) {
	rows, err := pool.Query(context.Background(), `SELECT state::text, count(*) FROM river_job GROUP BY state ORDER BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", state, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// What is still queued, by kind: when the queue is not drained, which
	// jobs, and how long they have been due.
	rows, err = pool.Query(context.Background(), `SELECT kind, state::text, count(*), extract(epoch FROM now() - min(scheduled_at))::int
		FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled') GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n, oldest int
		if err := rows.Scan(&kind, &state, &n, &oldest); err != nil {
			t.Fatal(err)
		}
		t.Logf("queued at the end: %s %s: %d, the oldest due %d s ago", kind, state, n, oldest)
	}
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
		WHERE state IN ('available', 'running', 'retryable') AND scheduled_at < now() - interval '10 seconds'`).Scan(&backlog); err != nil {
		t.Fatal(err)
	}
	return backlog, strings.Join(parts, ", ")
}

func mibList(kib []int) string {
	parts := make([]string, len(kib))
	for i, k := range kib {
		parts[i] = strconv.FormatFloat(float64(k)/1024, 'f', 1, 64)
	}
	return strings.Join(parts, " ")
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// pgConnsOf counts pid's established TCP connections to port 5432: the
// process's sockets (/proc/<pid>/fd) found in the kernel's TCP tables.
func pgConnsOf(pid int) int {
	if pid == 0 {
		return 0
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			// sl local_address rem_address st ... inode (the 10th field)
			if len(f) < 10 || !strings.HasSuffix(f[2], ":1538") || f[3] != "01" {
				continue
			}
			if inodes[f[9]] {
				n++
			}
		}
	}
	return n
}

func cpuInfo() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strconv.Itoa(strings.Count(string(b), "processor\t:")) + " CPUs"
}
