// Package synctest holds in-memory stand-ins for sync's own storage (the
// links and the budget the engine keeps in PostgreSQL), so that a CRM's
// Syncer can be tested against its emulator without the engine. They stand
// in for our storage only: the CRM side is always the vendor's emulator.
// The engine's tests (package crmsync) run the same Syncers against the
// real tables.
package synctest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/qwoty/companion/crm"
)

// Links is an in-memory crm.Links.
type Links struct {
	mu sync.Mutex
	m  map[[2]string]crm.RefLink // (object, ref) → link
}

var _ crm.Links = (*Links)(nil)

func (l *Links) init() {
	if l.m == nil {
		l.m = map[[2]string]crm.RefLink{}
	}
}

// Find implements crm.Links.
func (l *Links) Find(_ context.Context, object string, refs []string) (map[string]crm.RefLink, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	out := map[string]crm.RefLink{}
	for _, r := range refs {
		if k, ok := l.m[[2]string{object, r}]; ok {
			out[r] = k
		}
	}
	return out, nil
}

// Owned implements crm.Links.
func (l *Links) Owned(_ context.Context, object, parent string) ([]crm.RefLink, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	var out []crm.RefLink
	for _, k := range l.m {
		if k.Object == object && k.Parent == parent {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b crm.RefLink) int { return compare(a.Ref, b.Ref) })
	return out, nil
}

// Intend implements crm.Links: an existing link keeps its CRM id.
func (l *Links) Intend(_ context.Context, links []crm.RefLink) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	for _, k := range links {
		key := [2]string{k.Object, k.Ref}
		if old, ok := l.m[key]; ok && old.CRMID != "" {
			continue
		}
		k.CRMID, k.Hash = "", ""
		l.m[key] = k
	}
	return nil
}

// Save implements crm.Links.
func (l *Links) Save(_ context.Context, links []crm.RefLink) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	for _, k := range links {
		l.m[[2]string{k.Object, k.Ref}] = k
	}
	return nil
}

// Drop implements crm.Links.
func (l *Links) Drop(_ context.Context, object string, refs []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range refs {
		delete(l.m, [2]string{object, r})
	}
	return nil
}

// All returns every link, sorted by object and ref.
func (l *Links) All() []crm.RefLink {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Collect(maps.Values(l.m))
	slices.SortFunc(out, func(a, b crm.RefLink) int {
		if c := compare(a.Object, b.Object); c != 0 {
			return c
		}
		return compare(a.Ref, b.Ref)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Budget is an in-memory crm.Budget shaped as the engine's
// (crm.Bucket.TokenBucket), on Now (time.Now when nil). A bucket it was
// not made with is unlimited.
type Budget struct {
	mu      sync.Mutex
	Now     func() time.Time
	buckets map[string]*bucket
	blocked time.Time
	// Taken counts the units taken from each bucket.
	Taken map[string]float64
	// Observed keeps the last Observe of each bucket: left, capacity.
	Observed map[string][2]float64
}

type bucket struct {
	tokens, capacity, perSecond float64
	at                          time.Time
	def                         crm.Bucket
}

var _ crm.Budget = (*Budget)(nil)

// NewBudget returns a budget of the given buckets, full.
func NewBudget(buckets ...crm.Bucket) *Budget {
	b := &Budget{buckets: map[string]*bucket{}, Taken: map[string]float64{}, Observed: map[string][2]float64{}}
	for _, k := range buckets {
		burst, refill := k.TokenBucket()
		b.buckets[k.Name] = &bucket{tokens: burst, capacity: burst, perSecond: refill, def: k}
	}
	return b
}

func (b *Budget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Take implements crm.Budget; a bucket it was not made with is unlimited.
func (b *Budget) Take(_ context.Context, name string, cost float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.Before(b.blocked) {
		return &crm.WaitError{Until: b.blocked, Reason: "blocked"}
	}
	if b.Taken == nil {
		b.Taken = map[string]float64{}
	}
	k := b.buckets[name]
	if k == nil {
		b.Taken[name] += cost
		return nil
	}
	if !k.at.IsZero() {
		k.tokens = min(k.capacity, k.tokens+now.Sub(k.at).Seconds()*k.perSecond)
	}
	k.at = now
	if k.tokens < cost {
		wait := time.Duration((cost - k.tokens) / k.perSecond * float64(time.Second))
		return &crm.WaitError{Until: now.Add(wait), Reason: "budget", Budget: true}
	}
	k.tokens -= cost
	b.Taken[name] += cost
	return nil
}

// Observe implements crm.Budget.
func (b *Budget) Observe(_ context.Context, name string, left, capacity float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Observed == nil {
		b.Observed = map[string][2]float64{}
	}
	b.Observed[name] = [2]float64{left, capacity}
	if k := b.buckets[name]; k != nil {
		now := b.now()
		if !k.at.IsZero() {
			k.tokens = min(k.capacity, k.tokens+now.Sub(k.at).Seconds()*k.perSecond)
		}
		if capacity > 0 {
			k.def.Capacity = capacity
			k.capacity, k.perSecond = k.def.TokenBucket()
		}
		k.tokens = min(k.tokens, k.capacity, left)
		k.at = now
	}
	return nil
}

// Block implements crm.Budget.
func (b *Budget) Block(_ context.Context, until time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.blocked) {
		b.blocked = until
	}
	return nil
}
