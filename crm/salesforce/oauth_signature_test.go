package salesforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The token answer's signature has one spelling: the same MAC written with
// altered unused bits, or with a line break inside, is refused.
func TestTokenSignatureHasOneSpelling(t *testing.T) {
	const secret, id, issued = "client-secret", "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA", "1764350000000"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + issued))
	good := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if err := verifySignature(secret, id, issued, good); err != nil {
		t.Fatalf("verifySignature(canonical) = %v, want nil", err)
	}
	// 32 bytes in base64: the last character before "=" carries 2 unused bits.
	last := strings.IndexByte(good, '=') - 1
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	idx := strings.IndexByte(alphabet, good[last])
	altered := good[:last] + string(alphabet[idx^1]) + good[last+1:]
	if lax, err := base64.StdEncoding.DecodeString(altered); err != nil || !hmac.Equal(lax, mac.Sum(nil)) {
		t.Fatalf("test premise: a lax decoder should read %q as the same MAC (err %v)", altered, err)
	}
	for name, sig := range map[string]string{
		"unused bits set": altered,
		"line break":      good[:20] + "\n" + good[20:],
	} {
		if err := verifySignature(secret, id, issued, sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("verifySignature(%s) = %v, want ErrBadSignature", name, err)
		}
	}
}
