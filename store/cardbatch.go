package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/qwoty/companion/qwoty"
)

// Card requests arriving together share one statement ("smart batching"):
// a worker takes every request waiting at that moment, claims all their
// nonces, upserts their customers and lists their quotes in one round trip,
// and hands each request its own result. An idle server runs a batch of one
// at once, so batching adds no latency when there is nothing to share.
//
// Most of a batch's database cost is per statement, not per request (on this
// project's machines 300-400 µs of backend CPU a statement under load
// against a few µs a request), so the workers prefer fewer, larger batches:
// a batch starts at once when no other is running, and a second one runs
// beside it only when cardBatchOverlap requests are already waiting. Under
// load that doubles the requests a statement carries compared with workers
// that each take what is there, without serialising on one statement.
const (
	cardBatchWorkers = 2
	cardBatchMax     = 64
	cardBatchOverlap = 16
	cardBatchTimeout = 5 * time.Second
)

type cardJob struct {
	ctx  context.Context
	req  CardRequest
	done chan cardJobResult
}

type cardJobResult struct {
	res CardResult
	err error
}

type cardBatcher struct {
	db   *DB
	stop chan struct{}

	mu      sync.Mutex
	wake    *sync.Cond // a job was queued, a batch ended, or the batcher closed
	queue   []cardJob
	running int // batches in flight
	closed  bool

	batches, requests atomic.Int64
}

// CardBatchStats reports how many batches ran and how many requests they
// carried since start (the load benchmark prints the average).
func (db *DB) CardBatchStats() (batches, requests int64) {
	return db.cards.batches.Load(), db.cards.requests.Load()
}

func newCardBatcher(db *DB) *cardBatcher {
	b := &cardBatcher{db: db, stop: make(chan struct{})}
	b.wake = sync.NewCond(&b.mu)
	for range cardBatchWorkers {
		go b.work()
	}
	return b
}

func (b *cardBatcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.stop)
		b.wake.Broadcast()
	}
	b.mu.Unlock()
}

// errClosed answers requests made after Close.
var errClosed = errors.New("store: closed")

// do queues a request and waits for its result, its context, or Close.
func (b *cardBatcher) do(ctx context.Context, r CardRequest) (CardResult, error) {
	if err := ctx.Err(); err != nil {
		return CardResult{}, err
	}
	job := cardJob{ctx: ctx, req: r, done: make(chan cardJobResult, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return CardResult{}, errClosed
	}
	b.queue = append(b.queue, job)
	b.wake.Signal()
	b.mu.Unlock()
	select {
	case out := <-job.done:
		return out.res, out.err
	case <-ctx.Done():
		return CardResult{}, ctx.Err() // the worker skips it, or its result is dropped
	case <-b.stop:
		return CardResult{}, errClosed
	}
}

// ready says whether a worker may start a batch now (b.mu held).
func (b *cardBatcher) ready() bool {
	return len(b.queue) > 0 && (b.running == 0 || len(b.queue) >= cardBatchOverlap)
}

func (b *cardBatcher) work() {
	batch := make([]cardJob, 0, cardBatchMax)
	b.mu.Lock()
	for {
		for !b.closed && !b.ready() {
			b.wake.Wait()
		}
		if b.closed {
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), cardBatchMax)
		batch = append(batch[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.running++
		b.mu.Unlock()

		b.run(batch)
		clear(batch) // drop the finished requests' contexts

		b.mu.Lock()
		b.running--
		b.wake.Broadcast() // requests left waiting may start a batch now
	}
}

// run executes one batch. Requests whose caller gave up are left out; a
// nonce repeated within the batch is a replay for all but its first use (an
// empty nonce, of a request that is not single-use, is never one).
func (b *cardBatcher) run(batch []cardJob) {
	type key struct{ conn, nonce string }
	seen := make(map[key]bool, len(batch))
	live := make([]cardJob, 0, len(batch))
	for _, j := range batch {
		if j.ctx.Err() != nil {
			j.done <- cardJobResult{err: j.ctx.Err()}
			continue
		}
		if err := j.req.check(); err != nil { // it would fail the statement, and the batch with it
			j.done <- cardJobResult{err: err}
			continue
		}
		if k := (key{j.req.ConnectionID, j.req.Nonce}); k.nonce != "" {
			if seen[k] {
				j.done <- cardJobResult{res: CardResult{Status: qwoty.ConnectionActive, Claimed: false}}
				continue
			}
			seen[k] = true
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	b.batches.Add(1)
	b.requests.Add(int64(len(live)))
	ctx, cancel := context.WithTimeout(context.Background(), cardBatchTimeout)
	defer cancel()
	results, err := b.db.claimAndListBatch(ctx, live)
	for i, j := range live {
		if err != nil {
			j.done <- cardJobResult{err: err}
			continue
		}
		j.done <- cardJobResult{res: results[i]}
	}
}

// check refuses a request the batch statement could not take: ids that are
// not ours, text PostgreSQL cannot store (NUL, invalid UTF-8). Callers
// validate their input first; this keeps one bad request from failing the
// others that share its statement.
func (r *CardRequest) check() error {
	if !validID(r.ConnectionID) || !validID(r.WorkspaceID) {
		return fmt.Errorf("store: card request with malformed ids: connection %q, workspace %q", r.ConnectionID, r.WorkspaceID)
	}
	for _, s := range [...]string{r.Nonce, r.AccountID, r.AccountName, r.RecordID} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return qwoty.Errorf(qwoty.CodeBadRequest, "Send text without NUL characters, in UTF-8.",
				"the record's text cannot be stored (a NUL character or invalid UTF-8)")
		}
	}
	return nil
}

// cardBatchSQL does a whole batch in one statement. Its input is one row per
// request ($1..$9 are parallel arrays; ids travel as text, which pgx encodes
// in binary, and become uuids here); its output one row per quote (or one
// row with no quote, its id empty) per request, tagged with the request's
// ordinal, with no NULLs to scan. Customers and quotes are those of the
// request's connection (store.Scope says why).
//
// Each quote carries its sync state (syncViewColumns, the same rule as the
// quote's page): the record's outbox row is one primary-key lookup per
// request, joined before the quotes so that it is read once per record,
// not once per quote. A row without a quote reads whatever that row holds;
// its values are never used.
//
// A request is claimed when its nonce is new (n returned it) or, for a
// request that is not single-use (an empty nonce: HubSpot, Pipedrive),
// when its connection serves cards: such a request writes no nonce, and
// the status is still read in the same statement. The condition is written
// out where it is used (the customer upsert, the claimed column, the
// quotes' join) rather than kept in one more CTE, so the statement's plan
// stays the one measured.
const cardBatchSQL = `
WITH input AS (
	SELECT t.ord, t.connection_id::uuid AS connection_id, t.nonce, t.expires_at, t.workspace_id::uuid AS workspace_id,
	       t.account_id, t.account_name, t.record_id, t.lim
	FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[])
		AS t(ord, connection_id, nonce, expires_at, workspace_id, account_id, account_name, record_id, lim)
), st AS (
	SELECT i.ord, c.status, coalesce(c.status <> 'disconnected', false) AS serves
	FROM input i LEFT JOIN connections c ON c.id = i.connection_id
), n AS (
	INSERT INTO seen_nonces (connection_id, nonce, expires_at)
	SELECT i.connection_id, i.nonce, i.expires_at FROM input i JOIN st ON st.ord = i.ord
	WHERE st.serves AND i.nonce <> ''
	ON CONFLICT DO NOTHING
	RETURNING connection_id, nonce
), c AS (
	INSERT INTO customers (workspace_id, connection_id, crm_account_id, name)
	SELECT DISTINCT ON (i.workspace_id, i.connection_id, i.account_id) i.workspace_id, i.connection_id, i.account_id, i.account_name
	FROM input i JOIN st ON st.ord = i.ord
	LEFT JOIN n ON n.connection_id = i.connection_id AND n.nonce = i.nonce
	WHERE (n.nonce IS NOT NULL OR i.nonce = '' AND st.serves) AND i.account_id <> ''
	  AND NOT EXISTS (SELECT 1 FROM customers cu WHERE cu.workspace_id = i.workspace_id AND cu.connection_id = i.connection_id
	                  AND cu.crm_account_id = i.account_id AND (cu.name = i.account_name OR i.account_name = ''))
	ORDER BY i.workspace_id, i.connection_id, i.account_id, i.ord DESC
	ON CONFLICT (workspace_id, connection_id, crm_account_id) WHERE crm_account_id <> '' DO UPDATE SET name = EXCLUDED.name, updated_at = now()
	WHERE EXCLUDED.name <> '' AND customers.name IS DISTINCT FROM EXCLUDED.name
	RETURNING 1
)
SELECT i.ord, coalesce(st.status, ''), (n.nonce IS NOT NULL OR i.nonce = '' AND st.serves),
       coalesce(q.id::text, ''), coalesce(q.number, ''), coalesce(q.title, ''), coalesce(q.status, ''),
       coalesce(q.currency, ''), coalesce(q.total, 0), coalesce(q.updated_at, 'epoch'),
       coalesce(q.is_primary, false), ` + syncViewColumns + `
FROM input i
JOIN st ON st.ord = i.ord
LEFT JOIN n ON n.connection_id = i.connection_id AND n.nonce = i.nonce
LEFT JOIN LATERAL (
	SELECT connection_id, synced_seq, state, synced_at, last_error_code, last_error, warning FROM sync_records
	WHERE connection_id = i.connection_id AND crm_record_id = i.record_id
) sr ON true
LEFT JOIN LATERAL (
	SELECT id, number, title, status, currency, total, updated_at, is_primary, sync_seq FROM quotes
	WHERE workspace_id = i.workspace_id AND connection_id = i.connection_id AND crm_record_id = i.record_id AND deleted_at IS NULL
	ORDER BY updated_at DESC LIMIT i.lim
) q ON (n.nonce IS NOT NULL OR i.nonce = '' AND st.serves)
ORDER BY i.ord, q.updated_at DESC`

func (db *DB) claimAndListBatch(ctx context.Context, jobs []cardJob) ([]CardResult, error) {
	n := len(jobs)
	ord := make([]int32, n)
	conn, nonce, account, accountName, record := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ws := make([]string, n)
	expires := make([]time.Time, n)
	limit := make([]int32, n)
	for i, j := range jobs {
		r := j.req
		ord[i], conn[i], nonce[i], expires[i], ws[i] = int32(i), r.ConnectionID, r.Nonce, r.NonceExpires, r.WorkspaceID
		account[i], accountName[i], record[i], limit[i] = r.AccountID, r.AccountName, r.RecordID, int32(r.Limit)
		if limit[i] <= 0 {
			limit[i] = 50
		}
	}
	rows, err := db.cardPool.Query(ctx, cardBatchSQL, ord, conn, nonce, expires, ws, account, accountName, record, limit)
	if err != nil {
		return nil, fmt.Errorf("store: card batch of %d: %w", n, err)
	}
	defer rows.Close()
	// Rows come in request order: each request's quotes are a window of one
	// slice, so a batch allocates its quotes once, not per request.
	out := make([]CardResult, n)
	quotes := make([]ListedQuote, 0, 4*n)
	span := make([][2]int, n) // request i's quotes are quotes[span[i][0]:span[i][1]]
	var (
		i               int32
		status, qstatus string
		claimed         bool
		q               ListedQuote
	)
	dest := []any{&i, &status, &claimed, &q.ID, &q.Number, &q.Title, &qstatus, &q.Currency, &q.Total, &q.UpdatedAt,
		&q.Primary, &q.Sync.State, &q.Sync.At, &q.Sync.Code, &q.Sync.Error, &q.Sync.Warning}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: card batch of %d: %w", n, err)
		}
		if i < 0 || int(i) >= n {
			return nil, fmt.Errorf("store: card batch of %d: row for request %d", n, i)
		}
		out[i].Status, out[i].Claimed = qwoty.ConnectionStatus(status), claimed
		if q.ID != "" {
			if span[i][1] == 0 {
				span[i][0] = len(quotes)
			}
			q.Status = qwoty.Status(qstatus)
			quotes = append(quotes, q)
			span[i][1] = len(quotes)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: card batch of %d: %w", n, err)
	}
	for i, sp := range span {
		if sp[1] > 0 {
			out[i].Quotes = quotes[sp[0]:sp[1]:sp[1]]
		}
	}
	return out, nil
}
