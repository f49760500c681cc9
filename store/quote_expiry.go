package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// Expiry: a sent or viewed quote whose valid-until date has passed becomes
// expired. The day is UTC: a quote valid until 31 March expires from
// 1 April 00:00 UTC (docs/quotes.md).

// ExpiryActor is who the audit log names for an expiry.
const ExpiryActor = "qwoty:expiry"

// errNotDue tells ExpireQuotes that a quote it found was moved or revised
// by someone else meanwhile (another instance expired it): nothing to do.
var errNotDue = errors.New("store: quote not due to expire")

// ExpireQuotes expires at most limit quotes past their validity, the
// longest past first, and returns how many it expired. Each quote is
// expired in a transaction of its own, through the same path as every
// status change (updateQuote: the row lock, the domain's transition, the
// audit entry, the CRM push captured, the quote.expired event), so an
// expiry is committed whole or not at all. Two instances may run it at
// once: the row lock orders them, and the second finds the quote expired
// already and leaves it; a quote is expired once.
func (db *DB) ExpireQuotes(ctx context.Context, limit int) (int, error) {
	now := db.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rows, err := db.pool.Query(ctx, `SELECT id::text, workspace_id::text, connection_id::text, crm_record_id FROM quotes
		WHERE status IN ('sent', 'viewed') AND deleted_at IS NULL AND valid_until IS NOT NULL AND valid_until < $1::date
		ORDER BY valid_until, id LIMIT $2`, today, limit)
	if err != nil {
		return 0, fmt.Errorf("store: quotes to expire: %w", err)
	}
	type due struct {
		id string
		s  Scope
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		err := r.Scan(&d.id, &d.s.WorkspaceID, &d.s.ConnectionID, &d.s.RecordID)
		return d, err
	})
	if err != nil {
		return 0, fmt.Errorf("store: quotes to expire: %w", err)
	}
	n := 0
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		_, err := db.UpdateQuote(ctx, d.s, d.id, 0, ExpiryActor, func(q *qwoty.Quote) error {
			if (q.Status != qwoty.StatusSent && q.Status != qwoty.StatusViewed) || !q.Expired(today) {
				return errNotDue
			}
			return q.Transition(qwoty.StatusExpired)
		})
		switch {
		case errors.Is(err, errNotDue), errors.Is(err, qwoty.ErrNotFound):
			// Expired, revised or deleted meanwhile.
		case err != nil:
			return n, fmt.Errorf("store: expire quote %s: %w", d.id, err)
		default:
			n++
		}
	}
	return n, nil
}
