package salesforce

import (
	"errors"
	"fmt"
	"strings"
)

const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ErrInvalidID is wrapped by every id validation error.
var ErrInvalidID = errors.New("invalid Salesforce id")

// idChecksum computes the three-character suffix that turns a case-sensitive
// 15-character id into the case-insensitive 18-character form: for each
// 5-character chunk, bit i is set when character i is an uppercase letter.
func idChecksum(id15 string) string {
	var out [3]byte
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[bits]
	}
	return string(out[:])
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// NormalizeID returns the 18-character form of a 15- or 18-character record
// id. An 18-character id must carry the right checksum; its case is restored
// from that checksum, so a lowercased id still names the same record.
func NormalizeID(id string) (string, error) {
	switch {
	case len(id) == 15 && alnum(id):
		return id + idChecksum(id), nil
	case len(id) == 18 && alnum(id):
		suffix := strings.ToUpper(id[15:])
		// Restore each character's case from the suffix bits.
		b := []byte(id[:15])
		for chunk := range 3 {
			bits := strings.IndexByte(checksumAlphabet, suffix[chunk])
			if bits < 0 {
				return "", fmt.Errorf("%w: %q has a malformed checksum", ErrInvalidID, id)
			}
			for i := range 5 {
				c := b[chunk*5+i]
				upper := bits&(1<<i) != 0
				if upper && c >= 'a' && c <= 'z' {
					b[chunk*5+i] = c - 'a' + 'A'
				} else if !upper && c >= 'A' && c <= 'Z' {
					b[chunk*5+i] = c - 'A' + 'a'
				}
			}
		}
		id15 := string(b)
		if idChecksum(id15) != suffix {
			return "", fmt.Errorf("%w: %q has a checksum that does not match", ErrInvalidID, id)
		}
		return id15 + suffix, nil
	default:
		return "", fmt.Errorf("%w: %q is not 15 or 18 letters and digits", ErrInvalidID, id)
	}
}

// NormalizeOrgID is NormalizeID for an organization id, which starts with 00D.
func NormalizeOrgID(id string) (string, error) {
	n, err := NormalizeID(id)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(n, "00D") {
		return "", fmt.Errorf("%w: %q is not an organization id (they start with 00D)", ErrInvalidID, id)
	}
	return n, nil
}
