package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/qwoty"
)

// Field mappings and conflicts of a connection (migration 011). The rules
// (what a valid mapping is, who wins) are the domain's (qwoty/mapping.go);
// this keeps them, scoped by workspace and connection.

const mappingColumns = `id::text, qwoty_field, crm_object, crm_field, direction, policy, value_map, standard, broken`

func scanMapping(row pgx.Row) (qwoty.Mapping, error) {
	var m qwoty.Mapping
	var dir, pol string
	var vm []byte
	if err := row.Scan(&m.ID, &m.QwotyField, &m.Object, &m.CRMField, &dir, &pol, &vm, &m.Standard, &m.Broken); err != nil {
		return m, err
	}
	m.Direction, m.Policy = qwoty.Direction(dir), qwoty.Policy(pol)
	if err := json.Unmarshal(vm, &m.ValueMap); err != nil {
		return m, fmt.Errorf("value map: %w", err)
	}
	return m, nil
}

func qwotyFieldKeys() []string {
	keys := make([]string, len(qwoty.QwotyFields))
	for i, f := range qwoty.QwotyFields {
		keys[i] = f.Key
	}
	return keys
}

// Mappings returns a connection's field mappings, standard ones first, in
// the order of Qwoty's fields.
func (db *DB) Mappings(ctx context.Context, workspaceID, connectionID string) ([]qwoty.Mapping, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+mappingColumns+` FROM field_mappings
		WHERE workspace_id = $1 AND connection_id = $2
		ORDER BY standard DESC, array_position($3::text[], qwoty_field), created_at, id`, workspaceID, connectionID, qwotyFieldKeys())
	if err != nil {
		return nil, fmt.Errorf("store: mappings: %w", err)
	}
	defer rows.Close()
	var out []qwoty.Mapping
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return nil, fmt.Errorf("store: mappings: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mappings: %w", err)
	}
	return out, nil
}

// SaveMapping adds m (ID "") or changes it, already checked against the
// CRM's fields (qwoty.CheckMapping): saving clears Broken. A second
// mapping of the same CRM field is refused (validation, on crm_field).
func (db *DB) SaveMapping(ctx context.Context, workspaceID, connectionID string, m qwoty.Mapping) (qwoty.Mapping, error) {
	vm, err := json.Marshal(m.ValueMap)
	if err != nil {
		return m, fmt.Errorf("store: save mapping: %w", err)
	}
	if m.ValueMap == nil {
		vm = []byte("{}")
	}
	var row pgx.Row
	if m.ID == "" {
		row = db.pool.QueryRow(ctx, `INSERT INTO field_mappings (connection_id, workspace_id, qwoty_field, crm_object, crm_field,
				direction, policy, value_map, standard, checked_at)
			SELECT c.id, c.workspace_id, $3, $4, $5, $6, $7, $8, $9, now() FROM connections c WHERE c.id = $2 AND c.workspace_id = $1
			RETURNING `+mappingColumns,
			workspaceID, connectionID, m.QwotyField, m.Object, m.CRMField, string(m.Direction), string(m.Policy), vm, m.Standard)
	} else {
		row = db.pool.QueryRow(ctx, `UPDATE field_mappings SET qwoty_field = $4, crm_object = $5, crm_field = $6, direction = $7,
				policy = $8, value_map = $9, broken = '', checked_at = now(), updated_at = now()
			WHERE workspace_id = $1 AND connection_id = $2 AND id = $3::uuid RETURNING `+mappingColumns,
			workspaceID, connectionID, m.ID, m.QwotyField, m.Object, m.CRMField, string(m.Direction), string(m.Policy), vm)
	}
	saved, err := scanMapping(row)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return m, qwoty.ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		e := qwoty.Errorf(qwoty.CodeValidation, "Edit the mapping that already uses it, or pick another field.",
			"the CRM field %s is mapped already", m.CRMField)
		e.Field = "crm_field"
		return m, e
	case errors.As(err, &pgErr) && pgErr.Code == "22P02":
		return m, qwoty.ErrNotFound // not a uuid: no such mapping
	case err != nil:
		return m, fmt.Errorf("store: save mapping: %w", err)
	}
	return saved, nil
}

// DeleteMapping removes a custom mapping; standard ones stay (they can be
// changed, not removed) and give qwoty.ErrNotFound like a missing one.
func (db *DB) DeleteMapping(ctx context.Context, workspaceID, connectionID, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM field_mappings WHERE workspace_id = $1 AND connection_id = $2
		AND id::text = $3 AND NOT standard`, workspaceID, connectionID, id)
	if err != nil {
		return fmt.Errorf("store: delete mapping: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return qwoty.ErrNotFound
	}
	return nil
}

// PresetMappings gives a connection the standard mappings when it has
// none yet (a new connection, or one made before mappings existed).
func (db *DB) PresetMappings(ctx context.Context, workspaceID, connectionID string, ms []qwoty.Mapping) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// The connection's row is the lock: two presets at once give one.
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM field_mappings m WHERE m.connection_id = c.id)
			FROM connections c WHERE c.id = $1 AND c.workspace_id = $2 FOR UPDATE`,
			connectionID, workspaceID).Scan(&n); err != nil {
			return fmt.Errorf("store: preset mappings: %w", err)
		}
		if n > 0 {
			return nil
		}
		for _, m := range ms {
			vm, _ := json.Marshal(m.ValueMap)
			if m.ValueMap == nil {
				vm = []byte("{}")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO field_mappings (connection_id, workspace_id, qwoty_field, crm_object, crm_field,
					direction, policy, value_map, standard)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true) ON CONFLICT DO NOTHING`,
				connectionID, workspaceID, m.QwotyField, m.Object, m.CRMField, string(m.Direction), string(m.Policy), vm); err != nil {
				return fmt.Errorf("store: preset mappings: %w", err)
			}
		}
		return nil
	})
}

// MarkMapping records the daily check's verdict on a mapping: why it no
// longer works, or "" when it does.
func (db *DB) MarkMapping(ctx context.Context, connectionID, id, broken string) error {
	_, err := db.pool.Exec(ctx, `UPDATE field_mappings SET broken = $3, checked_at = now() WHERE connection_id = $1 AND id::text = $2`,
		connectionID, id, broken)
	if err != nil {
		return fmt.Errorf("store: mark mapping: %w", err)
	}
	return nil
}

// Conflict is a value both sides changed, waiting for an admin.
type Conflict struct {
	ID         string
	Object     string
	CRMID      string
	QuoteID    string
	MappingID  string
	Field      string
	Base       string
	QwotyValue string
	CRMValue   string
	Reason     string
	DetectedAt time.Time
	ResolvedAt time.Time
	ResolvedBy string
	Chosen     qwoty.Side
}

// OpenConflict records a conflict, or refreshes the open one of the same
// record and mapping with the latest values.
func (db *DB) OpenConflict(ctx context.Context, workspaceID, connectionID string, c Conflict) (string, error) {
	return openConflict(ctx, db.pool, workspaceID, connectionID, c)
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func openConflict(ctx context.Context, q rowQuerier, workspaceID, connectionID string, c Conflict) (string, error) {
	var id string
	var quote, mapping *string
	if c.QuoteID != "" {
		quote = &c.QuoteID
	}
	if c.MappingID != "" {
		mapping = &c.MappingID
	}
	err := q.QueryRow(ctx, `INSERT INTO sync_conflicts (connection_id, workspace_id, crm_object, crm_id, quote_id, mapping_id,
			field_label, base_value, qwoty_value, crm_value, reason)
		VALUES ($1, $2, $3, $4, $5::uuid, $6::uuid, $7, $8, $9, $10, $11)
		ON CONFLICT (connection_id, crm_object, crm_id, coalesce(mapping_id::text, field_label)) WHERE resolved_at IS NULL
		DO UPDATE SET qwoty_value = EXCLUDED.qwoty_value, crm_value = EXCLUDED.crm_value, reason = EXCLUDED.reason,
			detected_at = now()
		RETURNING id::text`,
		connectionID, workspaceID, c.Object, c.CRMID, quote, mapping, c.Field, c.Base, c.QwotyValue, c.CRMValue, c.Reason).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("store: open conflict: %w", err)
	}
	return id, nil
}

// Conflicts lists a connection's conflicts, open ones (open) or the
// resolved ones, newest first, at most limit.
func (db *DB) Conflicts(ctx context.Context, workspaceID, connectionID string, open bool, limit int) ([]Conflict, error) {
	rows, err := db.pool.Query(ctx, `SELECT id::text, crm_object, crm_id, coalesce(quote_id::text, ''), coalesce(mapping_id::text, ''),
			field_label, base_value, qwoty_value, crm_value, reason, detected_at, resolved_at, resolved_by, coalesce(chosen, '')
		FROM sync_conflicts WHERE workspace_id = $1 AND connection_id = $2 AND (resolved_at IS NULL) = $3
		ORDER BY detected_at DESC, id LIMIT $4`, workspaceID, connectionID, open, limit)
	if err != nil {
		return nil, fmt.Errorf("store: conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		var resolved *time.Time
		var chosen string
		if err := rows.Scan(&c.ID, &c.Object, &c.CRMID, &c.QuoteID, &c.MappingID, &c.Field, &c.Base, &c.QwotyValue, &c.CRMValue,
			&c.Reason, &c.DetectedAt, &resolved, &c.ResolvedBy, &chosen); err != nil {
			return nil, fmt.Errorf("store: conflicts: %w", err)
		}
		c.ResolvedAt, c.Chosen = tv(resolved), qwoty.Side(chosen)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveConflict applies the admin's pick of an open conflict and
// records it, in one transaction: the CRM's value is taken into Qwoty (a
// stage becomes the quote's status, if its lifecycle allows it: otherwise
// the pick is refused with invalid_status_transition and the conflict
// stays open), or Qwoty's value is pushed to the CRM (the record's push is
// queued). A conflict already resolved, or of another connection, is not
// found.
func (db *DB) ResolveConflict(ctx context.Context, workspaceID, connectionID, id string, chosen qwoty.Side, by string) (*Conflict, error) {
	if chosen != qwoty.SideQwoty && chosen != qwoty.SideCRM {
		return nil, qwoty.Errorf(qwoty.CodeValidation, "Pick Qwoty's value or the CRM's.", "%q is not a side", string(chosen))
	}
	c := &Conflict{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var resolved *time.Time
		var ch, qwotyField string
		var vm []byte
		err := tx.QueryRow(ctx, `UPDATE sync_conflicts sc SET resolved_at = now(), resolved_by = $5, chosen = $4
			WHERE sc.workspace_id = $1 AND sc.connection_id = $2 AND sc.id::text = $3 AND sc.resolved_at IS NULL
			RETURNING sc.id::text, sc.crm_object, sc.crm_id, coalesce(sc.quote_id::text, ''), coalesce(sc.mapping_id::text, ''),
				sc.field_label, sc.base_value, sc.qwoty_value, sc.crm_value, sc.reason, sc.detected_at, sc.resolved_at, sc.resolved_by, sc.chosen,
				coalesce((SELECT m.qwoty_field FROM field_mappings m WHERE m.id = sc.mapping_id), ''),
				coalesce((SELECT m.value_map FROM field_mappings m WHERE m.id = sc.mapping_id), '{}')`,
			workspaceID, connectionID, id, string(chosen), by).Scan(&c.ID, &c.Object, &c.CRMID, &c.QuoteID, &c.MappingID, &c.Field,
			&c.Base, &c.QwotyValue, &c.CRMValue, &c.Reason, &c.DetectedAt, &resolved, &c.ResolvedBy, &ch, &qwotyField, &vm)
		if errors.Is(err, pgx.ErrNoRows) {
			return qwoty.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: resolve conflict: %w", err)
		}
		c.ResolvedAt, c.Chosen = tv(resolved), qwoty.Side(ch)
		switch qwotyField {
		case "customer.name", "customer.email":
			return resolveCustomer(ctx, tx, workspaceID, connectionID, c, qwotyField, by)
		case "quote.title":
			return db.resolveTitle(ctx, tx, workspaceID, connectionID, c, by)
		}
		if c.QuoteID == "" || c.Object != "deal" {
			return nil // customer data: the CRM's copy is what Qwoty holds
		}
		s := Scope{WorkspaceID: workspaceID, ConnectionID: connectionID, RecordID: c.CRMID}
		if chosen == qwoty.SideQwoty {
			return db.captureSync(ctx, tx, s, qwoty.TriggerStatus, c.QuoteID)
		}
		if qwotyField != "quote.status" {
			return nil
		}
		var valueMap map[string]string
		if err := json.Unmarshal(vm, &valueMap); err != nil {
			return fmt.Errorf("store: resolve conflict: %w", err)
		}
		to, ok := qwoty.StatusFromStage(valueMap, c.CRMValue)
		if !ok {
			return qwoty.Errorf(qwoty.CodeValidation, "Map the stage to a status in the field mappings, or keep Qwoty's value.",
				"the stage %q maps to no quote status", c.CRMValue)
		}
		q, err := getQuote(ctx, tx, s, c.QuoteID, true)
		if err != nil {
			return err
		}
		was := q.Status
		if err := q.Transition(to); err != nil {
			return err
		}
		if err := db.writeStatusFromCRM(ctx, tx, s, q.ID, was, to, by); err != nil {
			return fmt.Errorf("store: resolve conflict: %w", err)
		}
		return audit(ctx, tx, workspaceID, connectionID, by, "quote.status_from_crm", map[string]any{"quote": q.Number, "from": was, "to": to, "stage": c.CRMValue})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// resolveCustomer applies the pick of a customer value's conflict: the
// CRM's value becomes the customer's and the base; Qwoty's stays (Qwoty
// does not write customers to the CRM).
func resolveCustomer(ctx context.Context, tx pgx.Tx, ws, conn string, c *Conflict, field, by string) error {
	if c.Chosen != qwoty.SideCRM {
		return nil
	}
	column := "name"
	if field == "customer.email" {
		column = "email"
	}
	if _, err := tx.Exec(ctx, `UPDATE customers SET `+column+` = $4, updated_at = now()
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_account_id = $3`, ws, conn, c.CRMID, c.CRMValue); err != nil {
		return fmt.Errorf("store: resolve conflict: %w", err)
	}
	if _, err := tx.Exec(ctx, setBaseSQL, conn, c.Object, c.CRMID, c.MappingID, c.CRMValue); err != nil {
		return fmt.Errorf("store: resolve conflict: %w", err)
	}
	return audit(ctx, tx, ws, conn, by, "customer."+column+"_from_crm", map[string]any{"customer": c.CRMID, "to": c.CRMValue})
}

// resolveTitle applies the pick of a quote title's conflict: the CRM's
// title becomes the quote's (and the base), or Qwoty's is pushed.
func (db *DB) resolveTitle(ctx context.Context, tx pgx.Tx, ws, conn string, c *Conflict, by string) error {
	if c.QuoteID == "" {
		return nil
	}
	s := Scope{WorkspaceID: ws, ConnectionID: conn, RecordID: c.CRMID}
	q, err := getQuote(ctx, tx, s, c.QuoteID, true)
	if err != nil {
		return err
	}
	if c.Chosen == qwoty.SideQwoty {
		return db.captureSync(ctx, tx, s, qwoty.TriggerEdit, q.ID)
	}
	if err := takeTitle(ctx, tx, ws, conn, by, q.ID, q.Number, q.Title, c.CRMValue); err != nil {
		return fmt.Errorf("store: resolve conflict: %w", err)
	}
	if _, err := tx.Exec(ctx, setBaseSQL, conn, c.Object, c.CRMID, c.MappingID, c.CRMValue); err != nil {
		return fmt.Errorf("store: resolve conflict: %w", err)
	}
	return nil
}

// Base is what both sides hold for one record's mapped value after a
// sync: the base of the next three-way merge.
type Base struct {
	Object    string // "customer" or "deal"
	CRMID     string
	MappingID string
	Value     string
}

// SetBases records bases (a push's, of the values it wrote), in one round
// trip.
func (db *DB) SetBases(ctx context.Context, connectionID string, bases []Base) error {
	if len(bases) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, x := range bases {
		b.Queue(setBaseSQL, connectionID, x.Object, x.CRMID, x.MappingID, x.Value)
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: set bases: %w", err)
	}
	return nil
}

// BaseOf returns a record's base values by mapping id.
func (db *DB) BaseOf(ctx context.Context, connectionID, object, crmID string) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT mapping_id::text, value FROM sync_base WHERE connection_id = $1 AND crm_object = $2 AND crm_id = $3`,
		connectionID, object, crmID)
	if err != nil {
		return nil, fmt.Errorf("store: base: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("store: base: %w", err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// MappedConnections lists the active connections that have field
// mappings, for the daily check.
func (db *DB) MappedConnections(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id::text FROM connections c WHERE c.status = 'active'
		AND EXISTS (SELECT 1 FROM field_mappings m WHERE m.connection_id = c.id) ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("store: mapped connections: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: mapped connections: %w", err)
	}
	return ids, nil
}
