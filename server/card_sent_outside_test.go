package server

import (
	"bytes"
	"net/http"
	"regexp"
	"testing"
)

var sentOutsidePattern = regexp.MustCompile(`(?s)<details class="sent-outside" id="sent-outside"><summary id="sent-outside-open">Sent outside Qwoty…</summary><p id="sent-outside-note">([^<]*)</p><button[^>]* id="status-sent"[^>]*data-status="sent">Mark (Q-\d+) as sent</button></details>`)

// A draft is sent with "Send to customer…". Marking it sent without Qwoty
// sending anything is a secondary action behind the card's confirmation,
// saying that nothing is sent; it is the only control that marks a quote
// sent, and it still works (a rep who sent the quote themselves).
func TestMarkSentIsASecondaryActionBehindAConfirmation(t *testing.T) {
	a := newApp(t, "", nil)
	_, tok, base, r := cardQuote(t, a)
	if !bytes.Contains(r.body, []byte(`id="send-open"`)) || !bytes.Contains(r.body, []byte(`>Send to customer…</button>`)) {
		t.Fatalf("the draft's editor has no Send to customer…:\n%s", r.body)
	}
	m := sentOutsidePattern.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no \"Sent outside Qwoty…\" disclosure holding the mark-sent button:\n%s", r.body)
	}
	if !bytes.Contains(m[1], []byte("Qwoty sends nothing")) || !bytes.Contains(m[1], m[2]) {
		t.Fatalf("the confirmation does not say nothing is sent, for %s: %q", m[2], m[1])
	}
	if n := bytes.Count(r.body, []byte(`data-status="sent"`)); n != 1 {
		t.Fatalf("%d controls mark the quote sent, want the one in the disclosure", n)
	}
	if bytes.Contains(r.body, []byte(">Mark as sent<")) {
		t.Fatal("a bare \"Mark as sent\" button is still on the card")
	}
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"status": "sent", "version": editorVersion(t, r)})
	if r.status != 200 || !bytes.Contains(r.body, []byte(`id="quote-status">Sent`)) {
		t.Fatalf("marking sent: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte(`id="sent-outside"`)) {
		t.Fatal("a sent quote still offers to mark it sent")
	}
}
