package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/qwoty"
)

// OAuthState is an authorisation in flight, bound to the admin's session.
type OAuthState struct {
	WorkspaceID string
	UserID      string
	Provider    qwoty.Provider
	LoginURL    string
	Verifier    string
}

// CreateOAuthState records a new state for the session and returns it.
func (db *DB) CreateOAuthState(ctx context.Context, sessionToken string, st OAuthState, ttl time.Duration) (string, error) {
	state := randomToken()
	sealed, err := db.keys.Seal([]byte(st.Verifier), []byte("oauth_states/verifier"))
	if err != nil {
		return "", err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO oauth_states (state_hash, session_hash, workspace_id, user_id, provider, login_url, verifier_enc, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tokenHash(state), tokenHash(sessionToken), st.WorkspaceID, st.UserID, st.Provider, st.LoginURL, sealed, db.now().Add(ttl))
	if err != nil {
		return "", fmt.Errorf("store: create oauth state: %w", err)
	}
	return state, nil
}

// TakeOAuthState consumes a state: it must exist, belong to this session,
// be unexpired and unused. A replayed callback finds it used.
func (db *DB) TakeOAuthState(ctx context.Context, state, sessionToken string) (*OAuthState, error) {
	var st OAuthState
	var sealed []byte
	err := db.pool.QueryRow(ctx, `UPDATE oauth_states SET used_at = $3
		WHERE state_hash = $1 AND session_hash = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING workspace_id, user_id, provider, login_url, verifier_enc`,
		tokenHash(state), tokenHash(sessionToken), db.now()).Scan(&st.WorkspaceID, &st.UserID, &st.Provider, &st.LoginURL, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.Errorf(qwoty.CodeOAuthFailed, "Start again from Settings → Integrations; the sign-in must finish in the same browser session within 10 minutes.",
			"this sign-in link is not valid for this session (unknown, expired or already used)")
	}
	if err != nil {
		return nil, fmt.Errorf("store: take oauth state: %w", err)
	}
	v, err := db.keys.Open(sealed, []byte("oauth_states/verifier"))
	if err != nil {
		return nil, fmt.Errorf("store: open oauth verifier: %w", err)
	}
	st.Verifier = string(v)
	return &st, nil
}

// OAuthConnection is what a finished OAuth flow establishes.
type OAuthConnection struct {
	WorkspaceID  string
	UserID       string
	Provider     qwoty.Provider
	ExternalID   string
	MyDomain     string
	Sandbox      bool
	InstanceURL  string
	LoginURL     string
	CRMUserID    string
	AccessToken  string
	RefreshToken string
	// Scopes are what the CRM granted (crm.Grant.Scopes); nil when it
	// did not say.
	Scopes []string
	// TokenExpiresAt is when the access token dies (zero: unknown, only a
	// 401 says so).
	TokenExpiresAt time.Time
	// Grace keeps the previous embed secret valid this long, so cards open
	// while the new secret is written into the CRM.
	Grace time.Duration
}

// SaveOAuthConnection creates the connection, or restores one that was
// disconnected (same id: its quotes come back with it), with fresh tokens and
// a fresh embed secret. It refuses an account connected to another
// workspace, and a workspace that has another active CRM connection.
func (db *DB) SaveOAuthConnection(ctx context.Context, p OAuthConnection, actor string) (*qwoty.Connection, error) {
	secret := NewSecret()
	var id string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var existingWS string
		var cur []byte
		err := tx.QueryRow(ctx, `SELECT id, workspace_id, secret_enc FROM connections WHERE provider = $1 AND external_id = $2 FOR UPDATE`,
			p.Provider, p.ExternalID).Scan(&id, &existingWS, &cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			id = newID()
		case err != nil:
			return err
		case existingWS != p.WorkspaceID:
			return qwoty.Errorf(qwoty.CodeWorkspaceConnected, "An account belongs to the Qwoty workspace that first connected it, with its quotes: sign in to that workspace (ask its admin), or contact support to move it.",
				"this %s account (%s) belongs to another Qwoty workspace", p.Provider, p.ExternalID)
		}
		seal := func(v []byte, col string) ([]byte, error) { return db.keys.Seal(v, aad(id, col)) }
		secretEnc, err := seal(secret, "secret")
		if err != nil {
			return err
		}
		var prevEnc []byte
		var prevExp *time.Time
		if cur != nil && p.Grace > 0 {
			if old, err := db.keys.Open(cur, aad(id, "secret")); err == nil {
				if prevEnc, err = seal(old, "previous_secret"); err != nil {
					return err
				}
				t := db.now().Add(p.Grace)
				prevExp = &t
			}
		}
		accessEnc, err := seal([]byte(p.AccessToken), "access_token")
		if err != nil {
			return err
		}
		var refreshEnc []byte
		if p.RefreshToken != "" {
			if refreshEnc, err = seal([]byte(p.RefreshToken), "refresh_token"); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO connections (id, workspace_id, provider, external_id, my_domain, sandbox, instance_url, status,
				secret_enc, previous_secret_enc, previous_expires_at, access_token_enc, refresh_token_enc,
				connected_by, connected_at, crm_user_id, login_url, token_refreshed_at, token_expires_at, scopes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11, $12, $13, $14, $15, $16, $14, $17, $18)
			ON CONFLICT (id) DO UPDATE SET
				my_domain = EXCLUDED.my_domain, sandbox = EXCLUDED.sandbox, instance_url = EXCLUDED.instance_url, status = 'active',
				secret_enc = EXCLUDED.secret_enc, previous_secret_enc = EXCLUDED.previous_secret_enc, previous_expires_at = EXCLUDED.previous_expires_at,
				access_token_enc = EXCLUDED.access_token_enc, refresh_token_enc = EXCLUDED.refresh_token_enc,
				connected_by = EXCLUDED.connected_by, connected_at = EXCLUDED.connected_at, crm_user_id = EXCLUDED.crm_user_id,
				login_url = EXCLUDED.login_url, token_refreshed_at = EXCLUDED.token_refreshed_at, token_expires_at = EXCLUDED.token_expires_at, scopes = EXCLUDED.scopes,
				last_error_code = '', last_error = '', last_error_at = NULL, updated_at = now()`,
			id, p.WorkspaceID, p.Provider, p.ExternalID, p.MyDomain, p.Sandbox, p.InstanceURL,
			secretEnc, prevEnc, prevExp, accessEnc, refreshEnc, p.UserID, db.now(), p.CRMUserID, p.LoginURL, nullTime(p.TokenExpiresAt), p.Scopes)
		if err := oneActive(err); err != nil {
			return err
		}
		if err := audit(ctx, tx, p.WorkspaceID, id, actor, "connection.connected", map[string]any{
			"provider": p.Provider, "externalId": p.ExternalID, "instanceUrl": p.InstanceURL, "crmUser": p.CRMUserID}); err != nil {
			return err
		}
		// A reconnected account resumes the pushes it kept waiting, and
		// reads its CRM at once (a first, full pull; after a reconnect,
		// what changed meanwhile).
		if err := db.kickIfWaiting(ctx, tx, id); err != nil {
			return err
		}
		return db.queuePollTx(ctx, tx, id)
	})
	if err != nil {
		return nil, fmt.Errorf("store: save %s connection %s: %w", p.Provider, p.ExternalID, err)
	}
	return db.ConnectionByID(ctx, id)
}

// oneActive turns the one-active-connection index's violation into the
// error the console explains.
func oneActive(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "connections_one_active" {
		return qwoty.Errorf(qwoty.CodeWorkspaceConnected, "Disconnect the current CRM in Settings → Integrations first; a workspace has one active CRM connection.",
			"this workspace already has an active CRM connection")
	}
	return err
}

// AccessToken returns a connection's current access token.
func (db *DB) AccessToken(ctx context.Context, connectionID string) (string, error) {
	access, _, err := db.Tokens(ctx, connectionID)
	return access, err
}

// Tokens returns a connection's current access and refresh tokens.
func (db *DB) Tokens(ctx context.Context, connectionID string) (access, refresh string, err error) {
	var accessEnc, refreshEnc []byte
	err = db.pool.QueryRow(ctx, `SELECT access_token_enc, refresh_token_enc FROM connections WHERE id = $1 AND status <> 'disconnected'`,
		connectionID).Scan(&accessEnc, &refreshEnc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", qwoty.Errorf(qwoty.CodeOrgDisconnected, "Connect the CRM again.", "the connection is disconnected")
	}
	if err != nil {
		return "", "", fmt.Errorf("store: tokens of %s: %w", connectionID, err)
	}
	if accessEnc == nil {
		return "", "", qwoty.Errorf(qwoty.CodeOrgDisconnected, "Connect the CRM with OAuth from Settings → Integrations.",
			"the connection was made without OAuth and has no token")
	}
	a, err := db.keys.Open(accessEnc, aad(connectionID, "access_token"))
	if err != nil {
		return "", "", fmt.Errorf("store: open access token of %s: %w", connectionID, err)
	}
	if refreshEnc != nil {
		r, err := db.keys.Open(refreshEnc, aad(connectionID, "refresh_token"))
		if err != nil {
			return "", "", fmt.Errorf("store: open refresh token of %s: %w", connectionID, err)
		}
		refresh = string(r)
	}
	return string(a), refresh, nil
}

// Refreshed is what a refresh gives: a new access token, a new refresh
// token ("" when the CRM keeps the old one) and the access token's expiry
// (zero when the CRM does not say).
type Refreshed struct {
	Access    string
	Refresh   string
	ExpiresAt time.Time
}

// Refresher exchanges a refresh token for new tokens at the CRM.
type Refresher func(ctx context.Context, loginURL, refreshToken string) (Refreshed, error)

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// FreshAccessToken returns a connection's access token, refreshing it first
// when it expires within margin (one refresh across instances, as
// RefreshAccessToken).
func (db *DB) FreshAccessToken(ctx context.Context, connectionID string, margin time.Duration, refresh Refresher) (string, error) {
	var exp *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT token_expires_at FROM connections WHERE id = $1`, connectionID).Scan(&exp); err != nil {
		return "", fmt.Errorf("store: token expiry of %s: %w", connectionID, err)
	}
	access, err := db.AccessToken(ctx, connectionID)
	if err != nil || exp == nil || db.now().Add(margin).Before(*exp) {
		return access, err
	}
	return db.RefreshAccessToken(ctx, connectionID, access, refresh)
}

// ErrRefreshRejected wraps a refresher's error when the CRM refused the
// refresh token for good (invalid_grant): the connection moves to error.
var ErrRefreshRejected = errors.New("refresh token rejected")

// RefreshAccessToken refreshes a connection's access token after stale, the
// token a call was refused with, got a 401. The connection's row is locked
// while the refresh runs, so across all instances one caller refreshes and
// the others, finding the token already changed, use the new one.
func (db *DB) RefreshAccessToken(ctx context.Context, connectionID, stale string, refresh Refresher) (string, error) {
	var access string
	var rejected error
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var wsID, loginURL, provider string
		var accessEnc, refreshEnc []byte
		err := tx.QueryRow(ctx, `SELECT workspace_id, provider, login_url, access_token_enc, refresh_token_enc FROM connections
			WHERE id = $1 AND status <> 'disconnected' FOR UPDATE`, connectionID).Scan(&wsID, &provider, &loginURL, &accessEnc, &refreshEnc)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.Errorf(qwoty.CodeOrgDisconnected, "Connect the CRM again.", "the connection is disconnected")
		}
		if err != nil {
			return err
		}
		cur, err := db.keys.Open(accessEnc, aad(connectionID, "access_token"))
		if err != nil {
			return err
		}
		if string(cur) != stale {
			access = string(cur) // another caller refreshed while we waited
			return nil
		}
		if refreshEnc == nil {
			return qwoty.Errorf(qwoty.CodeOAuthFailed, "Reconnect the CRM.", "the connection has no refresh token")
		}
		rt, err := db.keys.Open(refreshEnc, aad(connectionID, "refresh_token"))
		if err != nil {
			return err
		}
		fresh, err := refresh(ctx, loginURL, string(rt))
		if errors.Is(err, ErrRefreshRejected) {
			rejected = err
			_, uerr := tx.Exec(ctx, `UPDATE connections SET status = 'error', last_error_code = 'refresh_rejected',
				last_error = 'The CRM refused the refresh token: reconnect it.', last_error_at = $2, updated_at = now() WHERE id = $1`,
				connectionID, db.now())
			if uerr != nil {
				return uerr
			}
			return audit(ctx, tx, wsID, connectionID, "qwoty", "connection.token_refresh_failed", map[string]any{"provider": provider, "reason": "invalid_grant"})
		}
		if err != nil {
			return err
		}
		enc, err := db.keys.Seal([]byte(fresh.Access), aad(connectionID, "access_token"))
		if err != nil {
			return err
		}
		refreshOut := refreshEnc
		if fresh.Refresh != "" {
			if refreshOut, err = db.keys.Seal([]byte(fresh.Refresh), aad(connectionID, "refresh_token")); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3, token_refreshed_at = $4,
			token_expires_at = $5 WHERE id = $1`, connectionID, enc, refreshOut, db.now(), nullTime(fresh.ExpiresAt)); err != nil {
			return err
		}
		access = fresh.Access
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: refresh token of connection %s: %w", connectionID, err)
	}
	if rejected != nil {
		return "", qwoty.Errorf(qwoty.CodeOAuthFailed, "Reconnect the org from Settings → Integrations.", "the CRM refused the refresh token")
	}
	return access, nil
}

// RecordCheck stores the outcome of a check of the connection (a test, a
// config write): a connection-health code (qwoty.CodeTestFailed, ...) and
// what to do, or an empty code, which clears the last error.
func (db *DB) RecordCheck(ctx context.Context, connectionID string, code qwoty.Code, message, actor, action string, detail map[string]any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var wsID string
		err := tx.QueryRow(ctx, `UPDATE connections SET last_checked_at = $2::timestamptz,
				last_error_code = $3::text, last_error = $4, last_error_at = CASE WHEN $3::text = '' THEN NULL ELSE $2::timestamptz END
			WHERE id = $1 RETURNING workspace_id`, connectionID, db.now(), string(code), message).Scan(&wsID)
		if err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["ok"] = code == ""
		if code != "" {
			detail["code"] = code
		}
		return audit(ctx, tx, wsID, connectionID, actor, action, detail)
	})
	if err != nil {
		return fmt.Errorf("store: record check of %s: %w", connectionID, err)
	}
	return nil
}

// Disconnect stops a connection at once: status disconnected, tokens
// forgotten. Its quotes and history stay; reconnecting the same account
// restores it.
func (db *DB) Disconnect(ctx context.Context, connectionID, actor string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var wsID string
		err := tx.QueryRow(ctx, `UPDATE connections SET status = 'disconnected', access_token_enc = NULL, refresh_token_enc = NULL,
			updated_at = now() WHERE id = $1 RETURNING workspace_id`, connectionID).Scan(&wsID)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, wsID, connectionID, actor, "connection.disconnected", nil)
	})
	if err != nil {
		return fmt.Errorf("store: disconnect %s: %w", connectionID, err)
	}
	return nil
}

// WorkspaceConnections returns a workspace's connections, active first.
func (db *DB) WorkspaceConnections(ctx context.Context, workspaceID string) ([]*qwoty.Connection, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+connectionColumns+` FROM connections c WHERE c.workspace_id = $1
		ORDER BY (c.status = 'disconnected'), c.updated_at DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: connections of %s: %w", workspaceID, err)
	}
	defer rows.Close()
	var out []*qwoty.Connection
	for rows.Next() {
		c, err := db.scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("store: connections of %s: %w", workspaceID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
