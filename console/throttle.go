package console

import (
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// loginThrottle slows password guessing without handing anyone a way to
// lock a user out. It counts failed logins three ways:
//
//   - per (client address, email): after pairFree failures, that address
//     waits before it may try that email again, the wait doubling with each
//     failure (1 s, 2 s, 4 s ... 15 min). Guessing one password is slow.
//   - per client address, over all emails: after addrFree failures the
//     address waits the same way. Trying many emails (spraying) is slow.
//   - per email, over all addresses: never a refusal, only a short delay
//     before the check (up to accountMaxDelay), so an account under attack
//     gets slower for everyone while its owner, on an address that has not
//     failed, still logs in.
//
// A failure is forgotten forget after the last one; a successful login
// clears its (address, email) and email counts, but not the address's, so
// owning one account does not reset a spray. Addresses are counted as the
// client IP (behind a load balancer, set QWOTY_TRUSTED_PROXIES), IPv6 per
// /64, since one host usually holds a whole /64.
//
// State is per instance and in memory: with N instances an attacker gets N
// times the budget, still bounded. Each table holds at most maxEntries
// keys of 8 bytes (hashed), a few megabytes at most.
type loginThrottle struct {
	mu       sync.Mutex
	now      func() time.Time
	seed     maphash.Seed
	pairs    failureTable
	addrs    failureTable
	accounts failureTable
}

// Throttle parameters (docs/security.md quotes them).
const (
	pairFree        = 5
	addrFree        = 20
	accountFree     = 10
	backoffBase     = time.Second
	backoffMax      = 15 * time.Minute
	accountDelay    = 250 * time.Millisecond
	accountMaxDelay = 3 * time.Second
	forget          = time.Hour
	maxEntries      = 100_000
)

func newLoginThrottle(now func() time.Time) *loginThrottle {
	t := &loginThrottle{now: now, seed: maphash.MakeSeed()}
	for _, ft := range []*failureTable{&t.pairs, &t.addrs, &t.accounts} {
		ft.entries = map[uint64]failures{}
		ft.max = maxEntries
	}
	return t
}

// failures is one key's count. The time is in Unix nanoseconds, so the
// tables hold no pointers for the collector to scan.
type failures struct {
	n    int
	last int64
}

func (f failures) lastAt() time.Time { return time.Unix(0, f.last) }

type failureTable struct {
	entries map[uint64]failures
	max     int
}

// get returns k's count, zero when forgotten.
func (ft *failureTable) get(k uint64, now time.Time) failures {
	f, ok := ft.entries[k]
	if !ok || now.Sub(f.lastAt()) >= forget {
		return failures{}
	}
	return f
}

func (ft *failureTable) add(k uint64, now time.Time) {
	f := ft.get(k, now)
	if _, ok := ft.entries[k]; !ok && len(ft.entries) >= ft.max {
		ft.evict(now)
	}
	ft.entries[k] = failures{n: f.n + 1, last: now.UnixNano()}
}

// evict makes room: it looks at a few entries (map order is random), drops
// the forgotten ones, or else the one that failed longest ago. A flood of
// new keys thus pushes out old keys, never the table's bound.
func (ft *failureTable) evict(now time.Time) {
	const sample = 32
	var oldest uint64
	var oldestAt int64
	seen, dropped := 0, false
	for k, f := range ft.entries {
		if now.Sub(f.lastAt()) >= forget {
			delete(ft.entries, k)
			dropped = true
		} else if oldestAt == 0 || f.last < oldestAt {
			oldest, oldestAt = k, f.last
		}
		if seen++; seen >= sample {
			break
		}
	}
	if !dropped {
		delete(ft.entries, oldest)
	}
}

// backoff is how long after the last failure the next try may come, once
// free failures are used up: 0 before, then base doubling up to backoffMax.
func backoff(f failures, free int) time.Duration {
	over := f.n - free
	if over <= 0 {
		return 0
	}
	if over > 20 {
		return backoffMax
	}
	return min(backoffBase<<(over-1), backoffMax)
}

// throttleVerdict is what check decides for one attempt.
type throttleVerdict struct {
	// wait > 0 refuses the attempt: try again after it.
	wait time.Duration
	// address is true when the address as a whole waits (spraying), false
	// when only this email from it does.
	address bool
	// delay is the account's soft slowdown, applied before the check.
	delay time.Duration
}

// check decides whether addr may try email now.
func (t *loginThrottle) check(addr, email string) throttleVerdict {
	now := t.now()
	ak, pk, ek := t.keys(addr, email)
	t.mu.Lock()
	defer t.mu.Unlock()
	var v throttleVerdict
	if f := t.addrs.get(ak, now); f.n > 0 {
		if w := f.lastAt().Add(backoff(f, addrFree)).Sub(now); w > 0 {
			v.wait, v.address = w, true
		}
	}
	if f := t.pairs.get(pk, now); f.n > 0 {
		if w := f.lastAt().Add(backoff(f, pairFree)).Sub(now); w > v.wait {
			v.wait, v.address = w, false
		}
	}
	if f := t.accounts.get(ek, now); f.n > accountFree {
		v.delay = min(accountDelay<<min(f.n-accountFree-1, 10), accountMaxDelay)
	}
	return v
}

// fail counts a failed login of email from addr.
func (t *loginThrottle) fail(addr, email string) {
	now := t.now()
	ak, pk, ek := t.keys(addr, email)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addrs.add(ak, now)
	t.pairs.add(pk, now)
	t.accounts.add(ek, now)
}

// succeed clears email's counts, from addr and overall; the address keeps
// its count (see loginThrottle).
func (t *loginThrottle) succeed(addr, email string) {
	_, pk, ek := t.keys(addr, email)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs.entries, pk)
	delete(t.accounts.entries, ek)
}

// keys hashes the address (already a clientKey: the handler makes it once),
// the (address, email) pair and the email, so a key is 8 bytes whatever the
// client sends; the seed is per process, so nobody can aim two emails at one
// key.
func (t *loginThrottle) keys(addr, email string) (a, pair, e uint64) {
	email = strings.ToLower(strings.TrimSpace(email))
	a = maphash.String(t.seed, addr)
	e = maphash.String(t.seed, "\x00"+email)
	pair = maphash.String(t.seed, addr+"\x00"+email)
	return a, pair, e
}

// clientKey is the address a client is counted as: IPv4 as is, IPv6 by its
// /64 (one host usually has a whole /64 to pick addresses from).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
