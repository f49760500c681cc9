package crmsync_test

import (
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

// fastOptions are the engine's options scaled down for tests: the same
// rules, on a shorter clock.
func fastOptions() crmsync.Options {
	return crmsync.Options{
		Workers: 4, Lease: 10 * time.Second, MaxSnooze: 2 * time.Second, SweepEvery: 300 * time.Millisecond,
		RunFor: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		Backoff: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
	}
}

// world is a workspace connected to one CRM account, with sync running.
type world struct {
	t      *testing.T
	db     *store.DB
	crms   *crm.Registry
	admin  *qwoty.User
	conn   *qwoty.Connection
	engine *crmsync.Engine
	alerts *alertLog
}

// newWorld makes a database, its first admin and a connection to a's CRM
// account through a's OAuth flow against its emulator (redirectURL is the
// emulator's registered callback); sync starts with opt.
func newWorld(t *testing.T, a crm.Adapter, redirectURL string, opt crmsync.Options) *world {
	t.Helper()
	db := storetest.New(t)
	w := &world{t: t, db: db, crms: crm.MustRegistry(a), alerts: &alertLog{}}
	setup, err := db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if w.admin, err = db.CreateFirstAdmin(ctx, setup, "Acme", store.NewUser{Email: "admin@acme.example", Name: "Admin", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	w.conn = w.connect(a, redirectURL)
	if opt.Alerts == nil {
		opt.Alerts = w.alerts
	}
	w.engine = w.start(opt)
	return w
}

// connect signs in to a's CRM as its emulator's first user and saves the
// connection, as the console's callback does.
func (w *world) connect(a crm.Adapter, redirectURL string) *qwoty.Connection {
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
	conn, err := w.db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: w.admin.WorkspaceID, UserID: w.admin.ID,
		Provider: a.Info().Provider, ExternalID: g.ExternalID, MyDomain: g.MyDomain, Sandbox: g.Sandbox, InstanceURL: g.InstanceURL,
		LoginURL: g.LoginURL, CRMUserID: g.CRMUserID, AccessToken: g.AccessToken, RefreshToken: g.RefreshToken,
		TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}, w.admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// start starts an engine (one more instance) that stops with the test.
func (w *world) start(opt crmsync.Options) *crmsync.Engine {
	t := w.t
	t.Helper()
	if opt.Alerts == nil {
		opt.Alerts = w.alerts
	}
	e, err := crmsync.New(w.db, w.crms, opt)
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

func (w *world) scope(record string) store.Scope {
	return store.Scope{WorkspaceID: w.admin.WorkspaceID, ConnectionID: w.conn.ID, RecordID: record}
}

// quote creates a quote on record with lines (sku, quantity, price).
func (w *world) quote(record string, lines ...line) *qwoty.Quote {
	w.t.Helper()
	q, err := w.db.CreateQuote(ctx, w.scope(record), store.NewQuote{Title: "Q on " + record, Currency: "EUR", CreatedBy: "u1"})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(lines) == 0 {
		return q
	}
	return w.edit(q, func(q *qwoty.Quote) error {
		for _, l := range lines {
			if err := q.AddLine(l.item()); err != nil {
				return err
			}
		}
		return nil
	})
}

// edit applies change to q.
func (w *world) edit(q *qwoty.Quote, change store.Change) *qwoty.Quote {
	w.t.Helper()
	out, err := w.db.UpdateQuote(ctx, w.scope(q.CRMRecordID), q.ID, 0, "u1", change)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// get reads q again (its sync state included).
func (w *world) get(q *qwoty.Quote) *qwoty.Quote {
	w.t.Helper()
	out, err := w.db.GetQuote(ctx, w.scope(q.CRMRecordID), q.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or the timeout ends.
func (w *world) waitFor(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState waits until q's sync state is want.
func (w *world) waitState(q *qwoty.Quote, want qwoty.SyncState, timeout time.Duration) *qwoty.Quote {
	w.t.Helper()
	var got *qwoty.Quote
	w.waitFor(fmt.Sprintf("quote %s to be %q", q.Number, want), timeout, func() bool {
		got = w.get(q)
		return got.Sync.State == want
	})
	return got
}

type line struct {
	sku         string
	quantity    int64
	price       string
	discountPct string
	description string
}

func (l line) item() qwoty.LineItem {
	d := decimal.Zero
	if l.discountPct != "" {
		d = decimal.RequireFromString(l.discountPct)
	}
	return qwoty.LineItem{SKU: l.sku, Description: l.description + l.sku, Quantity: decimal.NewFromInt(l.quantity),
		UnitPrice: decimal.RequireFromString(l.price), DiscountPercent: d}
}

// alertLog is an Alerter that keeps what it was asked to send; sending
// itself is package notify's, tested against a real SMTP server there.
type alertLog struct {
	sent atomic.Int64
	last atomic.Pointer[crmsync.Alert]
	fail atomic.Bool
}

func (a *alertLog) Send(_ context.Context, al crmsync.Alert) error {
	if a.fail.Load() {
		return fmt.Errorf("the mail server is down")
	}
	a.sent.Add(1)
	a.last.Store(&al)
	return nil
}
