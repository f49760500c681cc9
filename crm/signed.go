package crm

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// CompactJWT says whether token is three base64url segments and nothing
// else: no padding, spaces or line breaks. Strict base64 decoding makes each
// segment's bits canonical, but decoders skip CR and LF, and a token's
// signature segment is not part of its signed input, so a line break inside
// it would otherwise leave a valid token with a second spelling.
func CompactJWT(token string) bool {
	dots := 0
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '.':
			dots++
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2
}

// GapText says how far apart two times are, for an error message: a and b
// count units (time.Second for Unix seconds, time.Millisecond for Unix
// milliseconds). A time.Duration stops at about 292 years and would print
// 2562047h47m16.854s for a timestamp like 999999999999, so a gap of two
// days or more is given in days, and of two years or more in years.
func GapText(a, b int64, unit time.Duration) string {
	if a < b {
		a, b = b, a
	}
	day := uint64(24 * time.Hour / unit)
	gap := uint64(a) - uint64(b) // exact: a >= b, and uint64 holds any difference of two int64s
	switch {
	case gap < 2*day:
		return (time.Duration(gap) * unit).String()
	case gap < 2*365*day:
		return strconv.FormatUint(gap/day, 10) + " days"
	default:
		return strconv.FormatUint(gap/(365*day), 10) + " years"
	}
}

// DecodeMAC reads a signature that is the padded base64 of an HMAC-SHA256,
// in its one spelling: strict decoding refuses altered unused bits, and the
// exact length leaves no room for the line breaks decoders skip.
func DecodeMAC(sig string) ([]byte, bool) {
	if len(sig) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return nil, false
	}
	mac, err := base64.StdEncoding.Strict().DecodeString(sig)
	return mac, err == nil && len(mac) == sha256.Size
}
