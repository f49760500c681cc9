// Package gctune sets the garbage collector's targets for a server process:
// GOGC and GOMEMLIMIT defaults measured on the card path (docs/performance.md),
// each applied only when the operator set none.
package gctune

import (
	"os"
	"runtime/debug"

	"github.com/qwoty/companion/password"
)

// DefaultGCPercent is the garbage collector's target (GOGC) that `qwoty
// serve` uses when the operator sets none. The server's live heap is a few
// megabytes, so at Go's default of 100 the collector runs every few
// megabytes allocated, every couple of hundred card requests, and its mark
// phases take CPU from the requests in flight: that is most of the card
// path's p99 at 1,000 requests per second (docs/performance.md). At 400 it
// runs a quarter as often, for a heap of about five times the live one, tens
// of megabytes. GOMEMLIMIT caps it where memory is tight.
const DefaultGCPercent = 400

// GC applies DefaultGCPercent unless GOGC is set, and returns the percent
// in force (negative: collection off).
func GC() int {
	if _, set := os.LookupEnv("GOGC"); set {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}

// DefaultMemoryLimit is the soft memory limit (GOMEMLIMIT) that `qwoty
// serve` sets when the operator sets none: 128 MiB for everything but
// password checks, plus twice the memory of the password checks that may
// run at once (password.DefaultConcurrency × 19 MiB). Each check allocates
// its 19 MiB anew; at GOGC=400 the heap may grow to five times the live one
// before a collection, so a login flood alone would hold a few hundred
// megabytes of such garbage. The limit makes the collector run before that.
// The card path's heap stays far below it (tens of megabytes), so it
// changes nothing there; a heap that did reach it would cost collection CPU
// (Go caps it at about half), never a crash.
func DefaultMemoryLimit() int64 {
	return 128<<20 + 2*int64(password.DefaultConcurrency())*password.MemoryPerCheck
}

// MemoryLimit applies DefaultMemoryLimit unless GOMEMLIMIT is set, and
// returns the limit in force in bytes (math.MaxInt64: none).
func MemoryLimit() int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(DefaultMemoryLimit())
	return DefaultMemoryLimit()
}
