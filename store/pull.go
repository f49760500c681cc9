package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Pulling: what the sync engine reads from a CRM is stored here, record by
// record, with the CRM's own modification time. An older version of a
// record never overwrites a newer one (a webhook's fetch and a poll may
// cross, deliveries come out of order), and a record deleted in the CRM is
// marked, never deleted.

// PullCursor is where a connection's stream stands.
type PullCursor struct {
	Stream string
	// HWM is the newest CRM modification time of the last complete
	// listing (zero: never complete; the next listing is a full one).
	HWM time.Time
	// Listing is set while a listing is under way: it started at Since
	// with the page cursor Cursor next, and the newest time it has seen is
	// Max.
	Listing bool
	Since   time.Time
	Cursor  string
	Max     time.Time
	// Records is how many records the stream has stored, ever.
	Records        int64
	LastCompleteAt time.Time
	LastError      string
}

// PullCursorOf returns the stream's cursor (the zero cursor when it never
// ran).
func (db *DB) PullCursorOf(ctx context.Context, connectionID, stream string) (*PullCursor, error) {
	c := &PullCursor{Stream: stream}
	var hwm, since, mx, done *time.Time
	err := db.pool.QueryRow(ctx, `SELECT hwm, listing_since, listing_cursor, listing_max, listing_started IS NOT NULL,
		records, last_complete_at, last_error FROM pull_cursors WHERE connection_id = $1 AND stream = $2`,
		connectionID, stream).Scan(&hwm, &since, &c.Cursor, &mx, &c.Listing, &c.Records, &done, &c.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: pull cursor: %w", err)
	}
	c.HWM, c.Since, c.Max, c.LastCompleteAt = tv(hwm), tv(since), tv(mx), tv(done)
	return c, nil
}

// PullCursors returns every stream's cursor of a connection.
func (db *DB) PullCursors(ctx context.Context, connectionID string) ([]PullCursor, error) {
	rows, err := db.pool.Query(ctx, `SELECT stream FROM pull_cursors WHERE connection_id = $1 ORDER BY stream`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("store: pull cursors: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: pull cursors: %w", err)
	}
	out := make([]PullCursor, 0, len(names))
	for _, n := range names {
		c, err := db.PullCursorOf(ctx, connectionID, n)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

func tv(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// PullApplied counts what storing a page did.
type PullApplied struct {
	// Applied records were new or newer than the stored copy; Skipped ones
	// were not (the same version again, an older one, a delete of a record
	// never stored).
	Applied, Skipped int
	// Deleted counts the records marked deleted; Echoes the changes that
	// were Qwoty's own writes.
	Deleted, Echoes int
	// Moved counts the quotes whose status followed a stage changed in the
	// CRM; Taken the mapped values taken from the CRM (a customer's name
	// or email, a quote's title); Conflicts the stages and values that
	// wait for an admin instead.
	Moved, Taken, Conflicts int
}

func (a *PullApplied) add(b PullApplied) {
	a.Applied += b.Applied
	a.Skipped += b.Skipped
	a.Deleted += b.Deleted
	a.Echoes += b.Echoes
	a.Moved += b.Moved
	a.Taken += b.Taken
	a.Conflicts += b.Conflicts
}

// StorePullPage stores one page of stream's listing that started at since
// and moves the stream on, in one transaction: the listing's cursor
// becomes next and its newest time grows to the page's; when next is ""
// the listing is complete and the high-water mark becomes the newest time
// it saw (never less than before). A crash between pages resumes at the
// stored cursor; a page is never lost, because the cursor moves with it.
func (db *DB) StorePullPage(ctx context.Context, workspaceID, connectionID, stream string, since time.Time, recs []crm.Pulled, next string) (PullApplied, error) {
	var got PullApplied
	var newest time.Time
	for _, r := range recs {
		if r.Modified.After(newest) {
			newest = r.Modified
		}
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if got, err = db.applyPulled(ctx, tx, workspaceID, connectionID, recs); err != nil {
			return err
		}
		if next != "" {
			_, err = tx.Exec(ctx, `
				INSERT INTO pull_cursors AS p (connection_id, stream, listing_since, listing_cursor, listing_max, listing_started, records)
				VALUES ($1, $2, $3, $4, $5, now(), $6)
				ON CONFLICT (connection_id, stream) DO UPDATE SET
					listing_since = EXCLUDED.listing_since, listing_cursor = EXCLUDED.listing_cursor,
					listing_max = greatest(p.listing_max, EXCLUDED.listing_max),
					listing_started = coalesce(p.listing_started, now()),
					records = p.records + EXCLUDED.records, last_error = '', updated_at = now()`,
				connectionID, stream, tp(since), next, tp(newest), got.Applied)
		} else {
			_, err = tx.Exec(ctx, `
				INSERT INTO pull_cursors AS p (connection_id, stream, hwm, records, last_complete_at)
				VALUES ($1, $2, $3, $4, now())
				ON CONFLICT (connection_id, stream) DO UPDATE SET
					hwm = greatest(p.hwm, p.listing_max, EXCLUDED.hwm),
					listing_since = NULL, listing_cursor = '', listing_max = NULL, listing_started = NULL,
					records = p.records + EXCLUDED.records, last_complete_at = now(), last_error = '', updated_at = now()`,
				connectionID, stream, tp(newest), got.Applied)
		}
		if err != nil {
			return fmt.Errorf("pull cursor: %w", err)
		}
		return nil
	})
	if err != nil {
		return PullApplied{}, fmt.Errorf("store: pull page: %w", err)
	}
	return got, nil
}

// FailPull records why a stream's listing stopped; the listing resumes at
// its cursor on the next run.
func (db *DB) FailPull(ctx context.Context, connectionID, stream, message string) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO pull_cursors AS p (connection_id, stream, last_error) VALUES ($1, $2, $3)
		ON CONFLICT (connection_id, stream) DO UPDATE SET last_error = EXCLUDED.last_error, updated_at = now()`,
		connectionID, stream, message)
	if err != nil {
		return fmt.Errorf("store: fail pull: %w", err)
	}
	return nil
}

// RestartPull forgets a stream's listing under way and its mark: the next
// run lists everything (an admin's full re-sync, a mark the CRM no longer
// honours, such as Salesforce's 15 days of deleted records).
func (db *DB) RestartPull(ctx context.Context, connectionID, stream string) error {
	_, err := db.pool.Exec(ctx, `UPDATE pull_cursors SET hwm = NULL, listing_since = NULL, listing_cursor = '',
		listing_max = NULL, listing_started = NULL, updated_at = now() WHERE connection_id = $1 AND stream = $2`, connectionID, stream)
	if err != nil {
		return fmt.Errorf("store: restart pull: %w", err)
	}
	return nil
}

// StorePulled stores records fetched one by one (a webhook's, a "Sync
// now"), outside any listing: no cursor moves.
func (db *DB) StorePulled(ctx context.Context, workspaceID, connectionID string, recs []crm.Pulled) (PullApplied, error) {
	var got PullApplied
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		got, err = db.applyPulled(ctx, tx, workspaceID, connectionID, recs)
		return err
	})
	if err != nil {
		return PullApplied{}, fmt.Errorf("store: pulled: %w", err)
	}
	return got, nil
}

// applyPulled writes recs in tx, each only when it is newer than the copy
// stored (strictly: the same version again is skipped). The records
// without writes that depend on their own (all but a live deal, whose
// contacts follow it) go to the database in one round trip: a page of a
// catalogue is one batch, not hundreds of statements one after another.
func (db *DB) applyPulled(ctx context.Context, tx pgx.Tx, workspaceID, connectionID string, recs []crm.Pulled) (PullApplied, error) {
	var got PullApplied
	// The mapped values (pull_mapped.go) are merged into copies of the
	// customers before their rows are written.
	recs = slices.Clone(recs)
	var pm pullMappings
	if slices.ContainsFunc(recs, func(r crm.Pulled) bool {
		return !r.Deleted && (r.Kind == crm.KindCustomer || r.Kind == crm.KindDeal)
	}) {
		var err error
		if pm, err = loadPullMappings(ctx, tx, workspaceID, connectionID); err != nil {
			return PullApplied{}, err
		}
	}
	plans, err := planCustomers(ctx, tx, workspaceID, connectionID, recs, pm.customer)
	if err != nil {
		return PullApplied{}, err
	}
	batch := &pgx.Batch{}
	var queued []crm.Pulled
	var plan []*customerPlan
	var follows []int // the price statements queued after each record's own
	for i, r := range recs {
		if r.Kind == crm.KindDeal && !r.Deleted || r.Kind == crm.KindOrder {
			continue
		}
		sql, args, err := applySQL(workspaceID, connectionID, r)
		if err != nil {
			return PullApplied{}, fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
		}
		batch.Queue(sql, args...)
		n := 0
		if r.Kind == crm.KindProduct && !r.Deleted {
			// A price carries its product's time, so it is written only
			// over an older one, as its product is.
			for _, pr := range r.Product.Prices {
				if pr.ProductID == "" {
					pr.ProductID = r.ID
				}
				batch.Queue(priceSQL, priceArgs(connectionID, pr, r.Modified)...)
				n++
			}
		}
		queued, plan, follows = append(queued, r), append(plan, plans[i]), append(follows, n)
	}
	// A written customer's own follow-ups (bases, conflicts, its event)
	// wait for the batch's end: a batch's statements are read in order.
	type written struct {
		i        int
		id       string
		inserted bool
	}
	var customers []written
	if batch.Len() > 0 {
		br := tx.SendBatch(ctx, batch)
		for i, r := range queued {
			var applied bool
			var err error
			if liveCustomer(r) {
				w := written{i: i}
				err = br.QueryRow().Scan(&w.id, &w.inserted)
				if applied = err == nil; applied {
					customers = append(customers, w)
				} else if errors.Is(err, pgx.ErrNoRows) {
					err = nil
				}
			} else {
				var tag pgconn.CommandTag
				tag, err = br.Exec()
				applied = err == nil && tag.RowsAffected() > 0
			}
			for j := 0; err == nil && j < follows[i]; j++ {
				_, err = br.Exec()
			}
			if err != nil {
				_ = br.Close()
				return PullApplied{}, fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
			}
			got.add(counted(r, applied))
		}
		if err := br.Close(); err != nil {
			return PullApplied{}, err
		}
	}
	for _, w := range customers {
		n, err := db.customerWritten(ctx, tx, workspaceID, connectionID, queued[w.i], w.id, w.inserted, plan[w.i])
		if err != nil {
			return PullApplied{}, fmt.Errorf("customer %s: %w", queued[w.i].ID, err)
		}
		got.add(n)
	}
	for _, r := range recs {
		if r.Kind != crm.KindDeal || r.Deleted {
			continue
		}
		n, err := db.applyDeal(ctx, tx, workspaceID, connectionID, r, pm.deal)
		if err != nil {
			return PullApplied{}, fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
		}
		got.add(n)
	}
	// Orders last: the deals they are on are known by then
	// (order_pull.go).
	for _, r := range recs {
		if r.Kind != crm.KindOrder {
			continue
		}
		n, err := db.applyOrder(ctx, tx, workspaceID, connectionID, r)
		if err != nil {
			return PullApplied{}, fmt.Errorf("%s %s: %w", r.Kind, r.ID, err)
		}
		got.add(n)
	}
	return got, nil
}

func liveCustomer(r crm.Pulled) bool {
	return r.Kind == crm.KindCustomer && !r.Deleted && r.Customer != nil
}

// counted is what writing r did: applied or not.
func counted(r crm.Pulled, applied bool) PullApplied {
	var n PullApplied
	switch {
	case !applied:
		n.Skipped++
		return n
	case r.Deleted && r.Kind != crm.KindPrice:
		n.Deleted++
	}
	n.Applied++
	if r.Echo {
		n.Echoes++
	}
	return n
}

func fieldsJSON(f map[string]string) []byte {
	if len(f) == 0 {
		return []byte("{}")
	}
	b, _ := json.Marshal(f)
	return b
}

// applySQL is the statement that writes r (all but a live deal), guarded
// so that it changes nothing unless r is newer than the copy stored.
func applySQL(ws, conn string, r crm.Pulled) (string, []any, error) {
	switch {
	case r.Deleted && r.Kind == crm.KindPrice:
		return `UPDATE catalog_prices SET active = false, crm_modified = $3
			WHERE connection_id = $1 AND (entry_id = $2 OR entry_id = '' AND product_crm_id = $2) AND crm_modified < $3`,
			[]any{conn, r.ID, r.Modified}, nil
	case r.Deleted:
		table, key := "", "crm_id"
		switch r.Kind {
		case crm.KindCustomer:
			table, key = "customers", "crm_account_id"
		case crm.KindDeal:
			table = "crm_deals"
		case crm.KindProduct:
			table = "catalog_products"
		default:
			return "", nil, fmt.Errorf("unknown kind %q", r.Kind)
		}
		return `UPDATE ` + table + ` SET crm_deleted_at = $3, crm_modified = $3
			WHERE connection_id = $1 AND ` + key + ` = $2 AND (crm_modified IS NULL OR crm_modified < $3)`,
			[]any{conn, r.ID, r.Modified}, nil
	case r.Kind == crm.KindCustomer && r.Customer != nil:
		c := r.Customer
		return `
			INSERT INTO customers AS cu (workspace_id, connection_id, crm_account_id, name, email, phone, street, city,
				postal_code, region, country, crm_modified, fields)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (workspace_id, connection_id, crm_account_id) WHERE crm_account_id <> '' DO UPDATE SET
				name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone, street = EXCLUDED.street,
				city = EXCLUDED.city, postal_code = EXCLUDED.postal_code, region = EXCLUDED.region,
				country = EXCLUDED.country, crm_modified = EXCLUDED.crm_modified, crm_deleted_at = NULL,
				fields = EXCLUDED.fields, updated_at = now()
			WHERE cu.crm_modified IS NULL OR cu.crm_modified < EXCLUDED.crm_modified
			RETURNING cu.id::text, (cu.xmax = 0)`,
			[]any{ws, conn, r.ID, c.Name, c.Email, c.Phone, c.Street, c.City, c.PostalCode, c.Region, c.Country,
				r.Modified, fieldsJSON(r.Fields)}, nil
	case r.Kind == crm.KindProduct && r.Product != nil:
		p := r.Product
		return `
			INSERT INTO catalog_products AS p (connection_id, crm_id, workspace_id, sku, name, description, active, crm_modified)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (connection_id, crm_id) DO UPDATE SET
				sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description, active = EXCLUDED.active,
				crm_modified = EXCLUDED.crm_modified, crm_deleted_at = NULL
			WHERE p.crm_modified < EXCLUDED.crm_modified`,
			[]any{conn, r.ID, ws, p.SKU, p.Name, p.Description, p.Active, r.Modified}, nil
	case r.Kind == crm.KindPrice && r.Price != nil:
		return priceSQL, priceArgs(conn, *r.Price, r.Modified), nil
	}
	return "", nil, fmt.Errorf("kind %q without its data", r.Kind)
}

// applyDeal writes a live deal and, when it was newer, its contacts.
func (db *DB) applyDeal(ctx context.Context, tx pgx.Tx, ws, conn string, r crm.Pulled, mapped []qwoty.Mapping) (PullApplied, error) {
	d := r.Deal
	if d == nil {
		return PullApplied{}, fmt.Errorf("kind %q without its data", r.Kind)
	}
	var closeDate *string
	if d.CloseDate != "" {
		closeDate = &d.CloseDate
	}
	// The stage stored before, to tell a stage changed in the CRM.
	old, known := "", true
	if err := tx.QueryRow(ctx, `SELECT stage FROM crm_deals WHERE connection_id = $1 AND crm_id = $2 FOR UPDATE`,
		conn, r.ID).Scan(&old); errors.Is(err, pgx.ErrNoRows) {
		known = false
	} else if err != nil {
		return PullApplied{}, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO crm_deals AS d (connection_id, crm_id, workspace_id, name, amount, currency, stage, close_date,
			account_crm_id, crm_modified, echo, fields)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9, $10, $11, $12)
		ON CONFLICT (connection_id, crm_id) DO UPDATE SET
			name = EXCLUDED.name, amount = EXCLUDED.amount, currency = EXCLUDED.currency, stage = EXCLUDED.stage,
			close_date = EXCLUDED.close_date, account_crm_id = EXCLUDED.account_crm_id,
			crm_modified = EXCLUDED.crm_modified, crm_deleted_at = NULL, echo = EXCLUDED.echo,
			fields = EXCLUDED.fields, pulled_at = now()
		WHERE d.crm_modified < EXCLUDED.crm_modified`,
		conn, r.ID, ws, d.Name, d.Amount, strings.ToUpper(d.Currency), d.Stage, closeDate, d.AccountID,
		r.Modified, r.Echo, fieldsJSON(r.Fields))
	if err != nil {
		return PullApplied{}, err
	}
	applied := tag.RowsAffected() > 0
	n := counted(r, applied)
	if !applied {
		return n, nil
	}
	if err := applyContacts(ctx, tx, ws, conn, r.ID, d.Contacts); err != nil {
		return PullApplied{}, err
	}
	// A stage changed by someone in the CRM moves the quote (a deal seen
	// for the first time has no change to apply; Qwoty's own write coming
	// back is not an edit).
	if known && !r.Echo {
		out, err := db.applyStage(ctx, tx, ws, conn, r.ID, old, d.Stage, r.Modified)
		if err != nil {
			return PullApplied{}, err
		}
		switch out {
		case StageConflict:
			n.Conflicts++
		case StageMoved:
			n.Moved++
		}
	}
	m, err := db.applyDealMapped(ctx, tx, ws, conn, r, mapped)
	if err != nil {
		return PullApplied{}, err
	}
	n.add(m)
	return n, nil
}

const priceSQL = `
	INSERT INTO catalog_prices AS pr (connection_id, product_crm_id, currency, unit_price, entry_id, active, crm_modified)
	VALUES ($1, $2, $3, $4, $5, $6, $7)
	ON CONFLICT (connection_id, product_crm_id, currency) DO UPDATE SET
		unit_price = EXCLUDED.unit_price, entry_id = EXCLUDED.entry_id, active = EXCLUDED.active,
		crm_modified = EXCLUDED.crm_modified
	WHERE pr.crm_modified < EXCLUDED.crm_modified`

func priceArgs(conn string, p crm.PulledPrice, modified time.Time) []any {
	return []any{conn, p.ProductID, strings.ToUpper(p.Currency), p.UnitPrice, p.EntryID, p.Active, modified}
}

// applyContacts upserts a deal's contact people by email and makes them
// the deal's (others are no longer on it).
func applyContacts(ctx context.Context, tx pgx.Tx, ws, conn, deal string, cs []crm.PulledContact) error {
	emails := make([]string, 0, len(cs))
	for _, c := range cs {
		email := strings.ToLower(strings.TrimSpace(c.Email))
		if email == "" || slices.Contains(emails, email) {
			continue
		}
		emails = append(emails, email)
		if _, err := tx.Exec(ctx, `
			INSERT INTO crm_contacts AS c (connection_id, email, workspace_id, crm_id, name, phone)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (connection_id, email) DO UPDATE SET crm_id = EXCLUDED.crm_id, name = EXCLUDED.name,
				phone = EXCLUDED.phone, updated_at = now()
			WHERE (c.crm_id, c.name, c.phone) IS DISTINCT FROM (EXCLUDED.crm_id, EXCLUDED.name, EXCLUDED.phone)`,
			conn, email, ws, c.ID, c.Name, c.Phone); err != nil {
			return fmt.Errorf("contact: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO crm_deal_contacts (connection_id, deal_crm_id, email, role) VALUES ($1, $2, $3, $4)
			ON CONFLICT (connection_id, deal_crm_id, email) DO UPDATE SET role = EXCLUDED.role`,
			conn, deal, email, c.Role); err != nil {
			return fmt.Errorf("deal contact: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM crm_deal_contacts WHERE connection_id = $1 AND deal_crm_id = $2 AND NOT email = ANY($3)`,
		conn, deal, emails); err != nil {
		return fmt.Errorf("deal contacts: %w", err)
	}
	return nil
}

// WebhookEvent is one change a CRM's webhook announced.
type WebhookEvent struct {
	// ID is the CRM's id of the event (HubSpot's eventId, Pipedrive's
	// meta id): a delivery seen before is dropped.
	ID string
	// Kind and RecordID are the record that changed (crm.KindDeal, ...).
	Kind     string
	RecordID string
}

// TakeWebhook records a webhook delivery's events and, for those never
// seen before, queues a fetch of their records, in one transaction: a
// duplicate or a redelivery queues nothing. It returns how many events
// were new. The fetch reads each record's current state from the CRM, so
// deliveries out of order converge on the same copy.
func (db *DB) TakeWebhook(ctx context.Context, provider, connectionID string, events []WebhookEvent) (int, error) {
	var taken int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		byKind := map[string][]string{}
		for _, ev := range events {
			if ev.ID == "" || ev.RecordID == "" || ev.Kind == "" {
				continue
			}
			tag, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (provider, event_id, connection_id) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, provider, ev.ID, connectionID)
			if err != nil {
				return fmt.Errorf("delivery: %w", err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			taken++
			if !slices.Contains(byKind[ev.Kind], ev.RecordID) {
				byKind[ev.Kind] = append(byKind[ev.Kind], ev.RecordID)
			}
		}
		kinds := make([]string, 0, len(byKind))
		for k := range byKind {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			ids := byKind[k]
			slices.Sort(ids)
			if _, err := db.jobs.InsertTx(ctx, tx, jobs.SyncPull{ConnectionID: connectionID, RecordKind: k, IDs: ids}, nil); err != nil {
				return fmt.Errorf("insert pull job: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: webhook: %w", err)
	}
	return taken, nil
}

// QueuePull queues a connection's poll (every stream from its mark), or a
// fetch of ids of kind.
func (db *DB) QueuePull(ctx context.Context, connectionID, kind string, ids []string) error {
	if _, err := db.jobs.Insert(ctx, jobs.SyncPull{ConnectionID: connectionID, RecordKind: kind, IDs: ids}, nil); err != nil {
		return fmt.Errorf("store: queue pull: %w", err)
	}
	return nil
}

// PullDueConnections lists the active connections of providers (the CRMs
// that pull) whose last poll began, completed or failed before every ago,
// or that never polled, for the leader to queue their poll. A poll's time
// is the newest of its streams' listing starts, completions and failures:
// not the time of its pages, which a long listing writes for a while.
func (db *DB) PullDueConnections(ctx context.Context, every time.Duration, providers []qwoty.Provider) ([]string, error) {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = string(p)
	}
	rows, err := db.pool.Query(ctx, `SELECT c.id::text FROM connections c WHERE c.status = 'active' AND c.provider = ANY($2)
		AND NOT EXISTS (SELECT 1 FROM pull_cursors p WHERE p.connection_id = c.id
			AND greatest(p.last_complete_at, p.listing_started, CASE WHEN p.last_error <> '' THEN p.updated_at END)
				> now() - $1 * interval '1 millisecond')
		ORDER BY c.id`, every.Milliseconds(), names)
	if err != nil {
		return nil, fmt.Errorf("store: pull due: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: pull due: %w", err)
	}
	return ids, nil
}

// PruneWebhookDeliveries forgets deliveries received before before (a
// CRM retries for hours, not days).
func (db *DB) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE received_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	return tag.RowsAffected(), nil
}
