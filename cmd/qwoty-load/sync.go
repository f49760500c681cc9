package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/crm/oauthtest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// With -sync, the fixed-rate phase runs twice more, without and with sync
// working beside the card path in the same process and database: a second
// workspace connected to HubSpot's emulator (at HubSpot's real rate limit),
// sync's engine as `qwoty serve` runs it, and reps editing that
// workspace's quotes (-sync-edits a second, every edit pushed). The card
// path's p99 with sync must stay within 10% of without.

const syncDeals = 200

// syncWorld is the sync workspace: HubSpot's emulator and the connection
// to it, made once for every phase.
type syncWorld struct {
	db   *store.DB
	emu  *hstest.Server
	a    crm.Adapter
	conn *qwoty.Connection
	log  *slog.Logger
}

// newSyncWorld connects a workspace of its own to HubSpot's emulator.
func newSyncWorld(ctx context.Context, db *store.DB, log *slog.Logger) (*syncWorld, error) {
	const callback = "http://127.0.0.1:9/oauth/hubspot/callback"
	portal := hstest.Portal{ID: hstest.DefaultPortalID, Domain: hstest.DefaultPortalDomain,
		Users: []hstest.User{{ID: hstest.DefaultAdminID, Email: hstest.DefaultAdminEmail, Installer: true}}}
	for i := range syncDeals {
		portal.Deals = append(portal.Deals, hstest.Deal{ID: strconv.Itoa(20000 + i), Name: "Deal " + strconv.Itoa(i), Currency: "EUR"})
	}
	emu, err := hstest.Start(hstest.Options{App: hstest.App{RedirectURLs: []string{callback}}, Portals: []hstest.Portal{portal}})
	if err != nil {
		return nil, err
	}
	a := hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RedirectURL: callback, AuthURL: emu.URL, APIURL: emu.URL})
	o := a.OAuth()
	b, _ := o.Begin(url.Values{})
	authURL, err := o.AuthURL(b, "load")
	if err != nil {
		return nil, err
	}
	q, err := oauthtest.Follow(authURL, callback)
	if err != nil {
		return nil, err
	}
	g, err := o.Exchange(ctx, b, q.Get("code"))
	if err != nil {
		return nil, err
	}
	placeholder, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Load sync", Provider: qwoty.ProviderHubSpot, ExternalID: g.ExternalID})
	if err != nil {
		return nil, err
	}
	admin, err := db.CreateUser(ctx, placeholder.WorkspaceID, store.NewUser{Email: "sync-admin@load.example", Name: "Load", Role: qwoty.RoleAdmin,
		PasswordHash: "x"}, "qwoty-load")
	if err != nil {
		return nil, err
	}
	conn, err := db.SaveOAuthConnection(ctx, store.OAuthConnection{WorkspaceID: placeholder.WorkspaceID, UserID: admin.ID, Provider: qwoty.ProviderHubSpot,
		ExternalID: g.ExternalID, AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, TokenExpiresAt: g.ExpiresAt, Scopes: g.Scopes}, admin.Email)
	if err != nil {
		return nil, err
	}
	return &syncWorld{db: db, emu: emu, a: a, conn: conn, log: log}, nil
}

// start starts sync's engine and the reps' edits; stop ends them and says
// what they did.
func (sw *syncWorld) start(ctx context.Context, editsPerSec int) (stop func() string, err error) {
	db, conn, emu := sw.db, sw.conn, sw.emu
	calls, limited := emu.Requests(), emu.RateLimited()
	engine, err := crmsync.New(db, crm.MustRegistry(sw.a), crmsync.Options{Logger: sw.log})
	if err != nil {
		return nil, err
	}
	ectx, cancel := context.WithCancel(ctx)
	if err := engine.Start(ectx); err != nil {
		cancel()
		return nil, err
	}
	done := make(chan int)
	go func() { done <- editQuotes(ectx, db, conn, editsPerSec) }()
	return func() string {
		cancel()
		edits := <-done
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = engine.Stop(sctx)
		h, _ := db.SyncHealthOf(context.Background(), conn.WorkspaceID, conn.ID)
		return fmt.Sprintf("%d edits, %d HubSpot calls, %d 429s; outbox: %d synced, %d pending, %d failed",
			edits, emu.Requests()-calls, emu.RateLimited()-limited, h.Synced, h.Pending, h.Failed)
	}, nil
}

// editQuotes edits quotes of the sync workspace at rate a second until ctx
// ends, as reps do: new quotes, lines added, status changes.
func editQuotes(ctx context.Context, db *store.DB, conn *qwoty.Connection, rate int) int {
	rng := rand.New(rand.NewPCG(7, 7))
	t := time.NewTicker(time.Second / time.Duration(max(1, rate)))
	defer t.Stop()
	quotes := map[string]*qwoty.Quote{}
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
		deal := strconv.Itoa(20000 + rng.IntN(syncDeals))
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: deal}
		q, ok := quotes[deal]
		var err error
		switch {
		case !ok:
			q, err = db.CreateQuote(ctx, s, store.NewQuote{Title: "Load " + deal, Currency: "EUR", CreatedBy: "load"})
		case q.Status == qwoty.StatusDraft && len(q.Lines) < 5:
			q, err = db.UpdateQuote(ctx, s, q.ID, 0, "load", func(q *qwoty.Quote) error {
				return q.AddLine(qwoty.LineItem{SKU: "SKU-" + strconv.Itoa(len(q.Lines)), Description: "Item", Quantity: decimal.NewFromInt(2),
					UnitPrice: decimal.RequireFromString("49.90")})
			})
		default:
			next := q.Status.Next()
			if len(next) == 0 {
				delete(quotes, deal)
				continue
			}
			to := next[rng.IntN(len(next))]
			q, err = db.UpdateQuote(ctx, s, q.ID, 0, "load", func(q *qwoty.Quote) error { return q.Transition(to) })
		}
		if err != nil {
			if ctx.Err() != nil {
				return n
			}
			continue
		}
		quotes[deal] = q
		n++
	}
}
