// Package session is the one way this server calls a CRM account with its
// connection's OAuth tokens, whichever CRM: a fresh access token (refreshed
// ahead of its expiry), the call, and after a 401 one refresh and one more
// call. A refresh runs under the connection's row lock, so across all
// instances one caller refreshes and the others use its token; a refusal of
// the grant itself (revoked, expired) puts the connection in error with
// refresh_rejected. The card's record look-ups, the console's checks and
// sync reach CRMs only through it.
package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Store is what the session layer needs of storage: the connection's
// tokens, read and refreshed under its row lock (*store.DB).
type Store interface {
	ConnectionByID(ctx context.Context, id string) (*qwoty.Connection, error)
	FreshAccessToken(ctx context.Context, connectionID string, margin time.Duration, refresh store.Refresher) (string, error)
	RefreshAccessToken(ctx context.Context, connectionID, stale string, refresh store.Refresher) (string, error)
}

// Session is one connection's authenticated access to its CRM (crm.Session).
type Session struct {
	st   Store
	a    crm.Adapter
	conn *qwoty.Connection
}

var _ crm.Session = (*Session)(nil)

// New opens conn's session through its CRM's adapter a. It calls nothing
// yet: each Call reads the token it needs.
func New(st Store, a crm.Adapter, conn *qwoty.Connection) *Session {
	return &Session{st: st, a: a, conn: conn}
}

// Connection is the connection the session acts for.
func (s *Session) Connection() *qwoty.Connection { return s.conn }

// Call runs fn with a fresh access token and, when fn's error wraps
// crm.ErrUnauthorized, refreshes the token once and runs fn again. A token
// the session cannot give is an error coded no_oauth_token (a connection
// made without OAuth), refresh_rejected (the CRM refused the grant: the
// connection is now in error) or org_disconnected.
func (s *Session) Call(ctx context.Context, fn func(ctx context.Context, accessToken string) error) error {
	o := s.a.OAuth()
	if o == nil {
		info := s.a.Info()
		return qwoty.Errorf(qwoty.CodeNotConfigured, "Set "+info.Missing+" on the Qwoty server.", "%s is not configured on this server", info.Name)
	}
	r := &refresher{oauth: o}
	tok, err := s.st.FreshAccessToken(ctx, s.conn.ID, s.a.Info().RefreshMargin, r.refresh)
	if err != nil {
		return s.tokenError(ctx, r, err)
	}
	err = fn(ctx, tok)
	if !errors.Is(err, crm.ErrUnauthorized) {
		return err
	}
	if tok, err = s.st.RefreshAccessToken(ctx, s.conn.ID, tok, r.refresh); err != nil {
		return s.tokenError(ctx, r, err)
	}
	return fn(ctx, tok)
}

// refresher is the store's Refresher for one call: it remembers a refused
// grant, which the store reports only as the connection's new state.
type refresher struct {
	oauth    crm.OAuth
	rejected error
}

func (r *refresher) refresh(ctx context.Context, loginURL, refreshToken string) (store.Refreshed, error) {
	t, err := r.oauth.Refresh(ctx, loginURL, refreshToken)
	if errors.Is(err, crm.ErrInvalidGrant) {
		r.rejected = err
		return store.Refreshed{}, fmt.Errorf("%w: %w", store.ErrRefreshRejected, err)
	}
	if err != nil {
		return store.Refreshed{}, err
	}
	return store.Refreshed{Access: t.AccessToken, Refresh: t.RefreshToken, ExpiresAt: t.ExpiresAt}, nil
}

// tokenError says why no token could be had.
func (s *Session) tokenError(ctx context.Context, r *refresher, err error) error {
	if r.rejected != nil {
		e := qwoty.E(qwoty.CodeRefreshRejected, "%s refused the connection's refresh token", s.a.Info().Name)
		e.Err = errors.Join(store.ErrRefreshRejected, r.rejected)
		return e
	}
	if qwoty.ErrorCode(err) != qwoty.CodeOrgDisconnected {
		return err
	}
	// The store says the same of a connection that is disconnected and of
	// one that holds no token: look which.
	if c, cerr := s.st.ConnectionByID(ctx, s.conn.ID); cerr == nil && c.Status != qwoty.ConnectionDisconnected {
		e := qwoty.E(qwoty.CodeNoOAuthToken, "this connection holds no OAuth token: it was made with `qwoty connection add`")
		e.Err = err
		return e
	}
	return err
}
