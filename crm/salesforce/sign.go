package salesforce

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// NewNonce returns a fresh nonce: 32 hex characters, as the Apex makes them.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SignedHeaders returns the headers of a v1 callout exactly as the package's
// Apex sends them. The CLI's `qwoty sign`, the dev playground, the tests and
// the benchmarks all sign through here.
func SignedHeaders(orgID string, secret []byte, path string, body []byte, at time.Time, nonce string) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderOrg, orgID)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignature, SignV1(secret, ts, nonce, orgID, http.MethodPost, path, body))
	return h
}
