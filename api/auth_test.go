package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

type whoAmI struct {
	Body struct {
		Workspace  string `json:"workspace"`
		Connection string `json:"connection"`
	}
}

// The key middleware: no header, a malformed token, an unknown key, a
// revoked or expired key and a key without the operation's scope are each
// refused with their own code in the project's error shape; a key with
// the scope reaches the handler, which sees it.
func TestKeysAndScopes(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	db := storetest.New(t)
	conn, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Acme", Provider: qwoty.ProviderHubSpot, ExternalID: "62515"})
	if err != nil {
		t.Fatal(err)
	}
	r := web.NewEngine(slog.New(slog.DiscardHandler), web.NewErrors(nil, nil), web.API, nil)
	a := Mount(r, Deps{DB: db, Errors: web.NewErrors(nil, nil)})
	huma.Register(a.Huma(), huma.Operation{OperationID: "test-who", Method: http.MethodGet, Path: "/test/who",
		Security: Secured(qwoty.ScopeQuotesRead)}, func(ctx context.Context, _ *struct{}) (*whoAmI, error) {
		k := KeyOf(ctx)
		out := &whoAmI{}
		out.Body.Workspace, out.Body.Connection = k.WorkspaceID, k.ConnectionID
		return out, nil
	})
	make := func(scopes []string, expires *time.Time) string {
		tok, _, err := db.CreateAPIKey(ctx, conn.WorkspaceID, conn.ID, "test", scopes, expires, "admin@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := make([]string{"quotes:read"}, nil)
	other := make([]string{"catalog:read"}, nil)
	soon := time.Now().Add(time.Second)
	expiring := make([]string{"quotes:read"}, &soon)
	revoked := make([]string{"quotes:read"}, nil)
	keys, err := db.APIKeys(ctx, conn.WorkspaceID, conn.ID)
	if err != nil || len(keys) != 4 {
		t.Fatalf("keys: %d, %v", len(keys), err)
	}
	for _, k := range keys {
		if revoked[:qwoty.APIKeyShown] == k.Prefix {
			if err := db.RevokeAPIKey(ctx, conn.WorkspaceID, conn.ID, k.ID, "admin@acme.example"); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(time.Until(soon))
	broken := good[:len(good)-1] + string("0123456789"[(int(good[len(good)-1])+1)%10])
	for _, tc := range []struct {
		name, auth string
		status     int
		code       qwoty.Code
	}{
		{"no header", "", 401, qwoty.CodeAPIKeyInvalid},
		{"not bearer", "Basic " + good, 401, qwoty.CodeAPIKeyInvalid},
		{"malformed", "Bearer qwk_short", 401, qwoty.CodeAPIKeyInvalid},
		{"bad checksum", "Bearer " + broken, 401, qwoty.CodeAPIKeyInvalid},
		{"unknown", "Bearer " + qwoty.NewAPIKey(), 401, qwoty.CodeAPIKeyInvalid},
		{"revoked", "Bearer " + revoked, 401, qwoty.CodeAPIKeyRevoked},
		{"expired", "Bearer " + expiring, 401, qwoty.CodeAPIKeyExpired},
		{"wrong scope", "Bearer " + other, 403, qwoty.CodeScopeMissing},
		{"good", "Bearer " + good, 200, ""},
	} {
		req := httptest.NewRequest(http.MethodGet, Base+"/test/who", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, w.Code, tc.status, w.Body)
			continue
		}
		if tc.code == "" {
			var got whoAmI
			if err := json.Unmarshal(w.Body.Bytes(), &got.Body); err != nil || got.Body.Connection != conn.ID || got.Body.Workspace != conn.WorkspaceID {
				t.Errorf("%s: %s (%v)", tc.name, w.Body, err)
			}
			continue
		}
		var body web.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != tc.code || body.Error.Hint == "" {
			t.Errorf("%s: %s, want code %s with a hint (%v)", tc.name, w.Body, tc.code, err)
		}
	}
	// The document is served, names the scheme and the operation's scope.
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Base+"/openapi.json", nil))
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Code != 200 {
		t.Fatalf("openapi.json: %d %v", w.Code, err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/test/who"]["get"].Security[0]["apiKey"][0] != "quotes:read" {
		t.Errorf("document: %+v", doc)
	}
}
