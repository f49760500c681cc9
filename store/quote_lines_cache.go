package store

import (
	"math/big"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// The lines of a large quote, kept per version (docs/performance.md).
//
// An edit of one line of a 2,000-line quote read all 2,000 back under the
// quote's lock before changing one: most of its time. Every write of a
// quote's lines is made by writeQuote (or createQuote) in the transaction
// that bumps quotes.version and sets quotes.updated_at, so a quote's lines
// are a function of its (version, updated_at): once an edit made through
// UpdateQuote has committed, the lines it wrote are kept under the version
// and time it committed with, and the next edit that finds the quote's row
// (locked, read from the database as always) at exactly that version and
// time takes them from here instead of reading them. Another instance's
// edit, or any other write, changes the version, so a kept entry is never
// used for lines it does not hold; a transaction that rolls back keeps
// nothing (entries are put only after commit).
//
// Entries are kept only for quotes of lineCacheFrom lines or more (smaller
// ones are read quickly), at most lineCacheQuotes of them, the least
// recently used dropped first.
const (
	lineCacheFrom   = 100
	lineCacheQuotes = 32
)

type lineCache struct {
	mu    sync.Mutex
	tick  uint64
	items map[string]*cachedLines
}

type cachedLines struct {
	version int
	at      time.Time
	used    uint64
	// lines are never changed once kept: a taker gets a copy of the slice
	// (decimals are immutable values).
	lines []qwoty.LineItem
}

// get returns the lines kept for quote id at version and time at, or
// false.
func (c *lineCache) get(id string, version int, at time.Time) ([]qwoty.LineItem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.items[id]
	if e == nil || e.version != version || !e.at.Equal(at) {
		return nil, false
	}
	c.tick++
	e.used = c.tick
	return e.lines, true
}

// put keeps lines, q's lines as the database now holds them (writeQuote's
// stored), under q's version and time. It is called after the transaction
// that wrote them committed.
func (c *lineCache) put(q *qwoty.Quote, lines []qwoty.LineItem) {
	if len(lines) < lineCacheFrom || len(lines) != len(q.Lines) {
		c.drop(q.ID)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = make(map[string]*cachedLines)
	}
	if _, ok := c.items[q.ID]; !ok && len(c.items) >= lineCacheQuotes {
		var oldest string
		var least uint64
		for id, e := range c.items {
			if oldest == "" || e.used < least {
				oldest, least = id, e.used
			}
		}
		delete(c.items, oldest)
	}
	c.tick++
	c.items[q.ID] = &cachedLines{version: q.Version, at: q.UpdatedAt, used: c.tick, lines: lines}
}

// drop forgets quote id's lines.
func (c *lineCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, id)
}

// asStored is line l of quote id as scanLine reads it back: the quote's id,
// and every numeric at its column's scale (numeric(n,4)), as PostgreSQL
// stores it and pgx decodes it (a zero with no scale).
func asStored(id string, l qwoty.LineItem) qwoty.LineItem {
	l.QuoteID = id
	for _, d := range []*decimal.Decimal{&l.Quantity, &l.UnitPrice, &l.DiscountPercent, &l.Amount, &l.Discount, &l.Net, &l.Tax} {
		*d = atScale4(*d)
	}
	if l.TaxRate.Valid {
		l.TaxRate.Decimal = atScale4(l.TaxRate.Decimal)
	}
	return l
}

func atScale4(d decimal.Decimal) decimal.Decimal {
	switch {
	case d.IsZero():
		return decimal.NewFromBigInt(new(big.Int), 0)
	case d.Exponent() == -4:
		return d
	case d.Exponent() > -4 && d.NumDigits() <= 14:
		c := d.CoefficientInt64()
		for e := d.Exponent(); e > -4; e-- {
			c *= 10
		}
		return decimal.New(c, -4)
	}
	return decimal.NewFromBigInt(d.Round(4).Shift(4).BigInt(), -4)
}
