package webhooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/webhooks"
)

// The Standard Webhooks specification's example: secret, id, timestamp and
// body, and the signature its reference libraries compute.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecification(t *testing.T) {
	got, err := webhooks.Sign(specID, time.Unix(specTS, 0), []byte(specBody), specSecret)
	if err != nil || got != specSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, specSig)
	}
	other := webhooks.NewSecret()
	two, err := webhooks.Sign(specID, time.Unix(specTS, 0), []byte(specBody), other, specSecret)
	if err != nil || !strings.HasSuffix(two, " "+specSig) || len(strings.Fields(two)) != 2 {
		t.Fatalf("Sign with two secrets = %q, %v; want two space-separated signatures, the spec's last", two, err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(specTS, 0)
	h := http.Header{}
	h.Set(webhooks.HeaderID, specID)
	h.Set(webhooks.HeaderTimestamp, "1614265330")
	h.Set(webhooks.HeaderSignature, "v1,bm90IGl0 "+specSig)
	cases := []struct {
		name   string
		secret string
		body   string
		now    time.Time
		want   error
	}{
		{"the spec's example, second of two signatures", specSecret, specBody, now, nil},
		{"another body", specSecret, `{"test": 1}`, now, webhooks.ErrNoMatch},
		{"another secret", webhooks.NewSecret(), specBody, now, webhooks.ErrNoMatch},
		{"too late", specSecret, specBody, now.Add(webhooks.Tolerance + time.Second), webhooks.ErrTimestamp},
		{"too early", specSecret, specBody, now.Add(-webhooks.Tolerance - time.Second), webhooks.ErrTimestamp},
		{"not a secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", specBody, now, webhooks.ErrSecret},
	}
	for _, c := range cases {
		if err := webhooks.Verify(c.secret, h, []byte(c.body), c.now); err != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
	h.Del(webhooks.HeaderSignature)
	if err := webhooks.Verify(specSecret, h, []byte(specBody), now); err != webhooks.ErrMissingHeader {
		t.Errorf("no signature header: Verify = %v, want %v", err, webhooks.ErrMissingHeader)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	if a == b || !strings.HasPrefix(a, webhooks.SecretPrefix) || len(a) != len(webhooks.SecretPrefix)+44 {
		t.Fatalf("NewSecret = %q, %q; want two different whsec_ and 32 bytes in base64", a, b)
	}
}
