package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// An admin adds a custom mapping picked from the CRM's real fields; one
// that names a field the CRM lacks, a read-only field or a type that cannot
// carry the value is refused with the reason and the form as typed; a
// member may not see the page; a field deleted in the CRM later is found
// broken by the check and the page says so.
func TestMappingsFromTheCRMsFields(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	page := e.url() + "/settings/integrations/testcrm/mappings"
	e.b.Get(page).Want(200, "/settings/integrations/testcrm/mappings", "Field mappings", `value="deal:quote_number"`, "Quote number (quote_number)")

	add := func(qf, field, dir, pol, vm string) {
		e.b.Post(page, url.Values{"csrf": {e.b.CSRF()}, "qwoty_field": {qf}, "crm_field": {field}, "direction": {dir}, "policy": {pol}, "value_map": {vm}})
	}
	add("quote.number", "deal:quote_number", "push", "qwoty_wins", "")
	e.b.Want(200, "/settings/integrations/testcrm/mappings", `data-mapping="quote.number=quote_number"`)

	refused := []struct{ qf, field, dir, vm, want string }{
		{"quote.total", "deal:gone", "push", "", "has no field &#34;gone&#34;"},
		{"quote.total", "deal:weighted", "push", "", "is read-only"},
		{"quote.total", "deal:quote_date", "push", "", "cannot be written into quote_date"},
		{"quote.status", "deal:stage", "both", "accepted = closed", "has no value"},
		{"quote.status", "deal:stage", "both", "accepted", "each line of the value map"},
		{"quote.number", "deal:quote_number", "push", "", "is mapped already"},
	}
	for _, r := range refused {
		add(r.qf, r.field, r.dir, "last_write_wins", r.vm)
		if e.b.Last.StatusCode != http.StatusUnprocessableEntity && e.b.Last.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s → %s: status %d, want a 4xx\n%s", r.qf, r.field, e.b.Last.StatusCode, e.b.Body)
		}
		if body := string(e.b.Body); !strings.Contains(body, r.want) || !strings.Contains(body, `data-field=`) {
			t.Fatalf("%s → %s: the page lacks %q:\n%s", r.qf, r.field, r.want, body)
		}
	}
	all, err := e.db.Mappings(ctx, e.conn.WorkspaceID, e.conn.ID)
	var ms []qwoty.Mapping
	standard := 0
	for _, m := range all {
		if m.Standard {
			standard++
		} else {
			ms = append(ms, m)
		}
	}
	// The standard mappings were preset (the test CRM has no created-date
	// field of its own: four of five), and one custom mapping was added.
	if err != nil || len(ms) != 1 || standard != 4 {
		t.Fatalf("mappings after the refusals: %+v, %v", all, err)
	}

	// The standard status mapping is edited: its value map is the stage
	// map, checked against the field's values; its Qwoty value stays.
	var status qwoty.Mapping
	for _, m := range all {
		if m.QwotyField == "quote.status" {
			status = m
		}
	}
	edit := page + "/" + status.ID
	e.b.Get(edit).Want(200, "", "Change the mapping of Quote status", "sent = proposal")
	post := func(qf, vm, pol string) {
		e.b.Post(edit, url.Values{"csrf": {e.b.CSRF()}, "qwoty_field": {qf}, "crm_field": {"deal:stage"}, "direction": {"both"}, "policy": {pol}, "value_map": {vm}})
	}
	post("quote.status", "accepted = champagne", "manual")
	e.b.Want(http.StatusUnprocessableEntity, "", "has no value &#34;champagne&#34;")
	post("quote.title", "", "manual")
	e.b.Want(http.StatusUnprocessableEntity, "", "a standard mapping keeps its Qwoty value")
	e.b.Get(edit)
	post("quote.status", "sent = proposal\naccepted = won\nrejected = lost", "manual")
	e.b.Want(200, "/settings/integrations/testcrm/mappings")
	if ms, _ := e.db.Mappings(ctx, e.conn.WorkspaceID, e.conn.ID); !hasMapping(ms, func(m qwoty.Mapping) bool {
		return m.ID == status.ID && m.Policy == qwoty.Manual && m.ValueMap["accepted"] == "won" && m.Standard
	}) {
		t.Fatalf("the edited status mapping: %+v", ms)
	}

	// Members do not see mappings.
	member := e.user(t, "member")
	member.Get(page).Want(http.StatusForbidden, "")

	// The field is deleted in the CRM: the check marks the mapping broken.
	var kept []tctest.Field
	for _, f := range tctest.DefaultFields["deal"] {
		if f.Name != "quote_number" {
			kept = append(kept, f)
		}
	}
	e.emu.SetFields("deal", kept)
	fields, _, err := crmsyncFields(ctx, e, "deal")
	if err != nil {
		t.Fatal(err)
	}
	if broken := qwoty.Recheck(ms[0], fields); !strings.Contains(broken, "quote_number") {
		t.Fatalf("recheck after the field went: %q", broken)
	}
	if err := e.db.MarkMapping(ctx, e.conn.ID, ms[0].ID, qwoty.Recheck(ms[0], fields)); err != nil {
		t.Fatal(err)
	}
	e.b.Get(page).Want(200, "", "Broken", "has no field &#34;quote_number&#34;")
	// Health names it on Integrations.
	e.b.Get(e.url()+"/settings/integrations").Want(200, "", "A field mapping stopped working (quote_number: ", `id="mappings-testcrm"`)

	// A custom mapping can be removed.
	e.b.Post(page+"/"+ms[0].ID+"/delete", url.Values{"csrf": {e.b.CSRF()}}).Want(200, "/settings/integrations/testcrm/mappings")
	if ms, _ := e.db.Mappings(ctx, e.conn.WorkspaceID, e.conn.ID); len(ms) != standard {
		t.Fatalf("after removing: %+v", ms)
	}
}

func crmsyncFields(ctx context.Context, e *syncEnv, object string) ([]qwoty.CRMField, bool, error) {
	a, _ := e.con.crms.Get(e.conn.Provider)
	return crmsync.DescribeFields(ctx, e.db, a, e.conn, object)
}

// A conflict shows both values; the admin keeps one. Taking a stage the
// quote's lifecycle refuses is answered with the reason and leaves the
// conflict open; a member may not see or resolve conflicts.
func TestConflictsPage(t *testing.T) {
	e := newSyncEnv(t, "")
	ctx := context.Background()
	page := e.url() + "/settings/integrations/testcrm/conflicts"
	e.b.Get(page).Want(200, "/settings/integrations/testcrm/conflicts", "No conflict waits")

	id, err := e.db.OpenConflict(ctx, e.conn.WorkspaceID, e.conn.ID, store.Conflict{Object: "customer", CRMID: "acc-1",
		Field: "Customer email", QwotyValue: "ap@acme.example", CRMValue: "billing@acme.example", Reason: "both sides changed"})
	if err != nil {
		t.Fatal(err)
	}
	e.b.Get(page).Want(200, "", "ap@acme.example", "billing@acme.example", `id="keep-crm-`+id+`"`)
	e.b.Get(e.url()+"/settings/integrations").Want(200, "", "1 conflict waits for an admin", `id="conflicts-testcrm"`)
	e.b.Get(page)

	member := e.user(t, "member")
	member.Get(page).Want(http.StatusForbidden, "")

	e.b.Post(page+"/"+id, url.Values{"csrf": {e.b.CSRF()}, "side": {"neither"}})
	if e.b.Last.StatusCode < 400 || e.b.Last.StatusCode >= 500 {
		t.Fatalf("a bad side: %d", e.b.Last.StatusCode)
	}
	e.b.Get(page)
	e.b.Post(page+"/"+id, url.Values{"csrf": {e.b.CSRF()}, "side": {"crm"}}).Want(200, "/settings/integrations/testcrm/conflicts", "No conflict waits")
	e.b.Post(page+"/"+id, url.Values{"csrf": {e.b.CSRF()}, "side": {"crm"}})
	if e.b.Last.StatusCode != http.StatusNotFound {
		t.Fatalf("resolving twice: %d", e.b.Last.StatusCode)
	}
}

func hasMapping(ms []qwoty.Mapping, f func(qwoty.Mapping) bool) bool {
	for _, m := range ms {
		if f(m) {
			return true
		}
	}
	return false
}
