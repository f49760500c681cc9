// Package crmsynctest is what sync's tests share: a workspace connected to
// one CRM account through the adapter's OAuth flow against its emulator,
// quotes made and edited as the card makes them, and waits on their sync
// state. The engine's tests (crmsync), each CRM's sync scenarios and the
// crash test (cmd/qwoty) use it.
package crmsynctest

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

var ctx = context.Background()

// FastOptions are the engine's options scaled down for tests: the same
// rules, on a shorter clock.
func FastOptions() crmsync.Options {
	return crmsync.Options{
		Workers: 4, Lease: 10 * time.Second, MaxSnooze: 2 * time.Second, SweepEvery: 300 * time.Millisecond,
		RunFor: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		Backoff: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
	}
}

// World is a workspace connected to one CRM account, with sync running.
type World struct {
	t      testing.TB
	DB     *store.DB
	CRMs   *crm.Registry
	Admin  *qwoty.User
	Conn   *qwoty.Connection
	Engine *crmsync.Engine
	Alerts *AlertLog
	// Currency is what Quote quotes in ("EUR" when empty).
	Currency string
}

// New makes a database, its first admin and a connection to a's CRM
// account through a's OAuth flow against its emulator (redirectURL is the
// emulator's registered callback); sync starts with opt, unless opt.Workers
// is negative (the test runs engines of its own, or none).
func New(t testing.TB, a crm.Adapter, redirectURL string, opt crmsync.Options) *World {
	t.Helper()
	return NewOn(t, storetest.New(t), a, redirectURL, opt)
}

// NewOn is New on a database the test opened.
func NewOn(t testing.TB, db *store.DB, a crm.Adapter, redirectURL string, opt crmsync.Options) *World {
	t.Helper()
	w := &World{t: t, DB: db, CRMs: crm.MustRegistry(a), Alerts: &AlertLog{}}
	setup, err := db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if w.Admin, err = db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	w.Conn = w.Connect(a, redirectURL)
	if opt.Workers >= 0 {
		w.Engine = w.Start(opt)
	}
	return w
}

// Connect signs in to a's CRM as its emulator's first user and saves the
// connection, as the console's callback does.
func (w *World) Connect(a crm.Adapter, redirectURL string) *qwoty.Connection {
	t := w.t
	t.Helper()
	o := a.OAuth()
	b, err := o.Begin(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	to, err := o.AuthURL(b, "state")
	if err != nil {
		t.Fatal(err)
	}
	q := oauthtest.Authorize(t, to, redirectURL)
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := w.DB.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: w.Admin.WorkspaceID, UserID: w.Admin.ID,
		Provider: a.Info().Provider, ExternalID: g.ExternalID, MyDomain: g.MyDomain, Sandbox: g.Sandbox, InstanceURL: g.InstanceURL,
		LoginURL: g.LoginURL, CRMUserID: g.CRMUserID, AccessToken: g.AccessToken, RefreshToken: g.RefreshToken,
		TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}, w.Admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// Start starts an engine (one more instance) that stops with the test.
func (w *World) Start(opt crmsync.Options) *crmsync.Engine {
	t := w.t
	t.Helper()
	if opt.Alerts == nil {
		opt.Alerts = w.Alerts
	}
	e, err := crmsync.New(w.DB, w.CRMs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := e.Stop(stop); err != nil {
			t.Errorf("stop the engine: %v", err)
		}
	})
	return e
}

func (w *World) Scope(record string) store.Scope {
	return store.Scope{WorkspaceID: w.Admin.WorkspaceID, ConnectionID: w.Conn.ID, RecordID: record}
}

// Quote creates a quote on record with lines (sku, quantity, price).
func (w *World) Quote(record string, lines ...Line) *qwoty.Quote {
	w.t.Helper()
	q, err := w.DB.CreateQuote(ctx, w.Scope(record), store.NewQuote{Title: "Q on " + record, Currency: cmp.Or(w.Currency, "EUR"), CreatedBy: "u1"})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(lines) == 0 {
		return q
	}
	return w.Edit(q, func(q *qwoty.Quote) error {
		for _, l := range lines {
			if err := q.AddLine(l.Item()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Edit applies change to q.
func (w *World) Edit(q *qwoty.Quote, change store.Change) *qwoty.Quote {
	w.t.Helper()
	out, err := w.DB.UpdateQuote(ctx, w.Scope(q.CRMRecordID), q.ID, 0, "u1", change)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// Get reads q again (its sync state included).
func (w *World) Get(q *qwoty.Quote) *qwoty.Quote {
	w.t.Helper()
	out, err := w.DB.GetQuote(ctx, w.Scope(q.CRMRecordID), q.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// WaitFor polls cond until it holds or the timeout ends.
func (w *World) WaitFor(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitState waits until q's sync state is want.
func (w *World) WaitState(q *qwoty.Quote, want qwoty.SyncState, timeout time.Duration) *qwoty.Quote {
	w.t.Helper()
	var got *qwoty.Quote
	w.WaitFor(fmt.Sprintf("quote %s to be %q", q.Number, want), timeout, func() bool {
		got = w.Get(q)
		return got.Sync.State == want
	})
	return got
}

// Line is a quote line as a test writes it.
type Line struct {
	SKU         string
	Quantity    int64
	Price       string
	DiscountPct string
	Description string
}

// Item is the line as the domain takes it.
func (l Line) Item() qwoty.LineItem {
	d := decimal.Zero
	if l.DiscountPct != "" {
		d = decimal.RequireFromString(l.DiscountPct)
	}
	return qwoty.LineItem{SKU: l.SKU, Description: l.Description + l.SKU, Quantity: decimal.NewFromInt(l.Quantity),
		UnitPrice: decimal.RequireFromString(l.Price), DiscountPercent: d}
}

// AlertLog is an Alerter that keeps what it was asked to send; sending
// itself is package notify's, tested against a real SMTP server there.
type AlertLog struct {
	Sent atomic.Int64
	Last atomic.Pointer[crmsync.Alert]
	Fail atomic.Bool
}

// Send implements crmsync.Alerter.
func (a *AlertLog) Send(_ context.Context, al crmsync.Alert) error {
	if a.Fail.Load() {
		return fmt.Errorf("the mail server is down")
	}
	a.Sent.Add(1)
	a.Last.Store(&al)
	return nil
}
