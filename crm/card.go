package crm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/qwoty/companion/qwoty"
)

// Limits every CRM's signed request shares.
const (
	// MaxBodyBytes caps a signed request's body.
	MaxBodyBytes = 64 << 10
	// MaxSkew is how far a signed request's own time may be from our clock:
	// an adapter whose Verify returns a once value refuses a request dated
	// further away, so a claimed once needs remembering no longer than
	// NonceTTL.
	MaxSkew = 300 * time.Second
	// NonceTTL is how long a claimed once value is remembered: past the
	// skew window on both sides, a replay is refused by its time instead.
	NonceTTL = 2*MaxSkew + time.Minute
)

// SignedRequest is an incoming CRM request, as received.
type SignedRequest struct {
	Method string
	// Path is the route's path, without the query or any mount prefix.
	Path string
	// URI is the full request URI as the CRM called it (scheme, host, path
	// and query), for CRMs that sign it.
	URI    string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// EmbedContext is what a verified CRM request establishes, whichever CRM
// sent it: who is looking at which record of which connected account.
type EmbedContext struct {
	Provider     qwoty.Provider
	ConnectionID string
	WorkspaceID  string
	// AccountID is the CRM account (org, portal, company) id.
	AccountID string
	User      User
	Record    Record
	// SessionStart is when the signed CRM request that began this card
	// session was verified; zero for a request being answered now (its
	// tokens begin a session). Page tokens carry it unchanged.
	SessionStart time.Time
}

// User is the CRM user viewing the card.
type User struct {
	ID       string `json:"id"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Locale   string `json:"locale,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

// Record is the CRM record the card sits on, with the fields that prefill a
// new quote. Everything but Type and ID is optional.
type Record struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccountName string `json:"accountName,omitempty"`
	Currency    string `json:"currency,omitempty"`
}

// Clip bounds a free-text field of a signed request to n characters, so a
// huge value cannot bloat tokens or rows.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ConnectionLookup finds a connection by CRM account id.
type ConnectionLookup interface {
	ConnectionByExternalID(ctx context.Context, provider qwoty.Provider, externalID string) (*qwoty.Connection, error)
}

// ConnectionRefresher is a ConnectionLookup that caches: Refresh reads a
// connection again, for a verifier whose check failed against a cached
// copy that may predate a rotation.
type ConnectionRefresher interface {
	ConnectionLookup
	Refresh(ctx context.Context, provider qwoty.Provider, externalID string) (*qwoty.Connection, error)
}

// AccountConnection finds the active connection of a CRM account for a
// verified request: unknown is org_not_connected, disconnected is
// org_disconnected (the codes every CRM's card understands).
func AccountConnection(ctx context.Context, conns ConnectionLookup, p qwoty.Provider, accountID string) (*qwoty.Connection, error) {
	conn, err := conns.ConnectionByExternalID(ctx, p, accountID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil, NotConnected(p, accountID)
	}
	if err != nil {
		return nil, err
	}
	if conn.Status == qwoty.ConnectionDisconnected {
		return nil, Disconnected(p, accountID)
	}
	return conn, nil
}

// AccountWording is implemented by an adapter whose CRM words the card's
// not-connected and disconnected errors its own way (Salesforce speaks of
// orgs and names the console's page): the card uses them instead of
// NotConnected and Disconnected. Their codes must stay org_not_connected
// and org_disconnected, which every CRM's card understands.
type AccountWording interface {
	NotConnected(accountID string) error
	Disconnected(accountID string) error
}

// NotConnectedFor is a's not-connected error for accountID: its own wording
// when it has one (AccountWording), else NotConnected.
func NotConnectedFor(a Adapter, accountID string) error {
	if w, ok := a.(AccountWording); ok {
		return w.NotConnected(accountID)
	}
	return NotConnected(a.Info().Provider, accountID)
}

// DisconnectedFor is a's disconnected error for accountID, worded as
// NotConnectedFor.
func DisconnectedFor(a Adapter, accountID string) error {
	if w, ok := a.(AccountWording); ok {
		return w.Disconnected(accountID)
	}
	return Disconnected(a.Info().Provider, accountID)
}

// NotConnected is the error of a request from a CRM account no workspace
// has connected.
func NotConnected(p qwoty.Provider, accountID string) error {
	return qwoty.Errorf(qwoty.CodeOrgNotConnected,
		"Connect this account from the Qwoty admin console (Settings → Integrations).",
		"%s account %s is not connected to Qwoty", p.Title(), accountID)
}

// Disconnected is the error of a request from a CRM account whose
// connection an admin stopped.
func Disconnected(p qwoty.Provider, accountID string) error {
	return qwoty.Errorf(qwoty.CodeOrgDisconnected,
		"An admin disconnected this account; reconnect it from the Qwoty admin console (no data was lost).",
		"%s account %s was disconnected from Qwoty", p.Title(), accountID)
}

// CardPath is where a CRM's card fetches its data with a signed GET when
// the CRM has no contract of its own for it: /api/crm/{provider}/card
// (HubSpot's hubspot.fetch calls /api/crm/hubspot/card). The server answers
// it for the adapters that are CardFetchers.
func CardPath(p qwoty.Provider) string { return "/api/crm/" + string(p) + "/card" }

// CardFetcher is implemented by an adapter whose CRM's card fetches its data
// with a signed GET to CardPath, the full URI it called under the
// signature. The server answers that route for these adapters only: a CRM
// whose signed request is a contract of its own (Salesforce's callout,
// Pipedrive's panel) has its own route, and its requests are not answered
// at a second URL.
type CardFetcher interface {
	// FetchTimeout bounds the server's answer to one fetch: under the time
	// the CRM gives its card's call (HubSpot gives 15 s), so that a slow
	// CRM read ends in our error rather than the CRM's.
	FetchTimeout() time.Duration
}
