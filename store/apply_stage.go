package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// A deal's stage changed in the CRM (pulled, not Qwoty's own write coming
// back): its primary quote's status follows it through the connection's
// status mapping (field_mappings, qwoty_field quote.status, pulling), by
// the mapping's policy. A move the quote's lifecycle refuses becomes a
// conflict for an admin, never a forced change. A stage equal to the
// mapping's base (what Qwoty last pushed or took) is not a change made in
// the CRM and changes nothing. Without a status mapping
// that pulls, stages change nothing in Qwoty.

// StageOutcome is what a pulled stage did.
type StageOutcome string

// Stage outcomes.
const (
	StageIgnored  StageOutcome = ""         // no mapping, no primary quote, a stage that maps to nothing or to the status it has
	StageMoved    StageOutcome = "moved"    // the quote took the status
	StageKept     StageOutcome = "kept"     // Qwoty's status won; it is pushed back
	StageConflict StageOutcome = "conflict" // waits for an admin
)

// applyStage runs in the pull's transaction, after the deal's new stage
// was stored over old (modified is the CRM's time of the change).
func (db *DB) applyStage(ctx context.Context, tx pgx.Tx, ws, conn, deal, old, stage string, modified time.Time) (StageOutcome, error) {
	if old == stage {
		return StageIgnored, nil
	}
	var mappingID, policy string
	var vm []byte
	err := tx.QueryRow(ctx, `SELECT id::text, policy, value_map FROM field_mappings
		WHERE connection_id = $1 AND workspace_id = $2 AND qwoty_field = 'quote.status' AND direction IN ('pull', 'both') AND broken = ''
		ORDER BY standard DESC, created_at LIMIT 1`,
		conn, ws).Scan(&mappingID, &policy, &vm)
	if errors.Is(err, pgx.ErrNoRows) {
		return StageIgnored, nil
	}
	if err != nil {
		return "", fmt.Errorf("status mapping: %w", err)
	}
	var valueMap map[string]string
	if err := json.Unmarshal(vm, &valueMap); err != nil {
		return "", fmt.Errorf("status mapping: %w", err)
	}
	// The stage Qwoty last pushed (or took) is no edit made in the CRM,
	// whoever the CRM says saved it: a poll that reads the stage pushed
	// for "sent" after the quote was accepted must not move it back.
	base, hasBase, err := baseOf(ctx, tx, conn, "deal", deal, mappingID)
	if err != nil {
		return "", err
	}
	if hasBase && strings.EqualFold(base, stage) {
		return StageIgnored, nil
	}
	s := Scope{WorkspaceID: ws, ConnectionID: conn, RecordID: deal}
	var id, number string
	var status qwoty.Status
	var updated time.Time
	err = tx.QueryRow(ctx, `SELECT id::text, number, status, updated_at FROM quotes
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND is_primary AND deleted_at IS NULL FOR UPDATE`,
		ws, conn, deal).Scan(&id, &number, &status, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return StageIgnored, nil
	}
	if err != nil {
		return "", fmt.Errorf("primary quote: %w", err)
	}
	move := qwoty.MoveForStage(status, valueMap, stage)
	if move.To == "" {
		return StageIgnored, nil
	}
	crmWins := true
	switch qwoty.Policy(policy) {
	case qwoty.QwotyWins:
		crmWins = false
	case qwoty.LastWriteWins:
		crmWins = !updated.After(modified)
	case qwoty.Manual:
		move.Conflict = fmt.Sprintf("the CRM's stage is now %q; the quote is %s", stage, status.Label())
	}
	switch {
	case move.Conflict != "":
		_, err := openConflict(ctx, tx, ws, conn, Conflict{Object: "deal", CRMID: deal, QuoteID: id, MappingID: mappingID,
			Field: "Quote status", QwotyValue: string(status), CRMValue: stage, Reason: move.Conflict})
		return StageConflict, err
	case !crmWins:
		// Qwoty's status stands: push it back over the CRM's stage.
		return StageKept, db.captureSync(ctx, tx, s, qwoty.TriggerStatus, id)
	}
	if err := db.writeStatusFromCRM(ctx, tx, s, id, status, move.To, "crm"); err != nil {
		return "", fmt.Errorf("move quote: %w", err)
	}
	if _, err := tx.Exec(ctx, setBaseSQL, conn, "deal", deal, mappingID, stage); err != nil {
		return "", fmt.Errorf("base: %w", err)
	}
	err = audit(ctx, tx, ws, conn, "crm", "quote.status_from_crm", map[string]any{"quote": number, "from": status, "to": move.To, "stage": stage})
	return StageMoved, err
}
