package api

import "github.com/qwoty/companion/qwoty"

// The API's limits (docs/api.md, "Limits"); each is enforced where the
// request is read, with a 4xx answer.
const (
	// MaxBodyBytes is the largest request body: a quote of MaxLines full
	// lines fits. Larger is 413 payload_too_large.
	MaxBodyBytes = 4 << 20
	// DefaultPageSize and MaxPageSize bound a listing's limit parameter;
	// outside 1..MaxPageSize is 422 validation_failed.
	DefaultPageSize = 50
	MaxPageSize     = 200
	// MaxLines is the most lines a quote holds (qwoty.MaxLines); more in
	// a request is 422 validation_failed.
	MaxLines = qwoty.MaxLines
	// MaxPrices is the most prices (currencies) one catalogue write sets.
	MaxPrices = 50
	// MaxIdempotencyKeyLen is the longest Idempotency-Key.
	MaxIdempotencyKeyLen = 255
)
