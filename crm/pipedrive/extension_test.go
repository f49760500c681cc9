package pipedrive_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
)

// panelHandler is the heart of /api/crm/pipedrive/panel as the server is
// meant to write it: parse Pipedrive's query, take identity from the
// verified token only, answer the panel (or its error state).
func panelHandler(secrets [][]byte, now func() time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(pipedrive.NewPanelError(qwoty.AsError(err), "req", nil))
		}
		q, err := pipedrive.ParseExtensionQuery(r.URL.Query())
		if err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		claims, err := pipedrive.VerifyPanelToken(q.Token, secrets, now())
		if err != nil {
			fail(http.StatusUnauthorized, err)
			return
		}
		resp, _ := pipedrive.NewPanelResponse([]pipedrive.PanelQuote{{Number: "Q-1", Status: qwoty.StatusDraft, Total: "1",
			Currency: "EUR", UpdatedAt: now(), URL: "https://app.example/q/1"}},
			pipedrive.ExternalLink{URL: "https://app.example/open?company=" + claims.CompanyKey() + "&user=" + claims.UserKey() + "&deal=" + url.QueryEscape(r.URL.Query().Get("selectedIds")), Label: "Open"}, "")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

func TestPanelRequestEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pd := pdtest.New(t, pdtest.Options{Now: clock,
		App: pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, PanelJWTSecret: "panel-secret"}})
	app := httptest.NewServer(panelHandler(pipedrive.PanelSecrets("panel-secret", pdtest.DefaultClientSecret), clock))
	t.Cleanup(app.Close)

	send := func(req *http.Request) (int, map[string]any) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, v
	}

	req, err := pd.PanelRequest(app.URL+pipedrive.PanelPath, pdtest.PanelParams{UserID: pdtest.DefaultRepID, DealID: pdtest.DefaultDealID})
	if err != nil {
		t.Fatal(err)
	}
	status, v := send(req)
	link, _ := v["external_link"].(map[string]any)
	if status != http.StatusOK || link["url"] != "https://app.example/open?company=54321&user=12346&deal=3" {
		t.Fatalf("panel = %d %v, want the rep of company 54321 on deal 3", status, v)
	}

	// The unsigned query lies about the company: the token wins.
	q := req.URL.Query()
	q.Set("companyId", "999")
	q.Set("userId", "1")
	forged := req.Clone(req.Context())
	forged.URL.RawQuery = q.Encode()
	if status, v := send(forged); status != http.StatusOK || v["external_link"].(map[string]any)["url"] != "https://app.example/open?company=54321&user=12346&deal=3" {
		t.Errorf("forged query = %d %v, want identity from the token", status, v)
	}

	// A token signed with the client secret, when the panel has its own
	// JWT secret, is not Pipedrive's.
	wrong := pdtest.New(t, pdtest.Options{Now: clock})
	req, _ = wrong.PanelRequest(app.URL+pipedrive.PanelPath, pdtest.PanelParams{DealID: 3})
	status, v = send(req)
	if e, _ := v["error"].(map[string]any); status != http.StatusUnauthorized || e["code"] != "signature_invalid" || e["title"] == "" {
		t.Errorf("client-secret token = %d %v, want signature_invalid with a title", status, v)
	}

	// Five minutes and the clock skew later, the same request is stale.
	req, _ = pd.PanelRequest(app.URL+pipedrive.PanelPath, pdtest.PanelParams{DealID: 3})
	now = now.Add(5*time.Minute + pipedrive.ClockSkew + time.Second)
	status, v = send(req)
	if e, _ := v["error"].(map[string]any); status != http.StatusUnauthorized || e["code"] != "timestamp_out_of_range" {
		t.Errorf("stale panel request = %d %v, want timestamp_out_of_range", status, v)
	}
}

func TestParseExtensionQuery(t *testing.T) {
	pd := pdtest.New(t, pdtest.Options{})
	req, err := pd.PanelRequest("https://app.example/api/crm/pipedrive/panel", pdtest.PanelParams{DealID: 3, IsShared: true})
	if err != nil {
		t.Fatal(err)
	}
	q, err := pipedrive.ParseExtensionQuery(req.URL.Query())
	if err != nil {
		t.Fatal(err)
	}
	if q.Resource != "deal" || q.View != "details" || q.DealID != 3 || !q.IsShared || q.Token == "" || q.RuntimeID != "" ||
		q.UserID != "12345" || q.CompanyID != "54321" {
		t.Errorf("panel query = %+v", q)
	}

	raw, err := pd.CustomUIURL("https://app.example/embed/pipedrive/card", pdtest.CustomUIParams{DealID: 4})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q, err = pipedrive.ParseExtensionQuery(u.Query())
	if err != nil {
		t.Fatal(err)
	}
	if q.DealID != 4 || q.IsShared || q.RuntimeID == "" || q.Token == "" {
		t.Errorf("iframe query = %+v", q)
	}
	claims, err := pipedrive.VerifyPanelToken(q.Token, pipedrive.PanelSecrets("", pdtest.DefaultClientSecret), time.Now())
	if err != nil || claims.CompanyID != pdtest.DefaultCompanyID || claims.UserID != pdtest.DefaultAdminID {
		t.Errorf("iframe token: %+v, %v", claims, err)
	}
	// The SDK's GET_SIGNED_TOKEN, which the page exchanges at the server.
	tok, _ := pd.SignedToken(pdtest.DefaultRepID)
	claims, err = pipedrive.VerifyPanelToken(tok, pipedrive.PanelSecrets("", pdtest.DefaultClientSecret), time.Now())
	if err != nil || claims.UserID != pdtest.DefaultRepID {
		t.Errorf("SDK token: %+v, %v", claims, err)
	}

	bad := []url.Values{
		{"resource": {"person"}, "selectedIds": {"3"}},
		{"selectedIds": {"3"}},
		{"resource": {"deal"}},
		{"resource": {"deal"}, "selectedIds": {"1,9"}},
		{"resource": {"deal"}, "selectedIds": {"abc"}},
		{"resource": {"deal"}, "selectedIds": {"-3"}},
		{"resource": {"deal"}, "selectedIds": {"3"}, "isShared": {"maybe"}},
	}
	for _, v := range bad {
		if _, err := pipedrive.ParseExtensionQuery(v); qwoty.ErrorCode(err) != qwoty.CodeBadRequest {
			t.Errorf("query %v: %v, want bad_request", v, err)
		}
	}
	// No token is the verifier's business: signature_missing.
	q, err = pipedrive.ParseExtensionQuery(url.Values{"resource": {"deal"}, "selectedIds": {"3"}})
	if err != nil || q.Token != "" {
		t.Fatalf("query without token: %+v, %v", q, err)
	}
	if _, err := pipedrive.VerifyPanelToken(q.Token, pipedrive.PanelSecrets("", "s"), time.Now()); qwoty.ErrorCode(err) != qwoty.CodeSignatureMissing {
		t.Errorf("no token: %v, want signature_missing", err)
	}
}
