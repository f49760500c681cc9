package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Mapped values a pull takes: a customer's name and email, a quote's
// title, each from the CRM field its mapping names (qwoty.PullsField; the
// Puller read it into the record's Fields because the engine asked). Each
// is merged three ways against the base, what both sides held after the
// last sync (sync_base): a side that did not change takes the other's
// change; when both did, the mapping's policy decides, and manual review
// opens a conflict. A pulled value equal to the base is not an edit made
// in the CRM (it is what Qwoty last wrote, or last took), whoever the CRM
// says saved it: polling cannot tell Qwoty's own writes, the base can.

// pullMappings are the working mappings a pull takes values through, one
// per Qwoty field (a custom mapping before the standard one of the same
// field), by object.
type pullMappings struct {
	customer, deal []qwoty.Mapping
}

func loadPullMappings(ctx context.Context, tx pgx.Tx, ws, conn string) (pullMappings, error) {
	var pm pullMappings
	rows, err := tx.Query(ctx, `SELECT `+mappingColumns+` FROM field_mappings
		WHERE workspace_id = $1 AND connection_id = $2 AND broken = '' AND direction IN ('pull', 'both')
		ORDER BY standard, created_at, id`, ws, conn)
	if err != nil {
		return pm, fmt.Errorf("pull mappings: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return pm, fmt.Errorf("pull mappings: %w", err)
		}
		if !qwoty.PullsField(m) || seen[m.QwotyField] {
			continue
		}
		seen[m.QwotyField] = true
		switch m.Object {
		case "customer":
			pm.customer = append(pm.customer, m)
		case "deal":
			pm.deal = append(pm.deal, m)
		}
	}
	return pm, rows.Err()
}

// setBaseSQL records what both sides hold for a record's mapping.
const setBaseSQL = `INSERT INTO sync_base (connection_id, crm_object, crm_id, mapping_id, value) VALUES ($1, $2, $3, $4::uuid, $5)
	ON CONFLICT (connection_id, crm_object, crm_id, mapping_id) DO UPDATE SET value = EXCLUDED.value, synced_at = now()`

// baseOf is a record's base for a mapping, and whether there is one.
func baseOf(ctx context.Context, tx pgx.Tx, conn, object, crmID, mappingID string) (string, bool, error) {
	var v string
	err := tx.QueryRow(ctx, `SELECT value FROM sync_base WHERE connection_id = $1 AND crm_object = $2 AND crm_id = $3
		AND mapping_id = $4::uuid`, conn, object, crmID, mappingID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("base: %w", err)
	}
	return v, true, nil
}

// pulledValue is the value mapping m reads from r: its CRM field among
// r's Fields, or, for a standard customer mapping of a CRM that does not
// list that field there, the customer's own; false when r has none (an
// empty name or title is none: a customer or a quote keeps its own rather
// than become nameless).
func pulledValue(m qwoty.Mapping, r crm.Pulled) (string, bool) {
	v, ok := r.Fields[m.CRMField]
	if !ok && m.Standard && r.Customer != nil {
		switch m.QwotyField {
		case "customer.name":
			v, ok = r.Customer.Name, true
		case "customer.email":
			v, ok = r.Customer.Email, true
		}
	}
	v = strings.TrimSpace(v)
	if !ok || (v == "" && m.QwotyField != "customer.email") {
		return "", false
	}
	return v, true
}

// customerPlan is what applying a pulled customer's mapped values leaves
// to do once its row is written: the bases to record and the conflicts to
// open.
type customerPlan struct {
	bases     map[string]string
	conflicts []Conflict
}

// planCustomers merges the mapped values of the live customers among recs
// into their Customer (a copy: the caller's records are not changed), and
// returns, by index in recs, what is left to do if the row is written.
func planCustomers(ctx context.Context, tx pgx.Tx, ws, conn string, recs []crm.Pulled, ms []qwoty.Mapping) (map[int]*customerPlan, error) {
	var ids []string
	for _, r := range recs {
		if r.Kind == crm.KindCustomer && !r.Deleted && r.Customer != nil {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 || len(ms) == 0 {
		return nil, nil
	}
	type held struct {
		name, email string
		updated     time.Time
	}
	have := map[string]held{}
	rows, err := tx.Query(ctx, `SELECT crm_account_id, name, email, updated_at FROM customers
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_account_id = ANY($3)`, ws, conn, ids)
	if err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	for rows.Next() {
		var id string
		var h held
		if err := rows.Scan(&id, &h.name, &h.email, &h.updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("customers: %w", err)
		}
		have[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	bases := map[string]string{} // crm id + "/" + mapping id
	rows, err = tx.Query(ctx, `SELECT crm_id, mapping_id::text, value FROM sync_base
		WHERE connection_id = $1 AND crm_object = 'customer' AND crm_id = ANY($2)`, conn, ids)
	if err != nil {
		return nil, fmt.Errorf("customer bases: %w", err)
	}
	for rows.Next() {
		var id, m, v string
		if err := rows.Scan(&id, &m, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("customer bases: %w", err)
		}
		bases[id+"/"+m] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer bases: %w", err)
	}
	plans := map[int]*customerPlan{}
	for i, r := range recs {
		if r.Kind != crm.KindCustomer || r.Deleted || r.Customer == nil {
			continue
		}
		c := *r.Customer
		recs[i].Customer = &c
		plan := &customerPlan{bases: map[string]string{}}
		cur, known := have[r.ID]
		for _, m := range ms {
			theirs, ok := pulledValue(m, r)
			if !ok {
				continue
			}
			target, ours := &c.Name, cur.name
			if m.QwotyField == "customer.email" {
				target, ours = &c.Email, cur.email
			}
			if !known {
				*target, plan.bases[m.ID] = theirs, theirs
				continue
			}
			base, hasBase := bases[r.ID+"/"+m.ID]
			if hasBase && theirs == base {
				*target = ours // not changed in the CRM since the last sync
				continue
			}
			mg := qwoty.MergeValues(base, qwoty.Change{Value: ours, At: cur.updated}, qwoty.Change{Value: theirs, At: r.Modified}, m.Policy)
			switch {
			case mg.Conflict:
				*target = ours
				plan.conflicts = append(plan.conflicts, Conflict{Object: "customer", CRMID: r.ID, MappingID: m.ID,
					Field: fieldLabel(m.QwotyField), Base: base, QwotyValue: ours, CRMValue: theirs,
					Reason: "changed in Qwoty and in the CRM since the last sync"})
			case mg.Apply == qwoty.SideCRM:
				// Qwoty's value stands; customers are not written to the
				// CRM, so the base stays what it was.
				*target = ours
			default:
				*target, plan.bases[m.ID] = mg.Value, mg.Value
			}
		}
		plans[i] = plan
	}
	return plans, nil
}

// fieldLabel is a Qwoty field's label, as a conflict shows it.
func fieldLabel(key string) string {
	if f, ok := qwoty.QwotyFieldByKey(key); ok {
		return f.Label
	}
	return key
}

// customerWritten finishes a pulled customer whose row was written (id,
// inserted when it was new): its bases and conflicts, and the event.
func (db *DB) customerWritten(ctx context.Context, tx pgx.Tx, ws, conn string, r crm.Pulled, id string, inserted bool, plan *customerPlan) (PullApplied, error) {
	var n PullApplied
	if plan != nil {
		for m, v := range plan.bases {
			if _, err := tx.Exec(ctx, setBaseSQL, conn, "customer", r.ID, m, v); err != nil {
				return n, fmt.Errorf("base: %w", err)
			}
			n.Taken++
		}
		for _, c := range plan.conflicts {
			if _, err := openConflict(ctx, tx, ws, conn, c); err != nil {
				return n, err
			}
			n.Conflicts++
		}
	}
	typ := qwoty.EventCustomerUpdated
	if inserted {
		typ = qwoty.EventCustomerCreated
	}
	err := db.emitEvent(ctx, tx, Event{WorkspaceID: ws, ConnectionID: conn, Type: typ, Subject: id, CustomerID: id,
		Data: map[string]any{"id": id, "crmId": r.ID, "name": r.Customer.Name, "email": r.Customer.Email}})
	return n, err
}

// applyDealMapped takes a pulled deal's mapped values (a quote's title)
// into its primary quote, after the deal was written. An echo of Qwoty's
// own write changes nothing.
func (db *DB) applyDealMapped(ctx context.Context, tx pgx.Tx, ws, conn string, r crm.Pulled, ms []qwoty.Mapping) (PullApplied, error) {
	var n PullApplied
	if len(ms) == 0 || r.Echo {
		return n, nil
	}
	var id, number, title string
	var updated time.Time
	err := tx.QueryRow(ctx, `SELECT id::text, number, title, updated_at FROM quotes
		WHERE workspace_id = $1 AND connection_id = $2 AND crm_record_id = $3 AND is_primary AND deleted_at IS NULL FOR UPDATE`,
		ws, conn, r.ID).Scan(&id, &number, &title, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, nil
	}
	if err != nil {
		return n, fmt.Errorf("primary quote: %w", err)
	}
	s := Scope{WorkspaceID: ws, ConnectionID: conn, RecordID: r.ID}
	for _, m := range ms {
		if m.QwotyField != "quote.title" {
			continue
		}
		theirs, ok := pulledValue(m, r)
		if !ok {
			continue
		}
		base, hasBase, err := baseOf(ctx, tx, conn, "deal", r.ID, m.ID)
		if err != nil {
			return n, err
		}
		if hasBase && theirs == base {
			continue // what Qwoty last wrote or took: no edit in the CRM
		}
		mg := qwoty.MergeValues(base, qwoty.Change{Value: title, At: updated}, qwoty.Change{Value: theirs, At: r.Modified}, m.Policy)
		switch {
		case mg.Conflict:
			if _, err := openConflict(ctx, tx, ws, conn, Conflict{Object: "deal", CRMID: r.ID, QuoteID: id, MappingID: m.ID,
				Field: fieldLabel(m.QwotyField), Base: base, QwotyValue: title, CRMValue: theirs,
				Reason: "changed in Qwoty and in the CRM since the last sync"}); err != nil {
				return n, err
			}
			n.Conflicts++
		case mg.Apply == qwoty.SideCRM:
			// Qwoty's title stands: push it back over the CRM's.
			if err := db.captureSync(ctx, tx, s, qwoty.TriggerEdit, id); err != nil {
				return n, err
			}
		case mg.Apply == qwoty.SideQwoty:
			if err := takeTitle(ctx, tx, ws, conn, "crm", id, number, title, mg.Value); err != nil {
				return n, err
			}
			if _, err := tx.Exec(ctx, setBaseSQL, conn, "deal", r.ID, m.ID, mg.Value); err != nil {
				return n, fmt.Errorf("base: %w", err)
			}
			n.Taken++
		default: // both hold it already
			if _, err := tx.Exec(ctx, setBaseSQL, conn, "deal", r.ID, m.ID, mg.Value); err != nil {
				return n, fmt.Errorf("base: %w", err)
			}
		}
	}
	return n, nil
}

// takeTitle gives quote id the CRM's title (cleaned and cut as a title
// from the CRM always is) and audits it.
func takeTitle(ctx context.Context, tx pgx.Tx, ws, conn, actor, id, number, was, crmValue string) error {
	to := qwoty.TitleFrom(crmValue)
	if to == was {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE quotes SET title = $2, version = version + 1, updated_at = now() WHERE id = $1::uuid`, id, to); err != nil {
		return fmt.Errorf("quote title: %w", err)
	}
	return audit(ctx, tx, ws, conn, actor, "quote.title_from_crm", map[string]any{"quote": number, "from": was, "to": to})
}
