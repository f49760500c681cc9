package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/qwoty"
)

// NewSecret returns a fresh embed secret: 32 random bytes, base64url without
// padding. The CRM keys its HMAC with the UTF-8 bytes of this text, so the
// text itself is the key on both sides.
func NewSecret() []byte {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return []byte(base64.RawURLEncoding.EncodeToString(b[:]))
}

// DefaultWorkspace is where a connection goes when no workspace is named.
const DefaultWorkspace = "Default"

// AddConnectionParams describe a connection made without OAuth (the CLI, the
// dev playground).
type AddConnectionParams struct {
	// Workspace is the workspace name, created when missing. Empty keeps an
	// existing connection where it is, and puts a new one in "Default".
	Workspace  string
	Provider   qwoty.Provider
	ExternalID string
	MyDomain   string
	Sandbox    bool
	// InstanceURL is the CRM's API base (Pipedrive's api_domain).
	InstanceURL string
	// FrameOrigins are extra origins allowed to frame the card; nil keeps
	// those of an existing connection.
	FrameOrigins []string
	Actor        string
}

// AddConnection creates the connection, or re-enables an existing one for the
// same CRM account with a fresh secret (the old one was shown once and is
// unknown). It returns the connection with its plaintext secret.
func (db *DB) AddConnection(ctx context.Context, p AddConnectionParams) (*qwoty.Connection, error) {
	var out *qwoty.Connection
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		name := p.Workspace
		if name == "" {
			err := tx.QueryRow(ctx, `SELECT w.name FROM connections c JOIN workspaces w ON w.id = c.workspace_id
				WHERE c.provider = $1 AND c.external_id = $2`, p.Provider, p.ExternalID).Scan(&name)
			if errors.Is(err, pgx.ErrNoRows) {
				name = DefaultWorkspace
			} else if err != nil {
				return fmt.Errorf("find workspace: %w", err)
			}
		}
		var wsID string
		err := tx.QueryRow(ctx, `
			INSERT INTO workspaces (name) VALUES ($1)
			ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
			RETURNING id`, name).Scan(&wsID)
		if err != nil {
			return fmt.Errorf("upsert workspace %q: %w", name, err)
		}

		var id, existingWS string
		err = tx.QueryRow(ctx, `SELECT id, workspace_id FROM connections WHERE provider = $1 AND external_id = $2 FOR UPDATE`,
			p.Provider, p.ExternalID).Scan(&id, &existingWS)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			id = newID()
		case err != nil:
			return fmt.Errorf("find connection: %w", err)
		case existingWS != wsID:
			return qwoty.Errorf(qwoty.CodeValidation,
				"An account stays in the workspace that first connected it, with its quotes: omit --workspace to re-enable it there.",
				"%s account %s is already connected to another workspace", p.Provider, p.ExternalID)
		}

		origins := p.FrameOrigins // nil: NULL, which keeps the stored ones
		for _, o := range origins {
			if !ValidOrigin(o) {
				return qwoty.Errorf(qwoty.CodeValidation, "Give a scheme, host and optional port, like https://sales.example.com.",
					"frame origin %q is not an origin", o)
			}
		}
		secret := NewSecret()
		sealed, err := db.keys.Seal(secret, aad(id, "secret"))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO connections (id, workspace_id, provider, external_id, my_domain, sandbox, instance_url, frame_origins, status, secret_enc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($9::text[], '{}'), 'active', $8)
			ON CONFLICT (id) DO UPDATE SET
				my_domain = EXCLUDED.my_domain, sandbox = EXCLUDED.sandbox,
				-- re-keying from the CLI names no instance URL: keep the one OAuth recorded
				instance_url = coalesce(nullif(EXCLUDED.instance_url, ''), connections.instance_url),
				frame_origins = coalesce($9::text[], connections.frame_origins),
				status = 'active', secret_enc = EXCLUDED.secret_enc,
				previous_secret_enc = NULL, previous_expires_at = NULL, updated_at = now()`,
			id, wsID, p.Provider, p.ExternalID, p.MyDomain, p.Sandbox, p.InstanceURL, sealed, origins)
		if err := oneActive(err); err != nil {
			return fmt.Errorf("save connection: %w", err)
		}
		if err := audit(ctx, tx, wsID, id, p.Actor, "connection.added", map[string]any{
			"provider": p.Provider, "externalId": p.ExternalID, "myDomain": p.MyDomain, "sandbox": p.Sandbox,
		}); err != nil {
			return err
		}
		instanceURL := p.InstanceURL
		if err := tx.QueryRow(ctx, `SELECT frame_origins, instance_url FROM connections c WHERE c.id = $1`, id).Scan(&origins, &instanceURL); err != nil {
			return fmt.Errorf("read frame origins: %w", err)
		}
		out = &qwoty.Connection{
			ID: id, WorkspaceID: wsID, Provider: p.Provider, ExternalID: p.ExternalID,
			MyDomain: p.MyDomain, Sandbox: p.Sandbox, InstanceURL: instanceURL, FrameOrigins: origins,
			Status: qwoty.ConnectionActive, Secret: secret,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add %s connection %s: %w", p.Provider, p.ExternalID, err)
	}
	return out, nil
}

const connectionColumns = `c.id, c.workspace_id, c.provider, c.external_id, c.my_domain, c.sandbox, c.instance_url, c.frame_origins, c.status,
	c.secret_enc, c.previous_secret_enc, c.previous_expires_at, c.created_at, c.updated_at,
	coalesce((SELECT email FROM users WHERE id = c.connected_by), ''), coalesce(c.connected_at, 'epoch'), c.login_url,
	c.last_error_code, c.last_error, coalesce(c.last_error_at, 'epoch'), coalesce(c.last_checked_at, 'epoch'), c.scopes,
	c.crm_user_id, c.crm_plan, c.crm_seats`

// ConnectionByExternalID finds the connection of a CRM account, whatever its
// status, with its secrets opened. It returns qwoty.ErrNotFound when none.
func (db *DB) ConnectionByExternalID(ctx context.Context, provider qwoty.Provider, externalID string) (*qwoty.Connection, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections c WHERE c.provider = $1 AND c.external_id = $2`, provider, externalID)
	c, err := db.scanConnection(row)
	if err != nil {
		return nil, fmt.Errorf("store: connection %s %s: %w", provider, externalID, err)
	}
	return c, nil
}

// ConnectionByID finds a connection by id, with its secrets opened.
func (db *DB) ConnectionByID(ctx context.Context, id string) (*qwoty.Connection, error) {
	if !validID(id) {
		return nil, fmt.Errorf("store: connection %q: %w", id, qwoty.ErrNotFound)
	}
	row := db.pool.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections c WHERE c.id = $1`, id)
	c, err := db.scanConnection(row)
	if err != nil {
		return nil, fmt.Errorf("store: connection %s: %w", id, err)
	}
	return c, nil
}

func (db *DB) scanConnection(row pgx.Row) (*qwoty.Connection, error) {
	var c qwoty.Connection
	var secret, prev []byte
	var prevExp *time.Time
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Provider, &c.ExternalID, &c.MyDomain, &c.Sandbox, &c.InstanceURL, &c.FrameOrigins, &c.Status,
		&secret, &prev, &prevExp, &c.CreatedAt, &c.UpdatedAt,
		&c.ConnectedBy, &c.ConnectedAt, &c.LoginURL, &c.LastErrorCode, &c.LastError, &c.LastErrorAt, &c.LastCheckedAt, &c.Scopes,
		&c.CRMUserID, &c.Plan, &c.Seats)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, qwoty.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if secret != nil {
		if c.Secret, err = db.keys.Open(secret, aad(c.ID, "secret")); err != nil {
			return nil, fmt.Errorf("open secret: %w", err)
		}
	}
	if prev != nil && prevExp != nil {
		if c.PreviousSecret, err = db.keys.Open(prev, aad(c.ID, "previous_secret")); err != nil {
			return nil, fmt.Errorf("open previous secret: %w", err)
		}
		c.PreviousExpiresAt = *prevExp
	}
	return &c, nil
}

// RotateSecret gives the connection a new secret and keeps the current one
// valid for grace, so requests signed before the org picks up the new secret
// still verify. It returns the new plaintext secret.
func (db *DB) RotateSecret(ctx context.Context, connectionID string, grace time.Duration, actor string) ([]byte, error) {
	secret := NewSecret()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var wsID string
		var cur []byte
		err := tx.QueryRow(ctx, `SELECT workspace_id, secret_enc FROM connections WHERE id = $1 FOR UPDATE`, connectionID).Scan(&wsID, &cur)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return err
		}
		plain, err := db.keys.Open(cur, aad(connectionID, "secret"))
		if err != nil {
			return fmt.Errorf("open current secret: %w", err)
		}
		prevSealed, err := db.keys.Seal(plain, aad(connectionID, "previous_secret"))
		if err != nil {
			return err
		}
		newSealed, err := db.keys.Seal(secret, aad(connectionID, "secret"))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE connections SET secret_enc = $2, previous_secret_enc = $3, previous_expires_at = $4, updated_at = now() WHERE id = $1`,
			connectionID, newSealed, prevSealed, db.now().Add(grace))
		if err != nil {
			return err
		}
		return audit(ctx, tx, wsID, connectionID, actor, "connection.secret_rotated", map[string]any{"graceSeconds": int(grace.Seconds())})
	})
	if err != nil {
		return nil, fmt.Errorf("store: rotate secret of connection %s: %w", connectionID, err)
	}
	return secret, nil
}

// aad binds a sealed value to its row and column.
func aad(id, column string) []byte { return []byte("connections/" + id + "/" + column) }

// ValidOrigin reports whether s is a serialised origin (scheme://host[:port],
// nothing else) that may go into a CSP frame-ancestors list: no wildcard, no
// path, no characters that could end the directive.
func ValidOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return false
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "*; ,'\"\\") {
		return false
	}
	return u.Scheme+"://"+u.Host == s
}

// CheckSecrets opens every connection's sealed secrets and counts those that
// do not open with this server's key: the sign of a changed QWOTY_SECRET_KEY
// (`qwoty doctor` reports it).
func (db *DB) CheckSecrets(ctx context.Context) (total, failed int, err error) {
	rows, err := db.pool.Query(ctx, `SELECT `+connectionColumns+` FROM connections c`)
	if err != nil {
		return 0, 0, fmt.Errorf("store: check secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		total++
		if _, err := db.scanConnection(rows); err != nil {
			if !errors.Is(err, keyring.ErrOpen) {
				return total, failed, fmt.Errorf("store: check secrets: %w", err)
			}
			failed++
		}
	}
	return total, failed, rows.Err()
}

// AdoptWorkspace renames the workspace holding the connection of provider
// and externalID to name, while nobody belongs to it and the name is free;
// otherwise it does nothing. Development uses it so that the first admin
// lands in the playground connection's workspace.
func (db *DB) AdoptWorkspace(ctx context.Context, provider qwoty.Provider, externalID, name string) error {
	_, err := db.pool.Exec(ctx, `UPDATE workspaces w SET name = $1
		WHERE w.id = (SELECT workspace_id FROM connections WHERE provider = $2 AND external_id = $3)
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.workspace_id = w.id)
		AND NOT EXISTS (SELECT 1 FROM workspaces o WHERE o.name = $1)`, name, provider, externalID)
	if err != nil {
		return fmt.Errorf("store: adopt the workspace of %s connection %s as %q: %w", provider, externalID, name, err)
	}
	return nil
}

// SetAccountPlan records what the admin says of the CRM account's plan and
// seats (connections.crm_plan, crm_seats): the allowance a CRM whose API
// does not tell it is budgeted by. The caller checked them against the
// CRM's plans.
func (db *DB) SetAccountPlan(ctx context.Context, workspaceID, connectionID, plan string, seats int, by string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE connections SET crm_plan = $3, crm_seats = $4, updated_at = now()
			WHERE workspace_id = $1 AND id = $2`, workspaceID, connectionID, plan, seats)
		if err != nil {
			return fmt.Errorf("store: account plan: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return qwoty.ErrNotFound
		}
		if err := reshapeBudget(ctx, tx, connectionID); err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, connectionID, by, "connection.plan_set", map[string]any{"plan": plan, "seats": seats})
	})
}
