package emulator

import (
	"cmp"
	"net/http"
	"sync"
	"time"
)

// The token store's bounds. A store that is full forgets its oldest entry
// for each new one; dead entries go sooner (see TokenConfig.Retain).
const (
	// DefaultMaxCodes is how many authorization codes a store keeps.
	DefaultMaxCodes = 1_000
	// DefaultMaxTokens is how many access tokens, and how many refresh
	// tokens, a store keeps.
	DefaultMaxTokens = 10_000
	// DefaultRetain is how long a dead token is still known as expired or
	// revoked, on the emulator's clock, before the store forgets it.
	DefaultRetain = 24 * time.Hour
	// sweepEvery is how often, on the emulator's clock, the store looks for
	// what it may forget.
	sweepEvery = time.Minute
)

// State is what a token is now.
type State int

const (
	// Unknown: never issued, or forgotten.
	Unknown State = iota
	// Live: the token may be used.
	Live
	// Expired: its lifetime passed, or a test ended it (ExpireAccess).
	Expired
	// Revoked: revoked by the client, by the account's uninstall or by
	// RevokeAll; it takes precedence over Expired.
	Revoked
)

func (s State) String() string {
	switch s {
	case Live:
		return "live"
	case Expired:
		return "expired"
	case Revoked:
		return "revoked"
	}
	return "unknown"
}

// TokenControl is what the Base does to an emulator's tokens on a test's
// behalf; Tokens implements it.
type TokenControl interface {
	// ExpireAccess makes one access token expire now; it reports whether
	// the token was live.
	ExpireAccess(token string) bool
	// ExpireAllAccess makes every live access token expire now; refresh
	// tokens stay valid.
	ExpireAllAccess()
	// RevokeAccount revokes every code and token of an account, as its
	// uninstalling the app does.
	RevokeAccount(account string)
	// RevokeAll revokes every code and token of every account.
	RevokeAll()
}

// TokenConfig configures a token store. G is what the emulator ties to a
// code or a token: the user, the account, the scopes granted.
type TokenConfig[G any] struct {
	// Now is the emulator's clock; Base.Now is meant.
	Now func() time.Time
	// CodeTTL and AccessTTL are the CRM's lifetimes of an authorization code
	// and of an access token.
	CodeTTL   time.Duration
	AccessTTL time.Duration
	// RefreshIdle ends a refresh token unused that long, each use starting
	// it again (Pipedrive's 60 days); 0 means refresh tokens live until
	// revoked.
	RefreshIdle time.Duration
	// Account names the account a grant belongs to, for RevokeAccount and
	// the ledger. It is required.
	Account func(G) string
	// NewCode, NewAccess and NewRefresh mint a code or a token in the CRM's
	// shape ("5Aep861…", "v1u:…"); nil means 32 random bytes, base64url.
	NewCode, NewAccess, NewRefresh func(G) string
	// MaxCodes and MaxTokens override DefaultMaxCodes and DefaultMaxTokens,
	// Retain DefaultRetain; 0 keeps the default.
	MaxCodes  int
	MaxTokens int
	Retain    time.Duration
}

// Code is an authorization code as issued.
type Code[G any] struct {
	Grant       G
	RedirectURI string
	// Challenge is the PKCE code challenge; empty without PKCE.
	Challenge string
	Expires   time.Time
}

// Access is an access token as issued.
type Access[G any] struct {
	Token   string
	Grant   G
	Account string
	Issued  time.Time
	Expires time.Time
	// Refresh is the refresh token it was issued with, whose revocation
	// revokes it too; empty when none.
	Refresh string
}

// Tokens is an OAuth token store: authorization codes, spent by their first
// use and dead after CodeTTL; access tokens dead after AccessTTL; refresh
// tokens until revoked (or unused for RefreshIdle), rotated when the CRM
// rotates them. It is safe for concurrent use and bounded.
type Tokens[G any] struct {
	cfg TokenConfig[G]

	mu      sync.Mutex
	codes   fifo[*Code[G]]
	access  fifo[*accessEntry[G]]
	refresh fifo[*refreshEntry[G]]
	swept   time.Time
}

type accessEntry[G any] struct {
	Access[G]
	revoked time.Time // zero while not revoked
}

type refreshEntry[G any] struct {
	grant    G
	account  string
	lastUsed time.Time
	revoked  time.Time // zero while not revoked
}

// NewTokens returns an empty store.
func NewTokens[G any](cfg TokenConfig[G]) *Tokens[G] {
	if cfg.Account == nil {
		panic("emulator: TokenConfig.Account is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, mint := range []*func(G) string{&cfg.NewCode, &cfg.NewAccess, &cfg.NewRefresh} {
		if *mint == nil {
			*mint = func(G) string { return RandomBase64(32) }
		}
	}
	if cfg.Retain <= 0 {
		cfg.Retain = DefaultRetain
	}
	t := &Tokens[G]{cfg: cfg}
	t.codes.max = cmp.Or(cfg.MaxCodes, DefaultMaxCodes)
	t.access.max = cmp.Or(cfg.MaxTokens, DefaultMaxTokens)
	t.refresh.max = t.access.max
	return t
}

// NewCode issues an authorization code for g, to be redeemed with
// redirectURI (and the verifier of challenge, when PKCE is used).
func (t *Tokens[G]) NewCode(g G, redirectURI, challenge string) string {
	code := t.cfg.NewCode(g)
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	t.codes.put(code, &Code[G]{Grant: g, RedirectURI: redirectURI, Challenge: challenge, Expires: now.Add(t.cfg.CodeTTL)})
	return code
}

// Redeem spends a code, whatever comes of it: a code is good for one
// attempt (RFC 6749 §10.5). It returns the code and Live, or Expired, or
// Unknown (never issued, or spent).
func (t *Tokens[G]) Redeem(code string) (Code[G], State) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.codes.get(code)
	if !ok {
		return Code[G]{}, Unknown
	}
	t.codes.del(code)
	if !now.Before(c.Expires) {
		return *c, Expired
	}
	return *c, Live
}

// Issue issues an access token for g, tied to the refresh token it comes
// from (empty when none).
func (t *Tokens[G]) Issue(g G, refresh string) Access[G] {
	tok := t.cfg.NewAccess(g)
	now := t.cfg.Now()
	e := &accessEntry[G]{Access: Access[G]{Token: tok, Grant: g, Account: t.cfg.Account(g),
		Issued: now, Expires: now.Add(t.cfg.AccessTTL), Refresh: refresh}}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	t.access.put(tok, e)
	return e.Access
}

// NewRefresh issues a refresh token for g.
func (t *Tokens[G]) NewRefresh(g G) string {
	tok := t.cfg.NewRefresh(g)
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	t.refresh.put(tok, &refreshEntry[G]{grant: g, account: t.cfg.Account(g), lastUsed: now})
	return tok
}

// UseRefresh returns the grant of a live refresh token and counts the use
// (which starts RefreshIdle again); false when the token is unknown,
// revoked or idle too long.
func (t *Tokens[G]) UseRefresh(token string) (G, bool) { return t.refreshGrant(token, true) }

// LookupRefresh returns the grant of a live refresh token without using it.
func (t *Tokens[G]) LookupRefresh(token string) (G, bool) { return t.refreshGrant(token, false) }

func (t *Tokens[G]) refreshGrant(token string, use bool) (G, bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.refresh.get(token)
	if !ok || !t.live(e, now) {
		var zero G
		return zero, false
	}
	if use {
		e.lastUsed = now
	}
	return e.grant, true
}

// Rotate revokes a live refresh token and issues its successor, with the
// same grant: refresh token rotation. Of two concurrent rotations of one
// token, one gets false.
func (t *Tokens[G]) Rotate(old string) (string, bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.refresh.get(old)
	if !ok || !t.live(e, now) {
		return "", false
	}
	e.revoked = now
	tok := t.cfg.NewRefresh(e.grant)
	t.refresh.put(tok, &refreshEntry[G]{grant: e.grant, account: e.account, lastUsed: now})
	return tok, true
}

func (t *Tokens[G]) live(e *refreshEntry[G], now time.Time) bool {
	return e.revoked.IsZero() && (t.cfg.RefreshIdle <= 0 || now.Before(e.lastUsed.Add(t.cfg.RefreshIdle)))
}

// LookupAccess returns an access token and its state; the token is the zero
// Access when Unknown.
func (t *Tokens[G]) LookupAccess(token string) (Access[G], State) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.access.get(token)
	switch {
	case !ok:
		return Access[G]{}, Unknown
	case !e.revoked.IsZero():
		return e.Access, Revoked
	case !now.Before(e.Expires):
		return e.Access, Expired
	}
	return e.Access, Live
}

// Authenticate is LookupAccess for an API request: a live token's account
// is entered in the request's ledger entry.
func (t *Tokens[G]) Authenticate(r *http.Request, token string) (Access[G], State) {
	a, st := t.LookupAccess(token)
	if st == Live {
		Attribute(r, a.Account)
	}
	return a, st
}

// Revoke revokes a token as a client's revocation request does: a refresh
// token takes the access tokens issued with it along; an access token goes
// alone. It reports whether there was a token left to revoke.
func (t *Tokens[G]) Revoke(token string) bool {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.refresh.get(token); ok && e.revoked.IsZero() {
		e.revoked = now
		for _, a := range t.access.m {
			if a.Refresh == token && a.revoked.IsZero() {
				a.revoked = now
			}
		}
		return true
	}
	if a, ok := t.access.get(token); ok && a.revoked.IsZero() {
		a.revoked = now
		return true
	}
	return false
}

// ExpireAccess makes one access token expire now; it reports whether the
// token was live.
func (t *Tokens[G]) ExpireAccess(token string) bool {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.access.get(token)
	if !ok || !a.revoked.IsZero() || !now.Before(a.Expires) {
		return false
	}
	a.Expires = now
	return true
}

// ExpireAllAccess makes every live access token expire now.
func (t *Tokens[G]) ExpireAllAccess() {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.access.m {
		if now.Before(a.Expires) {
			a.Expires = now
		}
	}
}

// RevokeAccount revokes every code and token of an account.
func (t *Tokens[G]) RevokeAccount(account string) {
	t.revokeWhere(func(a string) bool { return a == account })
}

// RevokeAll revokes every code and token.
func (t *Tokens[G]) RevokeAll() {
	t.revokeWhere(func(string) bool { return true })
}

func (t *Tokens[G]) revokeWhere(match func(account string) bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for code, c := range t.codes.m {
		if match(t.cfg.Account(c.Grant)) {
			t.codes.del(code)
		}
	}
	for _, r := range t.refresh.m {
		if match(r.account) && r.revoked.IsZero() {
			r.revoked = now
		}
	}
	for _, a := range t.access.m {
		if match(a.Account) && a.revoked.IsZero() {
			a.revoked = now
		}
	}
}

// sweep forgets, once a minute of the emulator's clock, the codes past
// their life and the tokens dead for longer than Retain. t.mu is held.
func (t *Tokens[G]) sweep(now time.Time) {
	if since := now.Sub(t.swept); since >= 0 && since < sweepEvery {
		return
	}
	t.swept = now
	for code, c := range t.codes.m {
		if !now.Before(c.Expires) {
			t.codes.del(code)
		}
	}
	for tok, a := range t.access.m {
		dead := a.Expires
		if !a.revoked.IsZero() && a.revoked.Before(dead) {
			dead = a.revoked
		}
		if now.Sub(dead) >= t.cfg.Retain {
			t.access.del(tok)
		}
	}
	for tok, r := range t.refresh.m {
		dead := r.revoked
		if dead.IsZero() && t.cfg.RefreshIdle > 0 {
			dead = r.lastUsed.Add(t.cfg.RefreshIdle)
		}
		if !dead.IsZero() && now.Sub(dead) >= t.cfg.Retain {
			t.refresh.del(tok)
		}
	}
}

// fifo is a map that holds at most max entries: a new key past the bound
// pushes out the oldest one.
type fifo[V any] struct {
	m     map[string]V
	order []string // insertion order; may still name deleted keys
	max   int
}

func (f *fifo[V]) get(k string) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

func (f *fifo[V]) put(k string, v V) {
	if f.m == nil {
		f.m = map[string]V{}
	}
	if _, ok := f.m[k]; !ok {
		for len(f.m) >= f.max && len(f.order) > 0 {
			oldest := f.order[0]
			f.order = f.order[1:]
			delete(f.m, oldest)
		}
		f.order = append(f.order, k)
	}
	f.m[k] = v
	if len(f.order) > 2*len(f.m)+64 {
		f.compact()
	}
}

func (f *fifo[V]) del(k string) { delete(f.m, k) }

// compact drops the deleted keys from order, so that it stays within twice
// the map's size.
func (f *fifo[V]) compact() {
	kept := make([]string, 0, len(f.m))
	seen := make(map[string]bool, len(f.m))
	for _, k := range f.order {
		if _, ok := f.m[k]; ok && !seen[k] {
			seen[k] = true
			kept = append(kept, k)
		}
	}
	f.order = kept
}
