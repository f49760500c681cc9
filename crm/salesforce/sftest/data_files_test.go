package sftest_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// A ContentVersion inserted with FirstPublishLocationId makes a file shared
// with the record; PathOnClient and VersionData are required, VersionData
// is base64, and the record must exist.
func TestContentVersionInsert(t *testing.T) {
	r := newREST(t, sftest.Org{})
	opp := r.opportunity(nil)
	data := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 x"))
	for name, body := range map[string]map[string]any{
		"no PathOnClient": {"VersionData": data, "FirstPublishLocationId": opp},
		"no VersionData":  {"PathOnClient": "q.pdf", "FirstPublishLocationId": opp},
		"not base64":      {"PathOnClient": "q.pdf", "VersionData": "%%%", "FirstPublishLocationId": opp},
		"no such record":  {"PathOnClient": "q.pdf", "VersionData": data, "FirstPublishLocationId": "006000000000099AAA"},
	} {
		if status, v, _ := r.do("POST", api+"/sobjects/ContentVersion", body); status != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", name, status, v)
		}
	}
	status, v, _ := r.do("POST", api+"/sobjects/ContentVersion", map[string]any{"PathOnClient": "Q-00001 v1.pdf", "VersionData": data,
		"FirstPublishLocationId": opp})
	if status != http.StatusCreated {
		t.Fatalf("insert = %d %v", status, v)
	}
	id := v.(map[string]any)["id"].(string)
	rows := r.query("SELECT Id, Title, ContentDocumentId, ContentSize, FileExtension FROM ContentVersion WHERE FirstPublishLocationId = '" +
		opp + "' AND Title = 'Q-00001 v1' AND IsLatest = true")
	if len(rows) != 1 {
		t.Fatalf("versions on the opportunity: %v", rows)
	}
	row := rows[0].(map[string]any)
	if row["Id"] != id || row["FileExtension"] != "pdf" || row["ContentDocumentId"] == nil {
		t.Fatalf("version %v", row)
	}
	recs := r.srv.Records(sftest.DefaultOrgID, "ContentVersion", "FirstPublishLocationId", opp)
	if got, _ := recs[0]["VersionData"].([]byte); len(recs) != 1 || string(got) != "%PDF-1.4 x" {
		t.Fatalf("stored versions: %v", recs)
	}
}
