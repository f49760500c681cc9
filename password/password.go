// Package password hashes and checks console passwords with argon2id, in the
// PHC string format, so parameters can be raised later without breaking
// stored hashes. Hashing goes through a Hasher, which bounds how much of it
// runs at once; Check refuses weak new passwords.
package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters: OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane).
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	keyLen    = 32
	saltLen   = 16

	// MinLength is the shortest password accepted, in characters.
	MinLength = 12
	// MaxLength bounds the work an attacker can ask of the hash.
	MaxLength = 256
)

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password: does not match")

// phc is a parsed hash.
type phc struct {
	t, m      uint32
	l         uint8
	salt, key []byte
}

func format(salt, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// maxMemoryKiB refuses stored parameters that would make one check cost more
// than a few times our own: a hash is ours, but a damaged row should not
// take the server down.
const maxMemoryKiB = 4 * memoryKiB

func parse(hash string) (phc, error) {
	var h phc
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, errors.New("password: unknown hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, errors.New("password: unknown argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.l); err != nil ||
		h.m == 0 || h.m > maxMemoryKiB || h.t == 0 || h.t > 10 || h.l == 0 || h.l > 4 {
		return h, errors.New("password: malformed parameters")
	}
	enc := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.key, err2 = enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.key) == 0 || len(h.key) > 64 {
		return h, errors.New("password: malformed hash")
	}
	return h, nil
}
