package cardview

import (
	"context"
	"fmt"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Store is what the card core needs from storage.
type Store interface {
	crm.ConnectionLookup
	ConnectionByID(ctx context.Context, id string) (*qwoty.Connection, error)
	ClaimAndList(ctx context.Context, r store.CardRequest) (store.CardResult, error)
	ClaimNonce(ctx context.Context, connectionID, nonce string, expires time.Time) (qwoty.ConnectionStatus, bool, error)
}

// connectionCacheTTL bounds how long a cached connection is trusted before it
// is read again (see connectionCache for why staleness is safe).
const connectionCacheTTL = 30 * time.Second

// Service runs the signed-embed flow for every CRM, each through its
// adapter.
type Service struct {
	store  Store
	crms   *crm.Registry
	conns  *connectionCache
	tokens *Tokens
	appURL string
	now    func() time.Time
}

// NewService builds the card service for the CRMs of crms. appURL is the
// public base URL.
func NewService(st Store, crms *crm.Registry, tokens *Tokens, appURL string, now func() time.Time) *Service {
	return &Service{store: st, crms: crms, conns: newConnectionCache(st, connectionCacheTTL, now), tokens: tokens, appURL: appURL, now: now}
}

// Tokens returns the token issuer the service uses.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Answer is the card data every CRM's endpoint returns, in its own shape.
// Its JSON (AppendJSON) is the Salesforce callout's answer of contract §1.
type Answer struct {
	EmbedURL  string         `json:"embedUrl"`
	ExpiresAt time.Time      `json:"expiresAt"`
	Record    AnswerRecord   `json:"record"`
	Quotes    []QuoteSummary `json:"quotes"`
	// ConnectionID is for our logs, not the wire.
	ConnectionID string `json:"-"`
}

// AnswerRecord names the record the answer is for.
type AnswerRecord struct {
	ID string `json:"id"`
}

// QuoteSummary is one quote as the CRM's own UI lists it.
type QuoteSummary struct {
	ID        string       `json:"id"`
	Number    string       `json:"number"`
	Title     string       `json:"title"`
	Status    qwoty.Status `json:"status"`
	Total     string       `json:"total"`
	Currency  string       `json:"currency"`
	UpdatedAt time.Time    `json:"updatedAt"`
	// The quote's URL is the answer's (QuoteURL), built as it is written.
	// Primary and Sync were added with sync (issue 13), after url.
	Primary bool      `json:"primary"`
	Sync    QuoteSync `json:"sync"`
}

// QuoteSync is where a quote stands with the CRM, as the CRM's own UI
// shows it: State "synced", "pending", "failed" or "" (never bound for the
// CRM); At, when its record was last pushed (omitted when never); Code and
// Message, why it failed or waits (sync_reconnect: an admin must reconnect).
type QuoteSync struct {
	State   qwoty.SyncState `json:"state"`
	At      time.Time       `json:"at,omitzero"`
	Code    qwoty.Code      `json:"code"`
	Message string          `json:"message"`
}

// quoteSync is a quote's sync view as the answer carries it.
func quoteSync(v qwoty.SyncView) QuoteSync {
	s := QuoteSync{State: v.State, Code: v.Code, Message: v.Error}
	if v.At.Unix() > 0 { // the store reads "never" as the epoch
		s.At = v.At.UTC()
	}
	return s
}

// QuoteURL is the card page opened on one quote.
func (a *Answer) QuoteURL(quoteID string) string { return a.EmbedURL + "&quote=" + quoteID }

// AppendJSON appends the answer's JSON, each quote with its url.
func (a *Answer) AppendJSON(b []byte) []byte {
	b = appendJSONField(append(b, '{'), true, "embedUrl", a.EmbedURL)
	b = append(b, `,"expiresAt":`...)
	b = appendJSONTime(b, a.ExpiresAt)
	b = appendJSONField(append(b, `,"record":{`...), true, "id", a.Record.ID)
	b = append(b, `},"quotes":[`...)
	for i, q := range a.Quotes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONField(append(b, '{'), true, "id", q.ID)
		b = appendJSONField(b, false, "number", q.Number)
		b = appendJSONField(b, false, "title", q.Title)
		b = appendJSONField(b, false, "status", string(q.Status))
		b = appendJSONField(b, false, "total", q.Total)
		b = appendJSONField(b, false, "currency", q.Currency)
		b = append(b, `,"updatedAt":`...)
		b = appendJSONTime(b, q.UpdatedAt)
		b = appendJSONChars(append(b, `,"url":"`...), a.EmbedURL) // QuoteURL, unjoined
		b = appendJSONChars(append(b, "&quote="...), q.ID)
		if q.Primary {
			b = append(b, `","primary":true,"sync":{`...)
		} else {
			b = append(b, `","primary":false,"sync":{`...)
		}
		b = appendJSONField(b, true, "state", string(q.Sync.State))
		if !q.Sync.At.IsZero() {
			b = appendJSONTime(append(b, `,"at":`...), q.Sync.At)
		}
		b = appendJSONField(b, false, "code", string(q.Sync.Code))
		b = appendJSONField(b, false, "message", q.Sync.Message)
		b = append(b, '}', '}')
	}
	return append(b, ']', '}')
}

// MarshalJSON is AppendJSON, for encoding/json users.
func (a *Answer) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil), nil }

// PingAnswer is the answer to a signed ping from the package's QwotyPing.
type PingAnswer struct {
	OK           bool   `json:"ok"`
	OrgID        string `json:"orgId"`
	ConnectionID string `json:"connectionId"`
	// RequestID is set by the HTTP layer: the id the org can quote to us.
	RequestID string `json:"requestId,omitempty"`
}

// Pinger is an adapter whose CRM checks the signed path with a ping
// (Salesforce's QwotyPing): the same authentication as a card request, no
// record. once is never "": a ping is claimed once, like a card request.
type Pinger interface {
	VerifyPing(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (conn *qwoty.Connection, once string, err error)
}

// Ping answers a signed ping of provider's CRM: it proves the secret, the
// clock and the callout path, with no body to parse and nothing to list.
func (s *Service) Ping(ctx context.Context, provider qwoty.Provider, req crm.SignedRequest) (*PingAnswer, error) {
	a, err := s.adapter(provider)
	if err != nil {
		return nil, err
	}
	p, ok := a.(Pinger)
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeNotFound, "Only a CRM whose package pings Qwoty has this endpoint.", "%s sends no ping", provider.Title())
	}
	now := s.now()
	conn, once, err := p.VerifyPing(ctx, s.conns, req, now)
	if err != nil {
		return nil, err
	}
	status, claimed, err := s.store.ClaimNonce(ctx, conn.ID, once, now.Add(crm.NonceTTL))
	if err != nil {
		return nil, fmt.Errorf("cardview: ping of %s account %s: %w", provider, conn.ExternalID, err)
	}
	if err := s.claimResult(a, conn, status, claimed, once); err != nil {
		return nil, err
	}
	return &PingAnswer{OK: true, OrgID: conn.ExternalID, ConnectionID: conn.ID}, nil
}

// claimResult turns the authoritative status read with the request's claim
// into its outcome, and forgets a connection found gone or disconnected.
// A request that is not single-use (once "") is claimed whenever its
// connection serves cards.
func (s *Service) claimResult(a crm.Adapter, c *qwoty.Connection, status qwoty.ConnectionStatus, claimed bool, once string) error {
	switch {
	case status == qwoty.ConnectionDisconnected:
		s.conns.Forget(c.Provider, c.ExternalID)
		return crm.DisconnectedFor(a, c.ExternalID)
	case status == "":
		s.conns.Forget(c.Provider, c.ExternalID)
		return crm.NotConnectedFor(a, c.ExternalID)
	case !claimed:
		return replayed(once)
	}
	return nil
}

func replayed(nonce string) error {
	return qwoty.Errorf(qwoty.CodeReplayedRequest,
		"Each callout needs a fresh nonce; the Qwoty package makes one per request. A proxy retrying the request can cause this.",
		"nonce %s was already used by this org", nonce)
}

// answer is the provider-independent half of a card request.
func (s *Service) answer(ctx context.Context, a crm.Adapter, ec *crm.EmbedContext, once string, now time.Time, stage *metrics.Stage) (*Answer, error) {
	res, err := s.store.ClaimAndList(ctx, store.CardRequest{
		ConnectionID: ec.ConnectionID, WorkspaceID: ec.WorkspaceID,
		Nonce: once, NonceExpires: now.Add(crm.NonceTTL),
		AccountID: ec.Record.AccountID, AccountName: ec.Record.AccountName,
		RecordID: ec.Record.ID, Limit: 50,
	})
	if err != nil {
		return nil, fmt.Errorf("cardview: card for record %s: %w", ec.Record.ID, err)
	}
	if err := s.claimResult(a, &qwoty.Connection{Provider: ec.Provider, ExternalID: ec.AccountID}, res.Status, res.Claimed, once); err != nil {
		return nil, err
	}
	stage.Mark(metrics.StageDB)
	quotes := res.Quotes
	url, exp := s.tokens.appendToken(s.embedPrefix(ec.Provider), ec, AudienceEmbed, EmbedTTL)
	embed := string(url)
	ans := &Answer{EmbedURL: embed, ExpiresAt: exp.UTC(), Record: AnswerRecord{ID: ec.Record.ID},
		Quotes: make([]QuoteSummary, 0, len(quotes)), ConnectionID: ec.ConnectionID}
	for _, q := range quotes {
		ans.Quotes = append(ans.Quotes, QuoteSummary{
			ID: q.ID, Number: q.Number, Title: q.Title, Status: q.Status,
			Total: qwoty.FormatAmount(q.Total, q.Currency), Currency: q.Currency,
			UpdatedAt: q.UpdatedAt.UTC(), Primary: q.Primary, Sync: quoteSync(q.Sync),
		})
	}
	stage.Mark(metrics.StageSession)
	return ans, nil
}

// embedPrefix is the card page's URL up to its embed token, with room for
// the token.
func (s *Service) embedPrefix(p qwoty.Provider) []byte {
	b := make([]byte, 0, len(s.appURL)+32+1024)
	b = append(append(b, s.appURL...), "/embed/"...)
	return append(append(b, p...), "/card?token="...)
}

// OpenCard verifies an embed token for provider and checks its connection
// still serves cards. It returns the claims and the connection (whose frame
// ancestors the page must send).
func (s *Service) OpenCard(ctx context.Context, provider qwoty.Provider, token string) (*Claims, *qwoty.Connection, error) {
	c, err := s.tokens.Parse(token, AudienceEmbed)
	if err != nil {
		return nil, nil, err
	}
	if c.Provider != provider {
		return nil, nil, qwoty.Errorf(qwoty.CodeTokenInvalid, "Open the card from the CRM record again.", "this card link is for %s, not %s", c.Provider, provider)
	}
	conn, err := s.Connection(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return c, conn, nil
}

// Connection returns the claims' connection, refusing one that was
// disconnected since the token was issued.
func (s *Service) Connection(ctx context.Context, c *Claims) (*qwoty.Connection, error) {
	conn, err := s.store.ConnectionByID(ctx, c.ConnectionID)
	if err != nil {
		return nil, fmt.Errorf("cardview: connection of token: %w", err)
	}
	if conn.Status == qwoty.ConnectionDisconnected || conn.WorkspaceID != c.WorkspaceID {
		return nil, qwoty.Errorf(qwoty.CodeOrgDisconnected,
			"An admin disconnected this CRM account from Qwoty; reconnect it from the admin console.",
			"this CRM account is no longer connected to Qwoty")
	}
	return conn, nil
}
