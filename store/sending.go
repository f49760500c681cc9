package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/qwoty"
)

// Sending a quote and the customer's page (docs/customer-page.md): a send
// makes a customer link, moves the quote to sent through the domain and the
// shared update path (sync capture and webhook events in the same
// transaction), records the send, and queues its email as a River job in
// that transaction; the page's first real view and the customer's answer
// go through the same path.

// Limits of a customer's page (docs/customer-page.md); a send's own are
// qwoty.CheckSend's.
const (
	MaxFullNameChars  = 200
	MaxReasonChars    = 2000
	MaxUserAgentChars = 512
	// LinkMinLife is how long a link lives at least; it lives until the end
	// of the quote's valid-until day when that is later.
	LinkMinLife = 90 * 24 * time.Hour
	// linkTokenBytes is a link token's randomness: 256 bits.
	linkTokenBytes = 32
)

// CustomerLink is a customer link, found by its token's hash.
type CustomerLink struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	QuoteID      string
	RecordID     string
	Revision     int
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Scope is the quote's scope, which every read and write of the page uses.
func (l *CustomerLink) Scope() Scope {
	return Scope{WorkspaceID: l.WorkspaceID, ConnectionID: l.ConnectionID, RecordID: l.RecordID}
}

// newLinkToken returns a new link token (32 random bytes, base64url without
// padding: 43 characters) and its SHA-256, which is all the database keeps.
func newLinkToken() (string, []byte) {
	b := make([]byte, linkTokenBytes)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

// linkTokenHash is the hash a token is looked up by, or false for a string
// that cannot be a token (no query is made for it).
func linkTokenHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(linkTokenBytes) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], true
}

// LinkExpiry is when a link made at now for a quote valid until validUntil
// stops working: the later of the end of the valid-until day (UTC) and
// LinkMinLife after now.
func LinkExpiry(now time.Time, validUntil *time.Time) time.Time {
	exp := now.Add(LinkMinLife)
	if validUntil != nil {
		if end := validEnd(*validUntil); end.After(exp) {
			exp = end
		}
	}
	return exp
}

// validEnd is the end of a valid-until day (UTC): the offer holds through
// that day.
func validEnd(validUntil time.Time) time.Time {
	v := validUntil.UTC()
	return time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

// Contact is one of a deal's contacts, as pulled from its CRM.
type Contact struct {
	Email string
	Name  string
	Role  string
}

// DealContacts lists the contacts of the scope's record (a deal), as the
// last pull from the CRM left them.
func (db *DB) DealContacts(ctx context.Context, s Scope) ([]Contact, error) {
	rows, err := db.pool.Query(ctx, `SELECT dc.email, c.name, dc.role FROM crm_deal_contacts dc
		JOIN crm_contacts c ON c.connection_id = dc.connection_id AND c.email = dc.email AND c.workspace_id = $1
		WHERE dc.connection_id = $2 AND dc.deal_crm_id = $3
		ORDER BY c.name, dc.email LIMIT 200`, s.WorkspaceID, s.ConnectionID, s.RecordID)
	if err != nil {
		return nil, fmt.Errorf("store: contacts of record %s: %w", s.RecordID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) {
		var c Contact
		return c, r.Scan(&c.Email, &c.Name, &c.Role)
	})
	if err != nil {
		return nil, fmt.Errorf("store: contacts of record %s: %w", s.RecordID, err)
	}
	return out, nil
}

// SendInput is a checked send form (the server checks addresses, counts
// and lengths before; the database's constraints hold them too).
type SendInput struct {
	// SentBy names the rep on the quote's history (their name, else their
	// CRM user id).
	SentBy     string
	Recipients []string
	Subject    string
	Message    string
}

// SendQuote sends quote id of the scope, as of version (0: any): a draft
// moves to sent (qwoty.Quote.Transition), a sent or viewed quote is sent
// again as it is; it must have lines. In the same transaction it makes the
// customer link, records the send and queues its email (jobs.QuoteMail,
// the token sealed with the server's key: the email is the token's only
// readable copy). It returns the quote and the link's token.
func (db *DB) SendQuote(ctx context.Context, s Scope, id string, version int, by string, in SendInput, now time.Time) (*qwoty.Quote, string, error) {
	var out *qwoty.Quote
	token, hash := newLinkToken()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		_, out, err = db.updateQuote(ctx, tx, s, id, version, by, func(q *qwoty.Quote) error {
			if len(q.Lines) == 0 {
				return qwoty.E(qwoty.CodeQuoteEmpty, "%s has no lines, so there is nothing to send", q.Number)
			}
			if q.Status == qwoty.StatusSent || q.Status == qwoty.StatusViewed {
				return nil // sent again, to more people or once more
			}
			return q.Transition(qwoty.StatusSent)
		})
		if err != nil {
			return err
		}
		linkID, sendID := newID(), newID()
		if _, err := tx.Exec(ctx, `INSERT INTO quote_links (id, workspace_id, connection_id, quote_id, crm_record_id, token_hash, revision, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			linkID, s.WorkspaceID, s.ConnectionID, out.ID, s.RecordID, hash, out.Revision, now, LinkExpiry(now, out.ValidUntil)); err != nil {
			return fmt.Errorf("insert link: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO quote_sends (id, workspace_id, connection_id, quote_id, link_id, revision, recipients, subject, message, sent_by, sent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			sendID, s.WorkspaceID, s.ConnectionID, out.ID, linkID, out.Revision, in.Recipients, in.Subject, in.Message, sentBy(in.SentBy, by), now); err != nil {
			return fmt.Errorf("insert send: %w", err)
		}
		sealed, err := db.keys.Seal([]byte(token), []byte("quote_link:"+linkID))
		if err != nil {
			return err
		}
		if _, err := db.jobs.InsertTx(ctx, tx, jobs.QuoteMail{SendID: sendID, SealedToken: sealed}, nil); err != nil {
			return fmt.Errorf("queue the email: %w", err)
		}
		return audit(ctx, tx, s.WorkspaceID, s.ConnectionID, by, "quote.sent_to_customer",
			map[string]any{"quote": out.Number, "revision": out.Revision, "recipients": len(in.Recipients)})
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: send quote %s: %w", id, err)
	}
	return out, token, nil
}

func sentBy(name, id string) string {
	if name = strings.TrimSpace(name); name != "" {
		return cutRunes(name, 200)
	}
	return id
}

// linkNotFound is the answer to a token that names no link.
func linkNotFound() error {
	return &qwoty.Error{Code: qwoty.CodeNotFound, Message: "This link does not lead to a quote.",
		Hint: "Check that the whole link was copied from the email, or ask the sender for a new one.", Err: qwoty.ErrNotFound}
}

// QuoteLink finds the link of token, by its hash (the token is never
// compared: an index lookup of its SHA-256 tells nothing about other
// tokens). An unknown token is not_found, an expired link link_expired.
func (db *DB) QuoteLink(ctx context.Context, token string, now time.Time) (*CustomerLink, error) {
	hash, ok := linkTokenHash(token)
	if !ok {
		return nil, linkNotFound()
	}
	var l CustomerLink
	// The quote's record, not the link's: a quote sent before it had a
	// record is moved onto the deal made for it (docs/deals.md), and its
	// link still leads to it.
	err := db.pool.QueryRow(ctx, `SELECT l.id, l.workspace_id, l.connection_id, l.quote_id, q.crm_record_id, l.revision, l.created_at, l.expires_at
		FROM quote_links l JOIN quotes q ON q.id = l.quote_id AND q.workspace_id = l.workspace_id AND q.connection_id = l.connection_id
		WHERE l.token_hash = $1 AND q.deleted_at IS NULL`, hash).
		Scan(&l.ID, &l.WorkspaceID, &l.ConnectionID, &l.QuoteID, &l.RecordID, &l.Revision, &l.CreatedAt, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, linkNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("store: find link: %w", err)
	}
	if !now.Before(l.ExpiresAt) {
		return nil, qwoty.E(qwoty.CodeLinkExpired, "This link to the quote expired on %s.", l.ExpiresAt.UTC().Format("2 January 2006"))
	}
	return &l, nil
}

// LinkQuote is the link's quote, read in its scope.
func (db *DB) LinkQuote(ctx context.Context, l *CustomerLink) (*qwoty.Quote, error) {
	return db.GetQuote(ctx, l.Scope(), l.QuoteID)
}

// Visitor is who opened or answered the page.
type Visitor struct {
	IP        string
	UserAgent string
}

func (v Visitor) clean() Visitor {
	v.UserAgent = cutRunes(strings.ToValidUTF8(v.UserAgent, ""), MaxUserAgentChars)
	v.IP = cutRunes(v.IP, 64)
	return v
}

func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// MarkViewed records the link's first real view (the page's script
// reported it) and, when it is the quote's first and the quote is sent,
// moves it to viewed through the shared update path. A later view of the
// same link changes nothing. It reports whether this view was the link's
// first.
func (db *DB) MarkViewed(ctx context.Context, l *CustomerLink, v Visitor, now time.Time) (bool, error) {
	v = v.clean()
	first := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO quote_views (link_id, workspace_id, connection_id, quote_id, viewed_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (link_id) DO NOTHING`,
			l.ID, l.WorkspaceID, l.ConnectionID, l.QuoteID, now, v.IP, v.UserAgent)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		first = true
		q, err := getQuote(ctx, tx, l.Scope(), l.QuoteID, false)
		if err != nil || q.Status != qwoty.StatusSent {
			return err
		}
		_, _, err = db.updateQuote(ctx, tx, l.Scope(), l.QuoteID, 0, "customer", func(q *qwoty.Quote) error {
			if q.Status != qwoty.StatusSent {
				return nil // moved on since it was read
			}
			return q.Transition(qwoty.StatusViewed)
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: mark quote %s viewed: %w", l.QuoteID, err)
	}
	return first, nil
}

// Decision is a customer's answer on the page.
type Decision struct {
	Accept bool
	// VersionHash is the qwoty.VersionHash of the version the page showed.
	VersionHash string
	FullName    string
	Consent     bool
	Reason      string
	Visitor
}

// Decide records the customer's answer to the version the page showed and
// moves the quote to accepted or rejected through the shared update path
// (sync to the CRM, webhook events). A version that is no longer the
// quote's current one is refused with quote_changed, a quote past its
// valid-until date with link_expired.
func (db *DB) Decide(ctx context.Context, l *CustomerLink, d Decision, now time.Time) (*qwoty.Quote, error) {
	d.Visitor = d.Visitor.clean()
	if d.Accept && (strings.TrimSpace(d.FullName) == "" || !d.Consent) {
		return nil, qwoty.E(qwoty.CodeValidation, "Type your full name and tick the consent box to accept.")
	}
	next, word := qwoty.StatusRejected, "rejected"
	if d.Accept {
		next, word = qwoty.StatusAccepted, "accepted"
	}
	var out *qwoty.Quote
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var was *qwoty.Quote
		var err error
		was, out, err = db.updateQuote(ctx, tx, l.Scope(), l.QuoteID, 0, "customer", func(q *qwoty.Quote) error {
			if q.Status != qwoty.StatusSent && q.Status != qwoty.StatusViewed {
				return qwoty.E(qwoty.CodeQuoteChanged, "This quote is %s: it can no longer be accepted or rejected here.", q.Status.Label())
			}
			if Expired(q, now) {
				return qwoty.E(qwoty.CodeLinkExpired, "This quote expired: it was valid until %s.", q.ValidUntil.UTC().Format("2 January 2006"))
			}
			if qwoty.VersionHash(q) != d.VersionHash {
				return qwoty.E(qwoty.CodeQuoteChanged, "This quote changed since you opened the page, so your answer was not recorded.")
			}
			return q.Transition(next)
		})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO quote_decisions (id, workspace_id, connection_id, quote_id, link_id, decision, revision, version_hash,
				full_name, consent, reason, decided_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			newID(), l.WorkspaceID, l.ConnectionID, l.QuoteID, l.ID, word, was.Revision, d.VersionHash,
			d.FullName, d.Consent, d.Reason, now, d.IP, d.UserAgent)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: record the answer to quote %s: %w", l.QuoteID, err)
	}
	return out, nil
}

// Expired reports whether q is past its valid-until day at now (UTC), or
// expired.
func Expired(q *qwoty.Quote, now time.Time) bool {
	if q.Status == qwoty.StatusExpired {
		return true
	}
	if q.ValidUntil == nil {
		return false
	}
	return !now.Before(validEnd(*q.ValidUntil))
}

// SendRecord is one send on a quote's history.
type SendRecord struct {
	Revision   int
	Recipients []string
	Subject    string
	By         string
	At         time.Time
	MailState  string
	MailError  string
}

// ViewRecord is the first real view of one link.
type ViewRecord struct {
	At        time.Time
	IP        string
	UserAgent string
}

// DecisionRecord is a customer's answer.
type DecisionRecord struct {
	Decision    string // accepted, rejected
	Revision    int
	VersionHash string
	FullName    string
	Reason      string
	At          time.Time
	IP          string
	UserAgent   string
}

// History is what happened to a quote with its customer.
type History struct {
	Sends     []SendRecord
	Views     []ViewRecord
	Decisions []DecisionRecord
}

// QuoteHistory is quote id's sends, views and answers, oldest first.
func (db *DB) QuoteHistory(ctx context.Context, s Scope, id string) (*History, error) {
	if _, err := getQuoteHeader(ctx, db.pool, s, id, false); err != nil {
		return nil, fmt.Errorf("store: history of quote %s: %w", id, err)
	}
	var h History
	rows, err := db.pool.Query(ctx, `SELECT revision, recipients, subject, sent_by, sent_at, mail_state, mail_error FROM quote_sends
		WHERE quote_id = $1 AND workspace_id = $2 AND connection_id = $3 ORDER BY sent_at, id LIMIT 500`, id, s.WorkspaceID, s.ConnectionID)
	if err != nil {
		return nil, err
	}
	if h.Sends, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SendRecord, error) {
		var x SendRecord
		return x, r.Scan(&x.Revision, &x.Recipients, &x.Subject, &x.By, &x.At, &x.MailState, &x.MailError)
	}); err != nil {
		return nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT viewed_at, ip, user_agent FROM quote_views
		WHERE quote_id = $1 AND workspace_id = $2 AND connection_id = $3 ORDER BY viewed_at LIMIT 500`, id, s.WorkspaceID, s.ConnectionID)
	if err != nil {
		return nil, err
	}
	if h.Views, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ViewRecord, error) {
		var x ViewRecord
		return x, r.Scan(&x.At, &x.IP, &x.UserAgent)
	}); err != nil {
		return nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT decision, revision, version_hash, full_name, reason, decided_at, ip, user_agent FROM quote_decisions
		WHERE quote_id = $1 AND workspace_id = $2 AND connection_id = $3 ORDER BY decided_at LIMIT 500`, id, s.WorkspaceID, s.ConnectionID)
	if err != nil {
		return nil, err
	}
	if h.Decisions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DecisionRecord, error) {
		var x DecisionRecord
		return x, r.Scan(&x.Decision, &x.Revision, &x.VersionHash, &x.FullName, &x.Reason, &x.At, &x.IP, &x.UserAgent)
	}); err != nil {
		return nil, err
	}
	return &h, nil
}

// QuoteMail is what a send's email job needs.
type QuoteMail struct {
	SendID        string
	LinkID        string
	WorkspaceName string
	QuoteNumber   string
	QuoteTitle    string
	Recipients    []string
	Subject       string
	Message       string
	MailState     string
}

// QuoteMailOf reads send id's email.
func (db *DB) QuoteMailOf(ctx context.Context, sendID string) (*QuoteMail, error) {
	m := QuoteMail{SendID: sendID}
	err := db.pool.QueryRow(ctx, `SELECT s.link_id, w.name, q.number, q.title, s.recipients, s.subject, s.message, s.mail_state
		FROM quote_sends s JOIN quotes q ON q.id = s.quote_id AND q.workspace_id = s.workspace_id
		JOIN workspaces w ON w.id = s.workspace_id WHERE s.id = $1`, sendID).
		Scan(&m.LinkID, &m.WorkspaceName, &m.QuoteNumber, &m.QuoteTitle, &m.Recipients, &m.Subject, &m.Message, &m.MailState)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: send %s: %w", sendID, qwoty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: send %s: %w", sendID, err)
	}
	return &m, nil
}

// OpenLinkToken opens the token a send's job carries, sealed for its link.
func (db *DB) OpenLinkToken(sealed []byte, linkID string) (string, error) {
	b, err := db.keys.Open(sealed, []byte("quote_link:"+linkID))
	return string(b), err
}

// SetMailResult records what the mail server made of a send's email:
// state is sent, partial or failed, detail the failure (no secret in it).
func (db *DB) SetMailResult(ctx context.Context, sendID, state, detail string, now time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE quote_sends SET mail_state = $2, mail_error = $3, mailed_at = $4 WHERE id = $1`,
		sendID, state, cutRunes(detail, 1000), now)
	if err != nil {
		return fmt.Errorf("store: mail result of send %s: %w", sendID, err)
	}
	return nil
}

// Logo limits (docs/customer-page.md).
const MaxLogoBytes = 256 << 10

// WorkspaceLogo is a workspace's logo and its type, or nil and "" when it
// has none.
func (db *DB) WorkspaceLogo(ctx context.Context, workspaceID string) ([]byte, string, error) {
	var data []byte
	var ct string
	err := db.pool.QueryRow(ctx, `SELECT data, content_type FROM workspace_logos WHERE workspace_id = $1`, workspaceID).Scan(&data, &ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: logo of workspace %s: %w", workspaceID, err)
	}
	return data, ct, nil
}

// SetWorkspaceLogo stores a workspace's logo, checked by the caller
// (type and size); nil data removes it.
func (db *DB) SetWorkspaceLogo(ctx context.Context, workspaceID, contentType string, data []byte, by string) error {
	var err error
	if data == nil {
		_, err = db.pool.Exec(ctx, `DELETE FROM workspace_logos WHERE workspace_id = $1`, workspaceID)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO workspace_logos (workspace_id, content_type, data, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (workspace_id) DO UPDATE SET content_type = $2, data = $3, updated_by = $4, updated_at = now()`,
			workspaceID, contentType, data, by)
	}
	if err != nil {
		return fmt.Errorf("store: set logo of workspace %s: %w", workspaceID, err)
	}
	return nil
}
