package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// TestUnavailableWhenTheDatabaseIsCut: with the database taken away (a proxy
// drops every connection and refuses new ones), queries fail with errors
// Unavailable recognises, the dropped connection's and the refused one's;
// while connections are refused, a deadline is the pool's wait, so it counts
// too. With the database back, queries work on the same DB and a deadline is
// ours again.
func TestUnavailableWhenTheDatabaseIsCut(t *testing.T) {
	proxy := storetest.NewProxy(t, storetest.NewDatabase(t))
	db := storetest.Open(t, proxy.URL(), store.Options{})
	ctx := context.Background()
	if _, err := db.CountUsers(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := fmt.Errorf("store: count users: %w", context.DeadlineExceeded)

	proxy.Cut()
	// The pool holds connections made before the cut: the first queries
	// find them dropped, the next ones cannot connect.
	var sawDropped, sawRefused bool
	for i := 0; i < 25 && !sawRefused; i++ {
		_, err := db.CountUsers(ctx)
		var connectErr *pgconn.ConnectError
		switch {
		case err == nil:
			t.Fatal("a query succeeded with the database cut")
		case !db.Unavailable(err):
			t.Fatalf("query %d with the database cut: %v, want it classified unavailable", i, err)
		case errors.As(err, &connectErr):
			sawRefused = true
		default:
			sawDropped = true
		}
	}
	if !sawDropped || !sawRefused {
		t.Fatalf("dropped connection seen: %v, refused connection seen: %v; want both", sawDropped, sawRefused)
	}
	if !db.Unavailable(deadline) {
		t.Fatal("a deadline while connections are refused is not unavailable")
	}

	time.Sleep(1100 * time.Millisecond) // idle connections are pinged after a second
	proxy.Restore()
	if _, err := db.CountUsers(ctx); err != nil {
		t.Fatalf("query after the database came back: %v", err)
	}
	if db.Unavailable(deadline) {
		t.Fatal("a deadline with the database up is classified unavailable")
	}
}

// TestUnavailableWhenTheBackendIsTerminated: PostgreSQL ending a session
// (what a restart does to every one: 57P01 admin_shutdown) is unavailable.
func TestUnavailableWhenTheBackendIsTerminated(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := db.Pool().Exec(ctx, `SELECT pg_terminate_backend($1)`, conn.Conn().PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `SELECT 1`)
	if err == nil || !db.Unavailable(err) {
		t.Fatalf("query on a terminated backend: %v, want it classified unavailable", err)
	}
}

// TestUnavailableIsOnlyTheDatabaseUnreachable: errors that look alike but
// do not mean the database is unreachable stay ours: PostgreSQL refusing a
// statement (a constraint, statement_timeout), a deadline of a slow query
// while the database is up, a network error of an HTTP call (a CRM's).
func TestUnavailableIsOnlyTheDatabaseUnreachable(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	_, constraint := db.Pool().Exec(ctx, `CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)`)
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, statementTimeout := tx.Exec(ctx, `SET LOCAL statement_timeout = 10; SELECT pg_sleep(1)`)
	_ = tx.Rollback(ctx)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, slow := db.Pool().Exec(short, `SELECT pg_sleep(1)`)
	cancel()
	_, httpErr := http.Get("http://127.0.0.1:1/") // nothing listens on port 1
	for name, err := range map[string]error{
		"constraint":        constraint,
		"statement_timeout": statementTimeout,
		"slow query":        slow,
		"crm call":          httpErr,
		"bad password":      &pgconn.PgError{Code: "28P01"},
	} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if db.Unavailable(err) {
			t.Errorf("%s (%v) classified as the database unavailable", name, err)
		}
	}
	for _, code := range []string{"57P01", "57P02", "57P03", "08006", "08001", "53300"} {
		if !db.Unavailable(fmt.Errorf("store: x: %w", &pgconn.PgError{Code: code})) {
			t.Errorf("SQLSTATE %s not classified unavailable", code)
		}
	}
}

// A failed dial makes a deadline count as the database's only for a short
// while: a pool with idle connections may not dial again for minutes, and a
// deadline met meanwhile elsewhere (a CRM call) is no database outage.
func TestDeadlineCountsAsUnavailableOnlyRightAfterAFailedDial(t *testing.T) {
	db := storetest.New(t)
	deadline := fmt.Errorf("refresh the CRM token: %w", context.DeadlineExceeded)
	if db.Unavailable(deadline) {
		t.Fatalf("Unavailable(deadline) with no failed dial = true, want false")
	}
	db.SetDialFailedAt(time.Now())
	if !db.Unavailable(deadline) {
		t.Fatalf("Unavailable(deadline) right after a failed dial = false, want true")
	}
	db.SetDialFailedAt(time.Now().Add(-time.Minute))
	if db.Unavailable(deadline) {
		t.Fatalf("Unavailable(deadline) a minute after the last failed dial = true, want false")
	}
}
