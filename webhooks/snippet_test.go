package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/webhooks"
)

// verifyWebhook is the Go snippet of docs/api.md ("Verifying a
// signature"), word for word: keep them the same.
func verifyWebhook(secret string, h http.Header, body []byte) bool {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil || math.Abs(float64(time.Now().Unix()-sec)) > 300 { // 5 minutes
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		if b64, ok := strings.CutPrefix(s, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// The docs' snippets (Go here, Node and Python in testdata, run when the
// machine has them) verify a delivery signed by the sender's code, with
// either secret of a rotation, and refuse a changed body or another
// secret.
func TestDocSnippets(t *testing.T) {
	oldSecret, newSecret, other := webhooks.NewSecret(), webhooks.NewSecret(), webhooks.NewSecret()
	body := `{"type":"quote.sent","timestamp":"2026-11-29T06:00:00Z","data":{"id":"q1","total":"12.50"}}`
	h := http.Header{}
	if err := webhooks.SetHeaders(h, "3f9a1c2e-0000-4000-8000-000000000001", time.Now(), []byte(body), newSecret, oldSecret); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, secret, body string
		want               bool
	}{
		{"the new secret", newSecret, body, true},
		{"the old secret", oldSecret, body, true},
		{"another secret", other, body, false},
		{"a changed body", newSecret, strings.Replace(body, "12.50", "1.50", 1), false},
	}
	for _, c := range cases {
		if got := verifyWebhook(c.secret, h, []byte(c.body)); got != c.want {
			t.Errorf("Go snippet, %s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, run := range []struct{ lang, cmd, file string }{{"Node", "node", "testdata/verify.js"}, {"Python", "python3", "testdata/verify.py"}} {
		if _, err := exec.LookPath(run.cmd); err != nil {
			t.Logf("%s snippet not run: no %s on this machine", run.lang, run.cmd)
			continue
		}
		for _, c := range cases {
			out, err := exec.Command(run.cmd, run.file, c.secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), c.body).CombinedOutput()
			want := map[bool]string{true: "ok", false: "refused"}[c.want]
			if err != nil || string(out) != want {
				t.Errorf("%s snippet, %s: %q (%v), want %q", run.lang, c.name, out, err, want)
			}
		}
	}
}
