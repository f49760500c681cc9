// Package webhooks delivers Qwoty's events to the URLs of webhook
// subscriptions (docs/api.md, "Webhooks"): each request signed as the
// Standard Webhooks specification describes, sent through an HTTP client
// that refuses internal addresses, retried with exponential backoff by a
// River worker, and logged.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret; the rest is the key, base64.
const SecretPrefix = "whsec_"

// secretBytes is the size of a new key (the specification asks for 24 to
// 64 bytes).
const secretBytes = 32

// Tolerance is how far from its clock a receiver accepts a timestamp.
const Tolerance = 5 * time.Minute

// NewSecret returns a fresh signing secret, whsec_ and 32 random bytes in
// base64.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ErrSecret is the error of a secret that is not whsec_ and base64.
var ErrSecret = errors.New("webhooks: a secret is whsec_ followed by base64")

// key is the HMAC key of a secret.
func key(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(k) == 0 {
		return nil, ErrSecret
	}
	return k, nil
}

// mac is the raw signature of one message.
func mac(k []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, k)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header of a message: one
// "v1,<base64>" per secret, space-separated (during a rotation, the new
// secret's and the old one's, so that a receiver holding either verifies).
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", ErrSecret
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		k, err := key(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(k, id, ts.Unix(), body)))
	}
	return strings.Join(sigs, " "), nil
}

// SetHeaders sets a request's signature headers.
func SetHeaders(h http.Header, id string, ts time.Time, body []byte, secrets ...string) error {
	sig, err := Sign(id, ts, body, secrets...)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verification errors.
var (
	ErrMissingHeader = errors.New("webhooks: a webhook-id, webhook-timestamp or webhook-signature header is missing")
	ErrTimestamp     = errors.New("webhooks: webhook-timestamp is not within 5 minutes of now")
	ErrNoMatch       = errors.New("webhooks: no signature matches")
)

// Verify checks a received request as a receiver does: the timestamp
// within Tolerance of now, and one of the header's v1 signatures equal (in
// constant time) to the signature of id.timestamp.body with secret.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeader
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w (%q)", ErrTimestamp, tsText)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	k, err := key(secret)
	if err != nil {
		return err
	}
	want := mac(k, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue // other versions are for other schemes
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && subtle.ConstantTimeCompare(got, want) == 1 {
			return nil
		}
	}
	return ErrNoMatch
}
