// Package password hashes and checks console passwords with argon2id, in the
// PHC string format, so parameters can be raised later without breaking
// stored hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

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

// Check says what is wrong with a new password, or nil.
func Check(p string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinLength:
		return fmt.Errorf("the password must have at least %d characters", MinLength)
	case n > MaxLength:
		return fmt.Errorf("the password must have at most %d characters", MaxLength)
	}
	return nil
}

// Hash returns the argon2id hash of p in PHC format.
func Hash(p string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(p), salt, passes, memoryKiB, lanes, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify checks p against a hash made by Hash, in constant time.
func Verify(hash, p string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: unknown hash format")
	}
	var version int
	var m uint32
	var t uint32
	var l uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unknown argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &l); err != nil {
		return errors.New("password: malformed parameters")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return errors.New("password: malformed hash")
	}
	if utf8.RuneCountInString(p) > MaxLength {
		return ErrMismatch
	}
	got := argon2.IDKey([]byte(p), salt, t, m, l, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
