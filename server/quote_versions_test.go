package server

import (
	"net/http"
	"strings"
	"testing"
)

// On the card: a sent quote offers Revise (not a status button back to
// draft); revising makes revision 2 a draft; the versions panel lists the
// sent revision and the draft, and shows what changed between them; sent
// again, both are listed as sent, and any two can be compared. An
// accepted quote offers no Revise; a comparison of a revision the quote
// does not have is a validation error naming the field.
func TestCardRevisionsAndVersions(t *testing.T) {
	a := newApp(t, "", nil)
	org := orgID(t, "00D00000000000A")
	conn := a.connect("Acme", org, "acme")
	_, tok := a.page(openCard(t, a, org, conn.Secret).EmbedURL)
	version := func(r response) string { return string(versionPattern.FindSubmatch(r.body)[1]) }

	r := a.action(http.MethodPost, "/embed/api/quotes", tok, nil)
	id := string(quoteIDPattern.FindSubmatch(r.body)[1])
	base := "/embed/api/quotes/" + id
	if strings.Contains(string(r.body), `id="versions"`) || strings.Contains(string(r.body), `id="revise"`) {
		t.Fatalf("a new draft offers versions or Revise:\n%s", r.body)
	}
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "LIC", "description": "Licence", "quantity": "3", "unit_price": "10"})
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "SUP", "description": "Support", "quantity": "1", "unit_price": "100"})
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"version": version(r), "status": "sent"})
	body := string(r.body)
	if !strings.Contains(body, `id="revise"`) || strings.Contains(body, `id="status-draft"`) || !strings.Contains(body, `hx-get="`+base+`/versions"`) {
		t.Fatalf("a sent quote: want Revise, no status-draft button, the versions panel:\n%s", body)
	}
	sent := r
	r = a.action(http.MethodGet, base+"/versions", tok, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `id="version-1"`) || strings.Contains(string(r.body), `id="version-2"`) ||
		strings.Contains(string(r.body), `id="version-diff"`) {
		t.Fatalf("versions of a sent quote: %d\n%s", r.status, r.body)
	}

	a.action(http.MethodPost, base+"/revise", tok, map[string]string{"version": "1"}).wantError(t, 409, "version_conflict")
	r = a.action(http.MethodPost, base+"/revise", tok, map[string]string{"version": version(sent)})
	if r.status != 200 {
		t.Fatalf("revise: %d %s", r.status, r.body)
	}
	body = string(r.body)
	if !strings.Contains(body, `id="quote-status">Draft`) || strings.Contains(body, `id="revise"`) || !strings.Contains(body, `id="add-line"`) {
		t.Fatalf("revised: want an editable draft:\n%s", body)
	}
	// Change the support line's quantity, drop the licence, add training.
	lines := lineIDPattern.FindAllSubmatch(r.body, -1)
	licence, support := string(lines[0][1]), ""
	for _, m := range lines {
		if string(m[1]) != licence {
			support = string(m[1])
			break
		}
	}
	r = a.action(http.MethodPut, base+"/lines/"+support, tok, map[string]string{"version": version(r), "sku": "SUP", "description": "Support", "quantity": "2", "unit_price": "100"})
	r = a.action(http.MethodDelete, base+"/lines/"+licence+"?version="+version(r), tok, nil)
	r = a.action(http.MethodPost, base+"/lines", tok, map[string]string{"version": version(r), "sku": "TRN", "description": "Training", "quantity": "1", "unit_price": "50"})

	r = a.action(http.MethodGet, base+"/versions", tok, nil)
	body = string(r.body)
	for _, want := range []string{`id="version-1"`, `id="version-2"`, "Revision 2 (draft)", `data-from="1" data-to="2"`,
		`data-kind="removed"`, `data-kind="added"`, `data-kind="changed"`, "LIC · Licence", "TRN · Training", "SUP · Support",
		`<span class="d-field">quantity</span> <del>1</del> → <ins>2</ins>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("versions after revising: no %q in\n%s", want, body)
		}
	}
	// Sent again: both revisions are sent; compare them either way.
	q := a.action(http.MethodGet, base, tok, nil)
	a.action(http.MethodPost, base+"/status", tok, map[string]string{"version": version(q), "status": "sent"})
	r = a.action(http.MethodGet, base+"/versions", tok, nil)
	if body = string(r.body); strings.Contains(body, "(draft)") || strings.Count(body, "sent ") < 2 {
		t.Fatalf("after sending revision 2:\n%s", body)
	}
	r = a.action(http.MethodGet, base+"/versions/diff?from=2&to=1", tok, nil)
	if body = string(r.body); r.status != 200 || !strings.Contains(body, `data-from="2" data-to="1"`) || !strings.Contains(body, `<span class="d-field">quantity</span> <del>2</del> → <ins>1</ins>`) {
		t.Fatalf("diff 2 → 1: %d\n%s", r.status, body)
	}
	for bad, field := range map[string]string{"from=3&to=1": "from", "from=1&to=x": "to", "to=1": "from"} {
		e := a.action(http.MethodGet, base+"/versions/diff?"+bad, tok, nil).wantError(t, 422, "validation_failed")
		if !strings.HasPrefix(e.Message, field+" ") {
			t.Errorf("diff ?%s: %+v, want the message to name %s", bad, e, field)
		}
	}
	q = a.action(http.MethodGet, base, tok, nil)
	r = a.action(http.MethodPost, base+"/status", tok, map[string]string{"version": version(q), "status": "accepted"})
	if strings.Contains(string(r.body), `id="revise"`) {
		t.Fatal("an accepted quote offers Revise")
	}
	a.action(http.MethodPost, base+"/revise", tok, nil).wantError(t, 409, "invalid_status_transition")
}
