package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// Sent, revised, edited and sent again through the API: each sent
// revision is listed, frozen as sent, its hash checkable from its
// canonical bytes; revise refuses an accepted quote and a draft; a stale
// version is refused; PUT lines with revise: true revises in the same call.
func TestQuoteRevisions(t *testing.T) {
	e := newEnv(t)
	k := e.all(e.a1)
	var q Quote
	e.do(k, "POST", "/quotes", map[string]any{"crmRecordId": "deal-r", "currency": "EUR",
		"lines": []map[string]any{{"sku": "A", "description": "Desk", "quantity": "2", "unitPrice": "100"}}}).decode(t, &q)
	if q.Revision != 1 || q.ValidUntil != "" {
		t.Fatalf("created: revision %d valid until %q", q.Revision, q.ValidUntil)
	}
	if r := e.do(k, "POST", "/quotes/"+q.ID+"/revise", nil); r.Status != http.StatusConflict || r.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("revise a draft: %d %s, want 409 invalid_status_transition", r.Status, r.Body)
	}
	var versions struct {
		Data []QuoteVersion `json:"data"`
	}
	e.do(k, "GET", "/quotes/"+q.ID+"/versions", nil).decode(t, &versions)
	if len(versions.Data) != 0 {
		t.Fatalf("a draft's versions: %+v, want none", versions.Data)
	}
	var sent Quote
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent"}).decode(t, &sent)
	today := time.Now().UTC()
	if want := time.Date(today.Year(), today.Month(), today.Day()+30, 0, 0, 0, 0, time.UTC).Format(time.DateOnly); sent.ValidUntil != want {
		t.Fatalf("sent: valid until %q, want %s (30 days, the workspace's default)", sent.ValidUntil, want)
	}
	// A stale version is refused; the current one revises.
	if r := e.do(k, "POST", "/quotes/"+q.ID+"/revise", map[string]any{"version": 1}); r.Status != http.StatusConflict || r.code() != qwoty.CodeVersionConflict {
		t.Fatalf("stale revise: %d %s, want 409 version_conflict", r.Status, r.Body)
	}
	var rev Quote
	e.do(k, "POST", "/quotes/"+q.ID+"/revise", map[string]any{"version": sent.Version}).decode(t, &rev)
	if rev.Status != "draft" || rev.Revision != 2 || rev.ValidUntil != "" || len(rev.Lines) != 1 || rev.Lines[0].SKU != "A" {
		t.Fatalf("revised: %+v", rev)
	}
	e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"lines": []map[string]any{{"sku": "A", "description": "Desk", "quantity": "3", "unitPrice": "100"}}})
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent"})
	// PUT lines with revise: true on a sent quote: revision 3, in one call.
	var r3 Quote
	e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"revise": true, "lines": []map[string]any{{"sku": "B", "quantity": "1", "unitPrice": "5"}}}).decode(t, &r3)
	if r3.Status != "draft" || r3.Revision != 3 || len(r3.Lines) != 1 || r3.Lines[0].SKU != "B" {
		t.Fatalf("lines with revise: %+v", r3)
	}

	e.do(k, "GET", "/quotes/"+q.ID+"/versions", nil).decode(t, &versions)
	if len(versions.Data) != 2 {
		t.Fatalf("versions: %+v, want revisions 1 and 2", versions.Data)
	}
	for i, v := range versions.Data {
		sum := sha256.Sum256([]byte(v.Canonical))
		if v.Revision != i+1 || !v.Intact || hex.EncodeToString(sum[:]) != v.SHA256 || v.Snapshot.Revision != i+1 ||
			v.FrozenBy != "api-key:ERP sync" || v.Currency != "EUR" {
			t.Errorf("version %d: %+v", i+1, v)
		}
	}
	if versions.Data[0].Total != "200.00" || versions.Data[1].Total != "300.00" || versions.Data[1].Snapshot.Lines[0].Quantity != "3" {
		t.Errorf("totals %s, %s; want 200.00 then 300.00", versions.Data[0].Total, versions.Data[1].Total)
	}
	var one QuoteVersion
	e.do(k, "GET", "/quotes/"+q.ID+"/versions/2", nil).decode(t, &one)
	if one.SHA256 != versions.Data[1].SHA256 || one.Canonical != versions.Data[1].Canonical {
		t.Errorf("version 2 alone: %+v", one)
	}
	if r := e.do(k, "GET", "/quotes/"+q.ID+"/versions/3", nil); r.Status != http.StatusNotFound || r.code() != qwoty.CodeNotFound {
		t.Errorf("the draft revision 3: %d %s, want 404", r.Status, r.Body)
	}
	if r := e.doInvalid(k, "GET", "/quotes/"+q.ID+"/versions/0", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("revision 0: %d %s, want 422", r.Status, r.Body)
	}

	// Accepted is final.
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "sent"})
	e.do(k, "POST", "/quotes/"+q.ID+"/status", map[string]any{"status": "accepted"})
	if r := e.do(k, "POST", "/quotes/"+q.ID+"/revise", nil); r.Status != http.StatusConflict || r.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("revise an accepted quote: %d %s, want 409", r.Status, r.Body)
	}
	if r := e.do(k, "PUT", "/quotes/"+q.ID+"/lines", map[string]any{"revise": true, "lines": []map[string]any{}}); r.Status != http.StatusConflict || r.code() != qwoty.CodeInvalidTransition {
		t.Fatalf("lines with revise of an accepted quote: %d %s, want 409", r.Status, r.Body)
	}
}
