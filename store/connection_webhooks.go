package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// A CRM whose webhooks authenticate with a password of ours (Pipedrive's
// HTTP basic credentials) keeps it per connection, sealed like every
// secret, with the CRM's ids of the webhooks it made.

// WebhookAuth is what a webhook receiver checks a delivery against.
type WebhookAuth struct {
	ConnectionID string
	WorkspaceID  string
	Provider     qwoty.Provider
	Status       qwoty.ConnectionStatus
	// CRMUserID is the CRM user the connection acts as (its own changes
	// are echoes).
	CRMUserID string
	// Secret is the webhooks' password, nil when none was made.
	Secret []byte
	IDs    []string
}

// SetWebhooks stores a connection's webhook password (sealed) and the ids
// of the webhooks made with it; a nil secret clears both.
func (db *DB) SetWebhooks(ctx context.Context, connectionID string, secret []byte, ids []string) error {
	var sealed []byte
	if secret != nil {
		var err error
		if sealed, err = db.keys.Seal(secret, aad(connectionID, "webhook_secret")); err != nil {
			return err
		}
	}
	if ids == nil {
		ids = []string{}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE connections SET webhook_secret_enc = $2, webhook_ids = $3, updated_at = now() WHERE id = $1`,
		connectionID, sealed, ids)
	if err != nil {
		return fmt.Errorf("store: set webhooks of %s: %w", connectionID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set webhooks of %s: %w", connectionID, qwoty.ErrNotFound)
	}
	return nil
}

// WebhookAuthOf returns a connection's webhook credentials, opened;
// qwoty.ErrNotFound when there is no such connection of provider.
func (db *DB) WebhookAuthOf(ctx context.Context, provider qwoty.Provider, connectionID string) (*WebhookAuth, error) {
	if !validID(connectionID) {
		return nil, fmt.Errorf("store: webhook auth %q: %w", connectionID, qwoty.ErrNotFound)
	}
	var a WebhookAuth
	var sealed []byte
	err := db.pool.QueryRow(ctx, `SELECT id, workspace_id, provider, status, coalesce(crm_user_id, ''), webhook_secret_enc, webhook_ids
		FROM connections WHERE id = $1 AND provider = $2`, connectionID, provider).
		Scan(&a.ConnectionID, &a.WorkspaceID, &a.Provider, &a.Status, &a.CRMUserID, &sealed, &a.IDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: webhook auth %s: %w", connectionID, qwoty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook auth %s: %w", connectionID, err)
	}
	if sealed != nil {
		if a.Secret, err = db.keys.Open(sealed, aad(connectionID, "webhook_secret")); err != nil {
			return nil, fmt.Errorf("store: webhook auth %s: open: %w", connectionID, err)
		}
	}
	return &a, nil
}
