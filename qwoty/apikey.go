package qwoty

import (
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"slices"
	"strings"
)

// API keys of the public REST API (docs/api.md): what a key may do
// (scopes) and what a key looks like.

// Scope is one permission of an API key.
type Scope string

// Scopes. A write scope does not include its read scope: a key that
// writes quotes and reads them back holds both (the console's presets
// do).
const (
	ScopeQuotesRead     Scope = "quotes:read"
	ScopeQuotesWrite    Scope = "quotes:write"
	ScopeCustomersRead  Scope = "customers:read"
	ScopeCustomersWrite Scope = "customers:write"
	ScopeCatalogRead    Scope = "catalog:read"
	ScopeCatalogWrite   Scope = "catalog:write"
	ScopeWebhooksManage Scope = "webhooks:manage"
	// Orders (docs/orders.md): reading them, and changing their status.
	ScopeOrdersRead  Scope = "orders:read"
	ScopeOrdersWrite Scope = "orders:write"
)

// Scopes lists every scope, in the order the console and the docs show
// them.
var Scopes = []Scope{ScopeQuotesRead, ScopeQuotesWrite, ScopeCustomersRead, ScopeCustomersWrite,
	ScopeCatalogRead, ScopeCatalogWrite, ScopeOrdersRead, ScopeOrdersWrite, ScopeWebhooksManage}

// ReadOnlyScopes is the console's read-only preset: everything that
// reads, nothing that writes or manages.
var ReadOnlyScopes = []Scope{ScopeQuotesRead, ScopeCustomersRead, ScopeCatalogRead, ScopeOrdersRead}

// ParseScopes checks a list of scope names (no duplicates, at least one)
// and returns them in Scopes' order.
func ParseScopes(names []string) ([]Scope, error) {
	var out []Scope
	for _, n := range names {
		s := Scope(strings.TrimSpace(n))
		if !slices.Contains(Scopes, s) {
			return nil, invalid("scopes", "Pick scopes from the list in docs/api.md.", "%s is not a scope", echo(n))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, invalid("scopes", "Give the key at least one scope; the read-only preset reads everything.", "a key needs a scope")
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

// API key tokens look like
//
//	qwk_<40 base62 characters of randomness><6 base62 characters of CRC-32>
//
// The fixed prefix lets secret scanners find them, and the checksum lets
// a scanner (or our own middleware, before any database read) tell a real
// key from a string that merely starts with the prefix. 40 base62
// characters are about 238 bits.
const (
	APIKeyPrefix = "qwk_"
	apiKeyBody   = 40
	apiKeyCheck  = 6
	// APIKeyLen is a token's length.
	APIKeyLen = len(APIKeyPrefix) + apiKeyBody + apiKeyCheck
	// APIKeyShown is how much of a token the console shows after creation.
	APIKeyShown = len(APIKeyPrefix) + 8
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey returns a fresh token.
func NewAPIKey() string {
	b := make([]byte, 0, APIKeyLen)
	b = append(b, APIKeyPrefix...)
	max := big.NewInt(int64(len(base62)))
	for range apiKeyBody {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("qwoty: no randomness: " + err.Error())
		}
		b = append(b, base62[n.Int64()])
	}
	return string(append(b, apiKeyChecksum(string(b[len(APIKeyPrefix):]))...))
}

// apiKeyChecksum is the CRC-32 (IEEE) of body in 6 base62 digits.
func apiKeyChecksum(body string) string {
	n := uint64(crc32.ChecksumIEEE([]byte(body)))
	out := make([]byte, apiKeyCheck)
	for i := apiKeyCheck - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

// WellFormedAPIKey reports whether token has a key's shape and checksum
// (it says nothing of whether the key exists).
func WellFormedAPIKey(token string) bool {
	if len(token) != APIKeyLen || !strings.HasPrefix(token, APIKeyPrefix) {
		return false
	}
	body := token[len(APIKeyPrefix) : len(APIKeyPrefix)+apiKeyBody]
	for i := range len(body) {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	return apiKeyChecksum(body) == token[len(APIKeyPrefix)+apiKeyBody:]
}
