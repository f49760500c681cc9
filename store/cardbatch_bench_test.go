package store_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// BenchmarkClaimAndList measures the card path's database side,
// ClaimAndList (the real batched statement), for the two kinds of card
// request in one run: one that claims a nonce (Salesforce's callout: a row
// in seen_nonces each) and one that claims none (HubSpot's and Pipedrive's
// card calls, which are not single-use: an empty nonce writes nothing).
//
//   - serial: one caller, so every statement carries one request, as at a
//     low rate (qwoty-load's fixed 1,000 requests a second);
//   - parallel: 64 callers, so statements carry several requests, as under
//     qwoty-load's closed loop.
//
// Each request lists three quotes of one of 50 records and names no
// customer (HubSpot's card names none). Besides the time per request it
// reports the requests per statement and, from /proc, the CPU PostgreSQL
// used per request: pg-µs/op for all its processes (other databases' work
// included: read it on a quiet server), pg-own-µs/op for the backends
// connected to the benchmark's database alone. seen_nonces starts empty in each run, where
// production's holds about 12 minutes of callouts, so a larger index would
// make the nonce's insert somewhat dearer than here. On a shared machine,
// compare the sub-benchmarks of one run, and alternate runs (make
// bench-hubspot; docs/performance.md).
func BenchmarkClaimAndList(b *testing.B) {
	db := storetest.New(b)
	conn, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "A", Provider: qwoty.ProviderSalesforce,
		ExternalID: "00D00000000000AAAA", MyDomain: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	dbName := db.Pool().Config().ConnConfig.Database
	const records = 50
	for r := range records {
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: fmt.Sprintf("006%012d", r)}
		for q := range 3 {
			if _, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD", Title: fmt.Sprintf("Quote %d", q)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var seq atomic.Int64 // nonces never repeat across runs
	request := func(withNonce bool) store.CardRequest {
		i := seq.Add(1)
		r := store.CardRequest{ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID,
			RecordID: fmt.Sprintf("006%012d", i%records), Limit: 50}
		if withNonce {
			r.Nonce, r.NonceExpires = "bench-"+strconv.FormatInt(i, 10), time.Now().Add(11*time.Minute)
		}
		return r
	}
	claim := func(b *testing.B, withNonce bool) {
		res, err := db.ClaimAndList(ctx, request(withNonce))
		if err != nil {
			b.Fatal(err)
		}
		if !res.Claimed || len(res.Quotes) != 3 {
			b.Fatalf("claimed %v with %d quotes; want claimed with 3", res.Claimed, len(res.Quotes))
		}
	}
	measure := func(b *testing.B, withNonce bool, run func(b *testing.B)) {
		if _, err := db.Pool().Exec(ctx, `TRUNCATE seen_nonces`); err != nil {
			b.Fatal(err)
		}
		batches0, requests0 := db.CardBatchStats()
		pg0, own0, pgOK := postgresCPU(dbName)
		b.ResetTimer()
		run(b)
		b.StopTimer()
		pg1, own1, pgOK1 := postgresCPU(dbName)
		batches1, requests1 := db.CardBatchStats()
		b.ReportMetric(float64(requests1-requests0)/float64(max(1, batches1-batches0)), "req/batch")
		if pgOK && pgOK1 {
			b.ReportMetric(float64((pg1-pg0).Microseconds())/float64(b.N), "pg-µs/op")
			b.ReportMetric(float64((own1-own0).Microseconds())/float64(b.N), "pg-own-µs/op")
		}
		var rows int64
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM seen_nonces`).Scan(&rows); err != nil {
			b.Fatal(err)
		}
		if withNonce != (rows > 0) {
			b.Fatalf("seen_nonces holds %d rows after the run; want rows only when requests carry a nonce", rows)
		}
	}
	for _, mode := range []string{"serial", "parallel"} {
		for _, kind := range []struct {
			name      string
			withNonce bool
		}{{"nonce", true}, {"none", false}} {
			b.Run(mode+"/"+kind.name, func(b *testing.B) {
				measure(b, kind.withNonce, func(b *testing.B) {
					if mode == "serial" {
						for b.Loop() {
							claim(b, kind.withNonce)
						}
						return
					}
					b.SetParallelism(32) // 64 callers on 2 cores, as qwoty-load's closed loop
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							claim(b, kind.withNonce)
						}
					})
				})
			})
		}
	}
}

// postgresCPU is the CPU time used so far by the machine's PostgreSQL
// processes (backends, WAL writer, autovacuum ...), and apart by the
// backends connected to database db (PostgreSQL titles a backend "postgres:
// cluster: user database client state"), read from /proc.
func postgresCPU(db string) (all, own time.Duration, ok bool) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return 0, 0, false
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	found := false
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		if open < 0 || end < open || string(raw[open+1:end]) != "postgres" {
			continue
		}
		f := bytes.Fields(raw[end+1:])
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(string(f[11]), 10, 64)
		stime, _ := strconv.ParseInt(string(f[12]), 10, 64)
		all += time.Duration(utime+stime) * tick
		found = true
		if title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline")); bytes.Contains(title, []byte(" "+db+" ")) {
			own += time.Duration(utime+stime) * tick
		}
	}
	return all, own, found
}
