package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Pipedrive's webhook route answers with the catalogue: 401 without or
// with wrong credentials, 200 (dropped) for a disconnected connection.
func TestPipedriveWebhookRoute(t *testing.T) {
	a := newApp(t, "", nil)
	ctx := context.Background()
	conn, err := a.db.AddConnection(ctx, store.AddConnectionParams{Provider: qwoty.ProviderPipedrive, ExternalID: "54321", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.SetWebhooks(ctx, conn.ID, []byte("right-password"), []string{"1"}); err != nil {
		t.Fatal(err)
	}
	post := func(user, pass string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, a.url()+"/webhooks/pipedrive/"+conn.ID,
			strings.NewReader(`{"meta":{"action":"change","entity":"deal","entity_id":3,"id":3,"user_id":9,"change_source":"app","timestamp":1},"data":{"update_time":"2026-03-01T10:00:00Z"},"previous":null}`))
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Error.Code
	}
	if st, code := post("", ""); st != http.StatusUnauthorized || code != string(qwoty.CodeSignatureMissing) {
		t.Errorf("no credentials: %d %q", st, code)
	}
	if st, code := post("qwoty", "wrong"); st != http.StatusUnauthorized || code != string(qwoty.CodeSignatureInvalid) {
		t.Errorf("wrong password: %d %q", st, code)
	}
	if st, _ := post("qwoty", "right-password"); st != http.StatusOK {
		t.Errorf("right password: %d", st)
	}
	if err := a.db.Disconnect(ctx, conn.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if st, _ := post("qwoty", "right-password"); st != http.StatusOK {
		t.Errorf("disconnected: %d, want 200", st)
	}
}
