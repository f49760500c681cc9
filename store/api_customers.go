package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/qwoty"
)

// The public API's customers (the CRM's accounts, table customers) and
// contacts (the accounts' people, table crm_contacts, one per email and
// connection): the same rows the sync pulls from the CRM, listed by keyset
// pages and upserted idempotently. A row the API wrote keeps no CRM
// modification time, so the next pull of the same record from the CRM
// replaces what the API set (the CRM stays the source of truth).

// CustomerFilter selects an API listing of customers.
type CustomerFilter struct {
	ExternalRef  string
	Email        string
	AccountID    string
	UpdatedAfter time.Time
	// ByUpdated orders by last change (updated at, id), otherwise by
	// creation.
	ByUpdated bool
	After     *Cursor
	Limit     int
}

const customerColumns = `id::text, workspace_id::text, connection_id::text, crm_account_id, name, email, phone, street, city,
	postal_code, region, country, external_ref, domain, crm_deleted_at IS NOT NULL, created_at, updated_at`

func scanCustomer(r pgx.CollectableRow) (qwoty.Customer, error) {
	var c qwoty.Customer
	err := r.Scan(&c.ID, &c.WorkspaceID, &c.ConnectionID, &c.CRMAccountID, &c.Name, &c.Email, &c.Phone, &c.Street, &c.City,
		&c.PostalCode, &c.Region, &c.Country, &c.ExternalRef, &c.Domain, &c.Deleted, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// APICustomers lists the customers of scope s's connection that f
// selects, by keyset pages; whether more follow.
func (db *DB) APICustomers(ctx context.Context, s Scope, f CustomerFilter) ([]qwoty.Customer, bool, error) {
	col := "created_at"
	if f.ByUpdated {
		col = "updated_at"
	}
	args := []any{s.WorkspaceID, s.ConnectionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := `workspace_id = $1 AND connection_id = $2`
	if f.ExternalRef != "" {
		where += ` AND external_ref = ` + arg(f.ExternalRef)
	}
	if f.Email != "" {
		where += ` AND lower(email) = ` + arg(f.Email)
	}
	if f.AccountID != "" {
		where += ` AND crm_account_id = ` + arg(f.AccountID)
	}
	if !f.UpdatedAfter.IsZero() {
		where += ` AND updated_at > ` + arg(f.UpdatedAfter)
	}
	if f.After != nil {
		if !validID(f.After.ID) {
			return nil, false, fmt.Errorf("store: api customers: cursor id %q is not an id", f.After.ID)
		}
		where += ` AND (` + col + `, id) > (` + arg(f.After.T) + `, ` + arg(f.After.ID) + `::uuid)`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE `+where+
		` ORDER BY `+col+`, id LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: api customers: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCustomer)
	if err != nil {
		return nil, false, fmt.Errorf("store: api customers: %w", err)
	}
	more := len(cs) > f.Limit
	if more {
		cs = cs[:f.Limit]
	}
	return cs, more, nil
}

// APICustomer returns customer id of scope s's connection.
func (db *DB) APICustomer(ctx context.Context, s Scope, id string) (*qwoty.Customer, error) {
	c, err := apiCustomer(ctx, db.pool, s, id)
	if err != nil {
		return nil, fmt.Errorf("store: api customer %s: %w", id, err)
	}
	return c, nil
}

func apiCustomer(ctx context.Context, q querier, s Scope, id string) (*qwoty.Customer, error) {
	if !validID(id) {
		return nil, customerNotFound(id)
	}
	rows, err := q.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 AND workspace_id = $2 AND connection_id = $3`,
		id, s.WorkspaceID, s.ConnectionID)
	if err != nil {
		return nil, err
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCustomer)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, customerNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func customerNotFound(id string) error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: fmt.Sprintf("customer %s was not found", quotedID(id)),
		Hint: "Check the id; list the customers (GET /api/v1/customers) to find it.", Err: qwoty.ErrNotFound}
}

// CustomerInput is an upsert of a customer, keyed by its CRM account id;
// a nil field keeps what the customer has (or is empty on a new one).
//
// A customer without a CRM account yet (CRMAccountID "") is keyed by its
// ExternalRef instead: the customer of the connection with that reference
// (linked since or not) is changed, else one is made; without a reference
// each call makes a new one. Its account is found or made when one of its
// quotes makes its deal (docs/deals.md).
type CustomerInput struct {
	CRMAccountID string
	Name, Email, Phone, Street, City, PostalCode, Region, Country,
	ExternalRef, Domain *string
}

// UpsertAPICustomer creates the customer of scope s's connection with
// in's account id, or changes the fields in gives. A call that changes
// nothing writes nothing and makes no event, so it is safe on every CRM
// change; otherwise customer.created or customer.updated is recorded in
// the same transaction. It reports whether the customer was created.
func (db *DB) UpsertAPICustomer(ctx context.Context, s Scope, in CustomerInput) (*qwoty.Customer, bool, error) {
	var out *qwoty.Customer
	var created bool
	if in.Domain != nil {
		d := qwoty.NormalizeDomain(*in.Domain)
		in.Domain = &d
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if in.CRMAccountID == "" {
			// Keyed by its reference: the customer it names, whether a
			// deal has linked it since or not.
			var key string
			if in.ExternalRef != nil && *in.ExternalRef != "" {
				err := tx.QueryRow(ctx, `SELECT crm_account_id FROM customers WHERE workspace_id = $1 AND connection_id = $2 AND external_ref = $3
					ORDER BY crm_account_id = '' DESC, created_at LIMIT 1 FOR UPDATE`, s.WorkspaceID, s.ConnectionID, *in.ExternalRef).Scan(&key)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
			}
			in.CRMAccountID = key
		}
		conflict := `(workspace_id, connection_id, crm_account_id) WHERE crm_account_id <> ''`
		if in.CRMAccountID == "" {
			conflict = `(connection_id, external_ref) WHERE crm_account_id = '' AND external_ref <> ''`
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO customers AS cu (workspace_id, connection_id, crm_account_id, name, email, phone, street, city,
				postal_code, region, country, external_ref, domain)
			VALUES ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), coalesce($6, ''), coalesce($7, ''), coalesce($8, ''),
				coalesce($9, ''), coalesce($10, ''), coalesce($11, ''), coalesce($12, ''), coalesce($13, ''))
			ON CONFLICT `+conflict+` DO UPDATE SET
				name = coalesce($4, cu.name), email = coalesce($5, cu.email), phone = coalesce($6, cu.phone),
				street = coalesce($7, cu.street), city = coalesce($8, cu.city), postal_code = coalesce($9, cu.postal_code),
				region = coalesce($10, cu.region), country = coalesce($11, cu.country),
				external_ref = coalesce($12, cu.external_ref), domain = coalesce($13, cu.domain), updated_at = now()
			WHERE (cu.name, cu.email, cu.phone, cu.street, cu.city, cu.postal_code, cu.region, cu.country, cu.external_ref, cu.domain)
				IS DISTINCT FROM (coalesce($4, cu.name), coalesce($5, cu.email), coalesce($6, cu.phone), coalesce($7, cu.street),
				coalesce($8, cu.city), coalesce($9, cu.postal_code), coalesce($10, cu.region), coalesce($11, cu.country),
				coalesce($12, cu.external_ref), coalesce($13, cu.domain))
			RETURNING `+customerColumns+`, xmax = 0`,
			s.WorkspaceID, s.ConnectionID, in.CRMAccountID, in.Name, in.Email, in.Phone, in.Street, in.City,
			in.PostalCode, in.Region, in.Country, in.ExternalRef, in.Domain)
		if err != nil {
			return err
		}
		c, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (qwoty.Customer, error) {
			var c qwoty.Customer
			err := r.Scan(&c.ID, &c.WorkspaceID, &c.ConnectionID, &c.CRMAccountID, &c.Name, &c.Email, &c.Phone, &c.Street, &c.City,
				&c.PostalCode, &c.Region, &c.Country, &c.ExternalRef, &c.Domain, &c.Deleted, &c.CreatedAt, &c.UpdatedAt, &created)
			return c, err
		})
		if errors.Is(err, pgx.ErrNoRows) {
			// Unchanged: read it as it is.
			rows, err := tx.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE workspace_id = $1 AND connection_id = $2
				AND CASE WHEN $3 = '' THEN crm_account_id = '' AND external_ref = $4 ELSE crm_account_id = $3 END`,
				s.WorkspaceID, s.ConnectionID, in.CRMAccountID, in.ExternalRef)
			if err != nil {
				return err
			}
			c, err = pgx.CollectExactlyOneRow(rows, scanCustomer)
			out = &c
			return err
		}
		if err != nil {
			return err
		}
		out = &c
		t := qwoty.EventCustomerUpdated
		if created {
			t = qwoty.EventCustomerCreated
		}
		return db.emitEvent(ctx, tx, Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ConnectionID, Type: t, Subject: c.ID,
			Data: map[string]any{"id": c.ID, "crmAccountId": c.CRMAccountID, "name": c.Name, "externalRef": c.ExternalRef, "domain": c.Domain}})
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: api upsert customer %s: %w", in.CRMAccountID, err)
	}
	return out, created, nil
}

// ContactFilter selects an API listing of contacts.
type ContactFilter struct {
	Email        string
	CustomerID   string
	ExternalRef  string
	UpdatedAfter time.Time
	// After is the last contact of the previous page (T: its updated at,
	// ID: its email); contacts are listed by (updated at, email).
	After *Cursor
	Limit int
}

const contactColumns = `c.email, c.crm_id, c.name, c.phone, coalesce(c.customer_id::text, ''), c.external_ref,
	coalesce((SELECT array_agg(dc.deal_crm_id ORDER BY dc.deal_crm_id) FROM crm_deal_contacts dc
		WHERE dc.connection_id = c.connection_id AND dc.email = c.email), '{}'),
	c.created_at, c.updated_at`

func scanContact(r pgx.CollectableRow) (qwoty.Contact, error) {
	var c qwoty.Contact
	err := r.Scan(&c.Email, &c.CRMID, &c.Name, &c.Phone, &c.CustomerID, &c.ExternalRef, &c.RecordIDs, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// APIContacts lists the contacts of scope s's connection that f selects,
// by (updated at, email) pages; whether more follow.
func (db *DB) APIContacts(ctx context.Context, s Scope, f ContactFilter) ([]qwoty.Contact, bool, error) {
	args := []any{s.WorkspaceID, s.ConnectionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := `c.workspace_id = $1 AND c.connection_id = $2`
	if f.Email != "" {
		where += ` AND c.email = ` + arg(f.Email)
	}
	if f.CustomerID != "" {
		if !validID(f.CustomerID) {
			return []qwoty.Contact{}, false, nil
		}
		where += ` AND c.customer_id = ` + arg(f.CustomerID) + `::uuid`
	}
	if f.ExternalRef != "" {
		where += ` AND c.external_ref = ` + arg(f.ExternalRef)
	}
	if !f.UpdatedAfter.IsZero() {
		where += ` AND c.updated_at > ` + arg(f.UpdatedAfter)
	}
	if f.After != nil {
		where += ` AND (c.updated_at, c.email) > (` + arg(f.After.T) + `, ` + arg(f.After.ID) + `)`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+contactColumns+` FROM crm_contacts c WHERE `+where+
		` ORDER BY c.updated_at, c.email LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: api contacts: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanContact)
	if err != nil {
		return nil, false, fmt.Errorf("store: api contacts: %w", err)
	}
	more := len(cs) > f.Limit
	if more {
		cs = cs[:f.Limit]
	}
	return cs, more, nil
}

// ContactInput is an upsert of a contact, keyed by its email (lower
// case); a nil field keeps what the contact has.
type ContactInput struct {
	Email                    string
	Name, Phone, ExternalRef *string
	CRMID                    *string
	CustomerID               *string // "" unlinks
}

// UpsertAPIContact creates the contact of scope s's connection with in's
// email, or changes the fields in gives; a call that changes nothing
// writes nothing. It reports whether the contact was created. A customer
// id must name a customer of the same connection.
func (db *DB) UpsertAPIContact(ctx context.Context, s Scope, in ContactInput) (*qwoty.Contact, bool, error) {
	var out *qwoty.Contact
	var created bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var customer any // nil keeps; a *string "" unlinks
		link := in.CustomerID != nil
		if link && *in.CustomerID != "" {
			if _, err := apiCustomer(ctx, tx, s, *in.CustomerID); err != nil {
				return errNoCustomer(*in.CustomerID)
			}
			customer = *in.CustomerID
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO crm_contacts AS c (connection_id, email, workspace_id, crm_id, name, phone, external_ref, customer_id)
			VALUES ($2, $3, $1, coalesce($4, ''), coalesce($5, ''), coalesce($6, ''), coalesce($7, ''), $8::uuid)
			ON CONFLICT (connection_id, email) DO NOTHING`,
			s.WorkspaceID, s.ConnectionID, in.Email, in.CRMID, in.Name, in.Phone, in.ExternalRef, customer)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		if !created {
			if _, err := tx.Exec(ctx, `
				UPDATE crm_contacts c SET crm_id = coalesce($4, c.crm_id), name = coalesce($5, c.name), phone = coalesce($6, c.phone),
					external_ref = coalesce($7, c.external_ref),
					customer_id = CASE WHEN $9 THEN $8::uuid ELSE c.customer_id END, updated_at = now()
				WHERE c.workspace_id = $1 AND c.connection_id = $2 AND c.email = $3
					AND (c.crm_id, c.name, c.phone, c.external_ref, c.customer_id) IS DISTINCT FROM
						(coalesce($4, c.crm_id), coalesce($5, c.name), coalesce($6, c.phone), coalesce($7, c.external_ref),
						CASE WHEN $9 THEN $8::uuid ELSE c.customer_id END)`,
				s.WorkspaceID, s.ConnectionID, in.Email, in.CRMID, in.Name, in.Phone, in.ExternalRef, customer, link); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+contactColumns+` FROM crm_contacts c WHERE c.workspace_id = $1 AND c.connection_id = $2 AND c.email = $3`,
			s.WorkspaceID, s.ConnectionID, in.Email)
		if err != nil {
			return err
		}
		c, err := pgx.CollectExactlyOneRow(rows, scanContact)
		if errors.Is(err, pgx.ErrNoRows) {
			// The email is another workspace's contact of this connection:
			// impossible while a connection belongs to one workspace.
			return fmt.Errorf("contact %s: not in workspace %s", in.Email, s.WorkspaceID)
		}
		out = &c
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: api upsert contact: %w", err)
	}
	return out, created, nil
}
