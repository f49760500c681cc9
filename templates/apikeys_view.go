package templates

import (
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// APIKeysView is a connection's API keys page (Settings → Integrations →
// the CRM → API keys), admins only.
type APIKeysView struct {
	ConsolePage
	CRMName  string
	Provider qwoty.Provider
	Keys     []*store.APIKey
	Usage    map[string]store.APIKeyUsage
	// Created is the key just made, and Token its token: shown this once.
	Created *store.APIKey
	Token   string
	Form    APIKeyForm
	// RateLimit is each key's limit, as docs/api.md writes it.
	RateLimit string
	Now       time.Time
}

// APIKeyForm is the create form as posted (kept when it is refused).
type APIKeyForm struct {
	Name string
	// Access is the preset: "read-only", "full" or "custom" (Scopes).
	Access  string
	Scopes  []string
	Expires string
}

// Access presets of the create form.
const (
	AccessReadOnly = "read-only"
	AccessFull     = "full"
	AccessCustom   = "custom"
)

// APIKeyRevokeView asks before revoking a key.
type APIKeyRevokeView struct {
	ConsolePage
	CRMName  string
	Provider qwoty.Provider
	Key      *store.APIKey
}

func apiKeysPath(p qwoty.Provider, rest string) string { return crmPath(p, "api-keys") + rest }

// keyState is a key's state as the list shows it: active, expired or
// revoked.
func keyState(v APIKeysView, k *store.APIKey) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !v.Now.Before(*k.ExpiresAt):
		return "expired"
	}
	return "active"
}

func scopesText(s []qwoty.Scope) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return strings.Join(out, ", ")
}

// accessText names a key's scopes by its preset when they are one.
func accessText(s []qwoty.Scope) string {
	switch {
	case sameScopes(s, qwoty.Scopes):
		return "Full access"
	case sameScopes(s, qwoty.ReadOnlyScopes):
		return "Read-only"
	}
	return ""
}

func sameScopes(a, b []qwoty.Scope) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func scopeChecked(f APIKeyForm, s qwoty.Scope) bool {
	for _, x := range f.Scopes {
		if x == string(s) {
			return true
		}
	}
	return false
}

// scopeDoes says what a scope lets a key do, for the form.
func scopeDoes(s qwoty.Scope) string {
	switch s {
	case qwoty.ScopeQuotesRead:
		return "list and read quotes"
	case qwoty.ScopeQuotesWrite:
		return "create quotes, replace their lines, change their status"
	case qwoty.ScopeCustomersRead:
		return "list and read customers and contacts"
	case qwoty.ScopeCustomersWrite:
		return "upsert customers and contacts"
	case qwoty.ScopeCatalogRead:
		return "list and read catalogue items"
	case qwoty.ScopeCatalogWrite:
		return "create and update catalogue items"
	case qwoty.ScopeOrdersRead:
		return "list and read orders"
	case qwoty.ScopeOrdersWrite:
		return "change an order's status (fulfilled, cancelled)"
	case qwoty.ScopeWebhooksManage:
		return "manage webhook subscriptions and deliveries"
	}
	return ""
}

func keyUsage(v APIKeysView, k *store.APIKey) store.APIKeyUsage { return v.Usage[k.ID] }

func countText(n int64) string { return strconv.FormatInt(n, 10) }

func whenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return when(*t)
}

// expiryText is a key's expiry as the list shows it.
func expiryText(k *store.APIKey) string {
	if k.ExpiresAt == nil {
		return "never"
	}
	return when(*k.ExpiresAt)
}

// today is the form's smallest expiry date (UTC).
func tomorrow(now time.Time) string { return now.UTC().AddDate(0, 0, 1).Format(time.DateOnly) }
