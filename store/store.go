// Package store is the PostgreSQL access layer: one DB type over a pgx pool,
// migrations applied at start, and the queries of every domain type. Secrets
// are sealed with the keyring before they reach a column. It only stores:
// what a change may do is the domain's to say (package qwoty), and no pgx
// type is part of its API, so callers neither hold a transaction nor write
// SQL (tests reach the database through storetest.Pool).
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/migrations"
	"github.com/qwoty/companion/qwoty"
)

// DB is the one storage type: every query of the application goes through it.
type DB struct {
	pool *pgxpool.Pool
	// cardPool serves the card batcher alone (see openCardPool).
	cardPool *pgxpool.Pool
	keys     *keyring.Keyring
	now      func() time.Time
	cards    *cardBatcher
	// jobs inserts background jobs (package jobs) in the transaction of
	// the change that causes them; it works none (crmsync does).
	jobs *river.Client[pgx.Tx]
	// archives says which CRMs file sent PDFs (SetArchiving).
	archives atomic.Pointer[func(qwoty.Provider) bool]
	// orderSyncers says which CRMs take orders (SetOrderSyncing).
	orderSyncers atomic.Pointer[func(qwoty.Provider) bool]
	// dealMakers says which CRMs take deals made by Qwoty (SetDealMaking).
	dealMakers atomic.Pointer[func(qwoty.Provider) bool]
	// drains remembers, per webhook subscription, the second this
	// instance last inserted its drain job in (insertDrains).
	drains sync.Map
	// dialFailedAt is when dialling PostgreSQL last failed (Unix ns), 0
	// once a connection has been made since (see Unavailable).
	dialFailedAt atomic.Int64
	// lines keeps large quotes' lines per version (quote_lines_cache.go).
	lines lineCache

	closeOnce sync.Once
}

// Options tune the pool; the zero value gives the production defaults.
type Options struct {
	// MaxConns caps the pool (default 20, or pool_max_conns in the URL).
	MaxConns int32
	// Now is the clock (default time.Now), replaced in tests.
	Now func() time.Time
}

// Open connects to the database at url, creating the database when it does
// not exist, and returns a DB. It does not migrate; call Migrate.
func Open(ctx context.Context, url string, keys *keyring.Keyring, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	// Explicit pool settings: bounded size, recycled connections, and
	// server-side timeouts so no query or forgotten transaction hangs forever.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 20
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	cfg.MinConns = 2
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = time.Minute
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	rp := cfg.ConnConfig.RuntimeParams
	if _, ok := rp["statement_timeout"]; !ok {
		rp["statement_timeout"] = "10000"
	}
	if _, ok := rp["idle_in_transaction_session_timeout"]; !ok {
		rp["idle_in_transaction_session_timeout"] = "30000"
	}
	rp["application_name"] = "qwoty"
	db := &DB{keys: keys, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	cfg.ConnConfig.DialFunc = db.dialer(cfg.ConnConfig.DialFunc)
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		pgxdecimal.Register(c.TypeMap())
		db.dialFailedAt.Store(0)
		return nil
	}

	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	cardPool, err := openCardPool(ctx, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.pool, db.cardPool = pool, cardPool
	db.cards = newCardBatcher(db)
	if db.jobs, err = river.NewClient(riverpgxv5.New(pool), &river.Config{}); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: job client: %w", err)
	}
	return db, nil
}

// openCardPool opens the card batcher's own connections, one per worker, so
// that card requests never queue behind console work (nor the reverse), and
// with generic plans. The batch statement's cost depends on nothing but its
// arrays' lengths, yet PostgreSQL's plan cache, comparing the generic plan
// against custom plans that know those lengths, keeps choosing to re-plan it
// on every call: planning cost more than running it (about 330 µs of
// backend CPU a statement on this project's machines, against 130-190 µs for
// running a batch of 1-6). force_generic_plan plans it once per connection.
func openCardPool(ctx context.Context, main *pgxpool.Config) (*pgxpool.Pool, error) {
	cfg := main.Copy()
	cfg.MaxConns, cfg.MinConns = cardBatchWorkers, cardBatchWorkers
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	cfg.ConnConfig.RuntimeParams["application_name"] = "qwoty-cards"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect the card pool: %w", err)
	}
	return pool, nil
}

// Close stops the card batcher and closes the pool.
func (db *DB) Close() {
	db.closeOnce.Do(func() {
		db.cards.close()
		db.cardPool.Close()
		db.pool.Close()
	})
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// CountConnections counts the CRM connections the database holds, and the
// active ones among them (`qwoty doctor` reports both).
func (db *DB) CountConnections(ctx context.Context) (total, active int, err error) {
	err = db.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM connections`).Scan(&total, &active)
	if err != nil {
		return 0, 0, fmt.Errorf("store: count connections: %w", err)
	}
	return total, active, nil
}

// ensureDatabase creates the target database when it is missing, through the
// server's maintenance database. Two instances racing both succeed.
func ensureDatabase(ctx context.Context, target *pgx.ConnConfig) error {
	name := target.Database
	if name == "" || name == "postgres" {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, target)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("store: connect to database %q: %w", name, err)
	}
	admin := target.Copy()
	admin.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("store: connect to maintenance database to create %q: %w", name, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	// Another instance won the race: duplicate_database, or, when both
	// committed at once, a unique violation on pg_database's name.
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: create database %q: %w", name, err)
	}
	slog.Info("created database", "database", name)
	return nil
}

// Migrate applies the embedded migrations. tern holds a PostgreSQL advisory
// lock while it works, so instances starting together migrate once.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: acquire: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "public.schema_version")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("store: migrate: load: %w", err)
	}
	m.OnStart = func(seq int32, name, direction, _ string) {
		slog.Info("applying migration", "sequence", seq, "name", name, "direction", direction)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// River's tables, by River's own migrator. It takes no lock of its own,
	// so instances starting together take turns on an advisory lock, held
	// by the connection tern used.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('qwoty.river_migrate'))`); err != nil {
		return fmt.Errorf("store: migrate the job tables: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('qwoty.river_migrate'))`)
	}()
	rm, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Logger: slog.Default().With("component", "river")})
	if err != nil {
		return fmt.Errorf("store: migrate the job tables: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: migrate the job tables: %w", err)
	}
	return nil
}

// NewJobClient returns a River client over the main pool that works jobs
// as cfg says (package crmsync builds it): the one place outside this
// package that holds the database driver, kept here so that the store's
// API stays free of pgx for everything else.
func (db *DB) NewJobClient(cfg *river.Config) (*river.Client[pgx.Tx], error) {
	return river.NewClient(riverpgxv5.New(db.pool), cfg)
}

// newID returns a random (version 4) UUID. IDs are made here rather than by
// the database where a row's id must be known before its secrets are sealed.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// validID reports whether s is a canonical UUID, so malformed ids from a
// request become "not found" instead of a database error.
func validID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// Unavailable reports whether err means that the database could not be
// reached or is restarting: a fault of the moment, neither of our code nor of
// the request, which the same request gets past once PostgreSQL is back (the
// pools reconnect by themselves). It is the one place that knows what such
// errors look like; the HTTP layer answers them 503 unavailable.
//
// They are: a connection that could not be made (refused, timed out, or
// PostgreSQL answering that it is starting or shutting down); a connection
// lost under a query (its socket's read or write failed: PostgreSQL
// restarted or the network dropped it); PostgreSQL's own connection
// exceptions (SQLSTATE class 08, 57P01-57P03, and too many connections); and
// a deadline met while new connections fail, which is waiting for the pool
// rather than for a slow query. Not among them: any other error PostgreSQL
// answered (a constraint, statement_timeout, a bad password or database
// name), a deadline met while the database is up, and network errors of
// anything but the pools' own sockets, such as an HTTP call to a CRM.
func (db *DB) Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	var linkErr *linkError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &linkErr), errors.Is(err, pgconn.ErrConnClosed):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return db != nil && db.dialFailingNow()
	}
	return false
}

// dialFailWindow is how long a failed dial makes a deadline count as the
// database's: a pool with idle connections may not dial again for minutes,
// and meanwhile a deadline met elsewhere (a CRM call, a slow query) is no
// outage of the database.
const dialFailWindow = 10 * time.Second

// dialFailingNow reports whether a dial failed within dialFailWindow with
// no connection made since.
func (db *DB) dialFailingNow() bool {
	at := db.dialFailedAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < dialFailWindow
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// this connection now, rather than refusing what was asked.
func unavailableState(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: a fast or smart shutdown, a restart
		"57P02", // crash_shutdown: another backend crashed, all are reset
		"57P03", // cannot_connect_now: starting up, shutting down, recovering
		"53300": // too_many_connections
		return true
	}
	return strings.HasPrefix(code, "08") // connection_exception and its subclasses
}

// dialer wraps the pools' dial function: a dial that fails marks the
// database as unreachable (Unavailable), and each connection's read and
// write errors are marked as the database's, so that Unavailable tells them
// from the same errors of other sockets (an io.EOF or a reset is all pgx
// returns for a connection PostgreSQL dropped).
func (db *DB) dialer(dial pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			db.dialFailedAt.Store(time.Now().UnixNano())
			return nil, err
		}
		return dbConn{c}, nil
	}
}

// dbConn is a connection to PostgreSQL whose I/O errors are linkErrors.
type dbConn struct{ net.Conn }

func (c dbConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		err = &linkError{err}
	}
	return n, err
}

func (c dbConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		err = &linkError{err}
	}
	return n, err
}

// linkError is an I/O error of a connection to PostgreSQL. It keeps the
// net.Error behaviour of what it wraps: pgx and crypto/tls tell a deadline
// they set (a cancelled query) from a lost connection by it.
type linkError struct{ err error }

func (e *linkError) Error() string { return e.err.Error() }
func (e *linkError) Unwrap() error { return e.err }

// Timeout reports whether the wrapped error is a timeout.
func (e *linkError) Timeout() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}

// Temporary reports what the wrapped error does (crypto/tls still asks).
func (e *linkError) Temporary() bool {
	var ne interface{ Temporary() bool }
	return errors.As(e.err, &ne) && ne.Temporary()
}
