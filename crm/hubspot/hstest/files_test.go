package hstest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot/hstest"
)

func send(t *testing.T, srv *hstest.Server, method, path, token, typ string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", typ)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// The Files API's upload refuses what HubSpot refuses (no file, no
// options.access, both or neither folder fields), and a note attaches a
// file to a deal only when both exist.
func TestUploadAndAttach(t *testing.T) {
	srv := hstest.New(t, hstest.Options{})
	at := tokens(t, srv)["access_token"].(string)
	file := crm.Part{Name: "file", FileName: "q.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 x")}
	opts := crm.Part{Name: "options", Data: []byte(`{"access":"PRIVATE"}`)}
	folder := crm.Part{Name: "folderPath", Data: []byte("/Qwoty quotes")}
	for name, parts := range map[string][]crm.Part{
		"no file":       {opts, folder},
		"no options":    {file, folder},
		"bad access":    {file, folder, {Name: "options", Data: []byte(`{"access":"SECRET"}`)}},
		"no folder":     {file, opts},
		"both folders":  {file, opts, folder, {Name: "folderId", Data: []byte("12")}},
		"options not {": {file, folder, {Name: "options", Data: []byte(`PRIVATE`)}},
	} {
		body, typ, _ := crm.Multipart(parts...)
		if status, v := send(t, srv, "POST", "/files/v3/files", at, typ, body); status != http.StatusBadRequest || v["category"] != "VALIDATION_ERROR" {
			t.Errorf("%s: %d %v, want 400 VALIDATION_ERROR", name, status, v)
		}
	}
	if n := srv.AllFiles(hstest.DefaultPortalID); n != 0 {
		t.Fatalf("%d files stored by refused uploads", n)
	}
	body, typ, _ := crm.Multipart(file, opts, folder)
	status, v := send(t, srv, "POST", "/files/v3/files", at, typ, body)
	if status != http.StatusCreated || v["name"] != "q" || v["extension"] != "pdf" || v["path"] != "/Qwoty quotes/q.pdf" {
		t.Fatalf("upload = %d %v", status, v)
	}
	id := v["id"].(string)
	note := func(deal, attachment string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"properties": map[string]string{"hs_timestamp": "1764400000000", "hs_attachment_ids": attachment},
			"associations": []any{map[string]any{"to": map[string]string{"id": deal},
				"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": hstest.NoteToDeal}}}}})
		return send(t, srv, "POST", "/crm/objects/2026-03/notes", at, "application/json", b)
	}
	if status, v := note("no-such-deal", id); status != http.StatusBadRequest {
		t.Errorf("note on a missing deal = %d %v", status, v)
	}
	if status, v := note(hstest.DefaultDealID, "424242"); status != http.StatusBadRequest {
		t.Errorf("note attaching a missing file = %d %v", status, v)
	}
	if got := srv.Files(hstest.DefaultPortalID, hstest.DefaultDealID); len(got) != 0 {
		t.Fatalf("refused notes attached %v", got)
	}
	if status, v := note(hstest.DefaultDealID, id); status != http.StatusCreated {
		t.Fatalf("note = %d %v", status, v)
	}
	got := srv.Files(hstest.DefaultPortalID, hstest.DefaultDealID)
	if len(got) != 1 || got[0].ID != id || string(got[0].Data) != "%PDF-1.4 x" {
		t.Fatalf("files on the deal: %+v", got)
	}
	status, v = get(t, srv, "/crm/v4/objects/deals/"+hstest.DefaultDealID+"/associations/notes", at)
	if results, _ := v["results"].([]any); status != http.StatusOK || len(results) != 1 {
		t.Fatalf("the deal's notes = %d %v", status, v)
	}
}

// Without the files scope the upload is refused as HubSpot does.
func TestUploadNeedsTheFilesScope(t *testing.T) {
	srv := hstest.New(t, hstest.Options{App: hstest.App{RequiredScopes: []string{"oauth", "crm.objects.deals.read"}}})
	q := authorizeQuery()
	q.Set("scope", "oauth crm.objects.deals.read")
	_, back := authorize(t, srv, q)
	status, tv := post(t, srv, "/oauth/2026-03/token", codeForm(back.Get("code")))
	if status != http.StatusOK {
		t.Fatalf("token = %d %v", status, tv)
	}
	body, typ, _ := crm.Multipart(crm.Part{Name: "file", FileName: "q.pdf", Data: []byte("x")},
		crm.Part{Name: "options", Data: []byte(`{"access":"PRIVATE"}`)}, crm.Part{Name: "folderPath", Data: []byte("/x")})
	if status, v := send(t, srv, "POST", "/files/v3/files", tv["access_token"].(string), typ, body); status != http.StatusForbidden || v["category"] != "MISSING_SCOPES" {
		t.Fatalf("upload without files = %d %v", status, v)
	}
}
