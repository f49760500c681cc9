package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// APIKey is a key of the public REST API: it acts for one workspace and
// one of its CRM accounts (connection), with its scopes.
type APIKey struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	Name         string
	// Prefix is the token's first characters, shown to recognise it.
	Prefix     string
	Scopes     []qwoty.Scope
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	RevokedBy  string
	LastUsedAt *time.Time
}

// Has reports whether the key holds scope.
func (k *APIKey) Has(scope qwoty.Scope) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Scope is what the key may touch: its workspace and CRM account (no one
// record: an API call names its records).
func (k *APIKey) Scope() Scope {
	return Scope{WorkspaceID: k.WorkspaceID, ConnectionID: k.ConnectionID}
}

const apiKeyColumns = `id::text, workspace_id::text, connection_id::text, name, prefix, scopes, created_by, created_at,
	expires_at, revoked_at, revoked_by, last_used_at`

func scanAPIKey(row pgx.Row) (*APIKey, error) {
	var k APIKey
	var scopes []string
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.ConnectionID, &k.Name, &k.Prefix, &scopes, &k.CreatedBy, &k.CreatedAt,
		&k.ExpiresAt, &k.RevokedAt, &k.RevokedBy, &k.LastUsedAt)
	if err != nil {
		return nil, err
	}
	for _, s := range scopes {
		k.Scopes = append(k.Scopes, qwoty.Scope(s))
	}
	return &k, nil
}

// CreateAPIKey makes a key for a workspace's connection and returns its
// token, the only time it exists in the clear: only its SHA-256 is kept.
// expires nil is a key without expiry; an expiry must be in the future.
func (db *DB) CreateAPIKey(ctx context.Context, workspaceID, connectionID, name string, scopes []string, expires *time.Time, by string) (string, *APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "name", Message: "a key needs a name of 1 to 100 characters",
			Hint: "Name it after the system that will use it (\"ERP sync\")."}
	}
	sc, err := qwoty.ParseScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	if expires != nil && !expires.After(db.now()) {
		return "", nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "expires_at", Message: "the expiry is not in the future",
			Hint: "Pick a later date, or none for a key that does not expire."}
	}
	names := make([]string, len(sc))
	for i, s := range sc {
		names[i] = string(s)
	}
	token := qwoty.NewAPIKey()
	var k *APIKey
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRow(ctx, `INSERT INTO api_keys (workspace_id, connection_id, name, token_hash, prefix, scopes, created_by, expires_at)
			SELECT c.workspace_id, c.id, $3, $4, $5, $6, $7, $8 FROM connections c WHERE c.id = $2 AND c.workspace_id = $1
			RETURNING `+apiKeyColumns, workspaceID, connectionID, name, tokenHash(token), token[:qwoty.APIKeyShown], names, by, expires))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("connection %s: %w", connectionID, qwoty.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, workspaceID, connectionID, by, "api_key.created", map[string]any{"key": k.ID, "name": name, "scopes": names})
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: create api key: %w", err)
	}
	return token, k, nil
}

// APIKeyByToken returns the key a token names, refused (an *qwoty.Error:
// api_key_invalid, api_key_revoked, api_key_expired) when it is malformed,
// unknown, revoked or expired. It reads the database on every call, so a
// revocation holds at once on every instance. A malformed token is refused
// before any read: an unauthenticated caller costs no query.
func (db *DB) APIKeyByToken(ctx context.Context, token string) (*APIKey, error) {
	if !qwoty.WellFormedAPIKey(token) {
		return nil, errAPIKey(qwoty.CodeAPIKeyInvalid, "the key is not a Qwoty API key (qwk_ and 46 characters)")
	}
	// The lookup is by the token's SHA-256: an attacker timing it learns
	// about hashes of guesses, not about the stored token.
	k, err := scanAPIKey(db.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE token_hash = $1`, tokenHash(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAPIKey(qwoty.CodeAPIKeyInvalid, "no such API key")
	}
	if err != nil {
		return nil, fmt.Errorf("store: api key: %w", err)
	}
	switch {
	case k.RevokedAt != nil:
		return nil, errAPIKey(qwoty.CodeAPIKeyRevoked, "the API key %s… was revoked on %s", k.Prefix, k.RevokedAt.UTC().Format(time.DateOnly))
	case k.ExpiresAt != nil && !db.now().Before(*k.ExpiresAt):
		return nil, errAPIKey(qwoty.CodeAPIKeyExpired, "the API key %s… expired on %s", k.Prefix, k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return k, nil
}

func errAPIKey(code qwoty.Code, format string, args ...any) error {
	return qwoty.E(code, format, args...)
}

// APIKeys lists a connection's keys, newest first (revoked and expired
// ones too: the console shows them struck through).
func (db *DB) APIKeys(ctx context.Context, workspaceID, connectionID string) ([]*APIKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = $1 AND connection_id = $2
		ORDER BY created_at DESC, id`, workspaceID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	defer rows.Close()
	var out []*APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of the workspace's connection; revoking one
// already revoked changes nothing. qwoty.ErrNotFound when there is none.
func (db *DB) RevokeAPIKey(ctx context.Context, workspaceID, connectionID, id, by string) error {
	if !validID(id) {
		return fmt.Errorf("store: revoke api key %q: %w", id, qwoty.ErrNotFound)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),
			revoked_by = CASE WHEN revoked_at IS NULL THEN $4 ELSE revoked_by END
			WHERE id = $3::uuid AND workspace_id = $1 AND connection_id = $2`, workspaceID, connectionID, id, by)
		if err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("store: revoke api key %s: %w", id, qwoty.ErrNotFound)
		}
		return audit(ctx, tx, workspaceID, connectionID, by, "api_key.revoked", map[string]any{"key": id})
	})
}
