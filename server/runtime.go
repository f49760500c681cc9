package server

import (
	"os"
	"runtime/debug"
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

// TuneGC applies DefaultGCPercent unless GOGC is set, and returns the
// percent in force (negative: collection off).
func TuneGC() int {
	if _, set := os.LookupEnv("GOGC"); set {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
