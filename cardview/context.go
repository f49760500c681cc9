package cardview

import (
	"time"

	"github.com/qwoty/companion/qwoty"
)

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
