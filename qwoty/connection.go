package qwoty

import (
	"sync"
	"time"
)

// Provider names a CRM.
type Provider string

// Providers.
const (
	ProviderSalesforce Provider = "salesforce"
	ProviderHubSpot    Provider = "hubspot"
	ProviderPipedrive  Provider = "pipedrive"
)

// titles holds each CRM's name as people write it, set by the CRM's own
// package (NameProvider) when it is loaded: the domain knows no CRM by name.
var titles sync.Map // Provider → string

// NameProvider records how people write p's name ("HubSpot"); each CRM's
// package calls it once, from an init function.
func NameProvider(p Provider, title string) { titles.Store(p, title) }

// Title is the CRM's name as people write it ("HubSpot"), or its provider
// name when no package named it.
func (p Provider) Title() string {
	if t, ok := titles.Load(p); ok {
		return t.(string)
	}
	return string(p)
}

// ConnectionStatus is whether a connection serves requests.
type ConnectionStatus string

// Connection statuses.
const (
	ConnectionActive       ConnectionStatus = "active"
	ConnectionDisconnected ConnectionStatus = "disconnected"
	ConnectionError        ConnectionStatus = "error"
)

// Workspace is one customer of ours: its users, connections and quotes.
type Workspace struct {
	ID   string
	Name string
}

// Connection links a workspace to one CRM account (a Salesforce org, a
// HubSpot portal, a Pipedrive company).
type Connection struct {
	ID          string
	WorkspaceID string
	Provider    Provider
	// ExternalID is the CRM account id: the 18-character Salesforce org id,
	// the HubSpot portal id or the Pipedrive company id.
	ExternalID string
	// MyDomain is the Salesforce My Domain in its stored form: the name, with
	// the org kind when not production ("acme", "acme--uat.sandbox",
	// "acme.develop"); see salesforce.ParseMyDomain.
	MyDomain    string
	Sandbox     bool
	InstanceURL string
	// FrameOrigins are extra origins allowed to frame the card.
	FrameOrigins []string
	Status       ConnectionStatus
	// Secret is the embed secret shared with the CRM (plaintext in memory,
	// encrypted at rest). PreviousSecret stays valid until PreviousExpiresAt.
	Secret            []byte
	PreviousSecret    []byte
	PreviousExpiresAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time

	// What the console shows: who connected it and when, the OAuth login
	// host, and the last problem found (empty when healthy).
	ConnectedBy   string // email
	ConnectedAt   time.Time
	LoginURL      string
	LastErrorCode string
	LastError     string
	LastErrorAt   time.Time
	LastCheckedAt time.Time
	// Scopes are what the CRM granted at the last sign-in, nil for a
	// connection made before sync (its CRM's Syncer says whether they
	// suffice).
	Scopes []string
	// CRMUserID is the CRM user whose grant the connection holds (as the
	// CRM's adapter names it at sign-in): a pulled change made by this
	// user is Qwoty's own write coming back.
	CRMUserID string
	// Plan and Seats are what the admin says of the CRM account's
	// subscription, for a CRM whose API allowance depends on them and
	// whose API does not tell them (Pipedrive); "" and 0 when not said.
	Plan  string
	Seats int
}

// Health is the console's summary of a connection.
type Health string

// Health values, from best to worst.
const (
	HealthNotConnected Health = "not_connected"
	HealthHealthy      Health = "healthy"
	HealthWarning      Health = "warning"
	HealthError        Health = "error"
)

// Health summarises the connection for the console: error when it cannot
// serve (needs reconnecting), warning when the last check found a problem.
func (c *Connection) Health() Health {
	switch {
	case c == nil || c.Status == ConnectionDisconnected:
		return HealthNotConnected
	case c.Status == ConnectionError:
		return HealthError
	case c.LastErrorCode != "":
		return HealthWarning
	}
	return HealthHealthy
}

// Secrets returns the secrets that verify a request at now: the current one,
// then the previous one while its rotation window is open.
func (c *Connection) Secrets(now time.Time) [][]byte {
	out := [][]byte{c.Secret}
	if len(c.PreviousSecret) > 0 && now.Before(c.PreviousExpiresAt) {
		out = append(out, c.PreviousSecret)
	}
	return out
}
