package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// The session's CSRF token is written into every console page masked: a
// fresh random pad and the token XORed with it. Console pages are
// compressed (render), and a secret that repeats unchanged in compressed
// answers beside text an attacker can vary is what a BREACH-style attack
// reads out by compressed length; masked, the token never repeats.

// maskCSRF returns token masked with a fresh pad, for one page.
func maskCSRF(token string) string {
	t := []byte(token)
	out := make([]byte, 2*len(t))
	pad, masked := out[:len(t)], out[len(t):]
	_, _ = rand.Read(pad)
	subtle.XORBytes(masked, t, pad)
	return base64.RawURLEncoding.EncodeToString(out)
}

// csrfMatches reports, in constant time, whether a form's masked token
// carries the session's token.
func csrfMatches(sent, token string) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sent)
	if err != nil || len(raw) != 2*len(token) || len(token) == 0 {
		return false
	}
	pad, masked := raw[:len(token)], raw[len(token):]
	subtle.XORBytes(masked, masked, pad)
	return subtle.ConstantTimeCompare(masked, []byte(token)) == 1
}
