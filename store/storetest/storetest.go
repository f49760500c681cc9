// Package storetest gives each test package a fresh PostgreSQL database,
// migrated, and drops it when the test ends. TEST_DATABASE_URL names the
// server (default: the local one, user postgres).
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/store"
)

// DefaultServerURL is the local server every machine of this project runs.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Keys returns a fixed test keyring.
func Keys(t testing.TB) *keyring.Keyring {
	k, err := keyring.New(bytes.Repeat([]byte{7}, keyring.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewDatabase creates an empty database and returns its URL; it is dropped
// when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := os.Getenv("TEST_DATABASE_URL")
	if server == "" {
		server = DefaultServerURL
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "qwoty_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("storetest: connect to %s (set TEST_DATABASE_URL): %v", redact(server), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
		}
	})
	u, _ := url.Parse(server)
	u.Path = "/" + name
	return u.String()
}

// New returns a migrated DB on a fresh database.
func New(t testing.TB) *store.DB {
	t.Helper()
	return Open(t, NewDatabase(t), store.Options{})
}

// Open opens and migrates the database at url, closing it at cleanup.
func Open(t testing.TB, url string, opt store.Options) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := store.Open(ctx, url, Keys(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	o := &opened{url: url}
	registry.Store(db, o)
	t.Cleanup(func() {
		registry.Delete(db)
		o.close()
	})
	return db
}

// registry maps each DB Open made (*store.DB) to its *opened.
var registry sync.Map

// opened is a DB Open made: its URL, and the pool Pool opened on it.
type opened struct {
	url  string
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

func (o *opened) close() {
	o.once.Do(func() {}) // no pool opens after this
	if o.pool != nil {
		o.pool.Close()
	}
}

// Pool is a pool on the database of db, which Open made, for a test to
// read or write what the store's API does not (a sealed column as stored,
// a row made stale): the store itself exposes no pgx type. It is opened
// once per DB and closed with it.
func Pool(t testing.TB, db *store.DB) *pgxpool.Pool {
	t.Helper()
	v, ok := registry.Load(db)
	if !ok {
		t.Fatal("storetest: Pool: the DB was not opened by storetest.Open (or is closed)")
	}
	o := v.(*opened)
	o.once.Do(func() {
		cfg, err := pgxpool.ParseConfig(o.url)
		if err != nil {
			o.err = err
			return
		}
		cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
			pgxdecimal.Register(c.TypeMap())
			return nil
		}
		o.pool, o.err = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	if o.err != nil || o.pool == nil {
		t.Fatalf("storetest: Pool: %v", o.err)
	}
	return o.pool
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the test database URL"
	}
	return u.Redacted()
}
