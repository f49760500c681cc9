package salesforce

import (
	"net/http"
	"testing"
)

// FuzzVerifyRefusesModifiedMessages signs a callout, changes one byte of one
// signed part (or of the signature), and checks the verifier refuses it, and
// that no input makes the header parser or verifier panic.
func FuzzVerifyRefusesModifiedMessages(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Secret, v.Timestamp, v.Nonce, v.OrgID, v.Body, uint8(0), uint16(0), uint8(1))
	}
	f.Fuzz(func(t *testing.T, secret, ts, nonce, org, body string, part uint8, pos uint16, flip uint8) {
		sig := SignV1([]byte(secret), ts, nonce, org, "POST", "/api/crm/cardView", []byte(body))
		h := http.Header{}
		h.Set(HeaderOrg, org)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderNonce, nonce)
		h.Set(HeaderSignature, sig)
		parsed, err := ParseCalloutHeaders(h)
		if err != nil {
			return // malformed headers are refused before any MAC work
		}
		if secret == "" {
			// An empty secret is no secret (a connection whose secret is
			// missing): the verifier never accepts a MAC made with it.
			if err := VerifyMAC(parsed, [][]byte{nil}, "POST", "/api/crm/cardView", []byte(body)); err == nil {
				t.Fatalf("a message signed with an empty secret was accepted")
			}
			return
		}
		if err := VerifyMAC(parsed, [][]byte{[]byte(secret)}, "POST", "/api/crm/cardView", []byte(body)); err != nil {
			t.Fatalf("an untouched signed message was refused: %v", err)
		}
		if flip == 0 {
			return
		}
		mutate := func(s string) string {
			if len(s) == 0 {
				return string([]byte{flip})
			}
			b := []byte(s)
			b[int(pos)%len(b)] ^= flip
			return string(b)
		}
		m := *parsed
		path, method, mbody := "/api/crm/cardView", "POST", body
		switch part % 6 {
		case 0:
			mbody = mutate(body)
		case 1:
			m.Timestamp = mutate(ts)
		case 2:
			m.Nonce = mutate(nonce)
		case 3:
			m.OrgHeader = mutate(org)
		case 4:
			path = mutate(path)
		case 5:
			mac := append([]byte(nil), m.MAC...)
			mac[int(pos)%len(mac)] ^= flip
			m.MAC = mac
		}
		if err := VerifyMAC(&m, [][]byte{[]byte(secret)}, method, path, []byte(mbody)); err == nil {
			t.Fatalf("a modified message (part %d) was accepted", part%6)
		}
	})
}

// FuzzParseCalloutBody feeds arbitrary bodies to the parser: it must not
// panic, and whatever it accepts must be a well-formed record.
func FuzzParseCalloutBody(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.Body))
	}
	f.Add([]byte(`{"recordId":"0065g00000AbCdE","objectType":"Opportunity","record":{"amount":1e400}}`))
	f.Add([]byte(`{"recordId":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, r, err := ParseCalloutBody(body)
		if err != nil {
			return
		}
		if len(r.ID) != 18 || r.Type == "" {
			t.Fatalf("accepted a record without a valid id or type: %+v", r)
		}
		if r.Currency != "" && len(r.Currency) != 3 {
			t.Fatalf("accepted currency %q", r.Currency)
		}
	})
}
