package pdtest_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
)

// "Add file" takes one part "file" and a deal_id of the company's deals,
// with deals:full; the deal's files list it under the name uploaded.
func TestAddFileToDeal(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		Scopes: pdtest.SyncScopes}})
	srv.PutDeal(pdtest.DefaultCompanyID, pdtest.Deal{ID: 41, Title: "Deal", Currency: "EUR"})
	bearer := "Bearer " + connect(t, srv)["access_token"].(string)
	upload := func(parts ...crm.Part) (int, map[string]any) {
		body, typ, _ := crm.Multipart(parts...)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/files", bytes.NewReader(body))
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", typ)
		return do(t, req)
	}
	file := crm.Part{Name: "file", FileName: "Q-00001 v1.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 x")}
	if status, v := upload(crm.Part{Name: "deal_id", Data: []byte("41")}); status != http.StatusBadRequest || v["success"] != false {
		t.Errorf("no file = %d %v", status, v)
	}
	if status, v := upload(file, crm.Part{Name: "deal_id", Data: []byte("9999")}); status != http.StatusNotFound {
		t.Errorf("unknown deal = %d %v", status, v)
	}
	if len(srv.Files(pdtest.DefaultCompanyID, 41)) != 0 {
		t.Fatal("a refused upload was stored")
	}
	status, v := upload(file, crm.Part{Name: "deal_id", Data: []byte("41")})
	data, _ := v["data"].(map[string]any)
	if status != http.StatusOK || data["name"] != "Q-00001 v1.pdf" || data["deal_id"] == nil {
		t.Fatalf("upload = %d %v", status, v)
	}
	status, v = get(t, srv, bearer, "/api/v1/deals/41/files")
	if list, _ := v["data"].([]any); status != http.StatusOK || len(list) != 1 {
		t.Fatalf("the deal's files = %d %v", status, v)
	}
	got := srv.Files(pdtest.DefaultCompanyID, 41)
	if len(got) != 1 || string(got[0].Data) != "%PDF-1.4 x" {
		t.Fatalf("files: %+v", got)
	}
}

// Uploading needs deals:full.
func TestAddFileNeedsDealsFull(t *testing.T) {
	srv := pdtest.New(t, pdtest.Options{App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		Scopes: []string{"base", "deals:read"}}})
	bearer := "Bearer " + connect(t, srv)["access_token"].(string)
	body, typ, _ := crm.Multipart(crm.Part{Name: "file", FileName: "q.pdf", Data: []byte("x")}, crm.Part{Name: "deal_id", Data: []byte("3")})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/files", bytes.NewReader(body))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", typ)
	if status, v := do(t, req); status != http.StatusForbidden || v["error"] != "Scope and URL mismatch" {
		t.Fatalf("upload with deals:read = %d %v", status, v)
	}
}
