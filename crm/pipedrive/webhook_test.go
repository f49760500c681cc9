package pipedrive_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
)

// webhookScopes are the sync scopes and admin, which app-specific webhooks
// need.
var webhookScopes = append(slices.Clone(pdtest.SyncScopes), "admin")

// receiver serves pipedrive.ReceiveWebhook as the server's route does:
// POST /webhooks/pipedrive/{connection}, errors with their catalogue
// status.
func receiver(t *testing.T, e *pullEnv) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/pipedrive/{connection}", func(w http.ResponseWriter, r *http.Request) {
		_, err := pipedrive.ReceiveWebhook(r.Context(), e.db, r.PathValue("connection"), r)
		if err != nil {
			code := qwoty.ErrorCode(err)
			if code == "" {
				t.Errorf("receiver: %v", err)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			http.Error(w, string(code), qwoty.HTTPStatus(code))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// connected makes the connection's webhooks as the console's callback
// does, pointed at the receiver.
func connected(t *testing.T, e *pullEnv, appURL string) {
	t.Helper()
	if err := e.a.Connected(context.Background(), e.db, e.conn, appURL); err != nil {
		t.Fatal(err)
	}
}

func TestWebhooksMadeAtConnect(t *testing.T) {
	e := newPullEnv(t, pdtest.Company{}, 0, webhookScopes...)
	connected(t, e, "https://qwoty.example/")
	hooks := e.pd.Webhooks(company)
	if len(hooks) != 3 {
		t.Fatalf("%d webhooks, want deal, organization and product's", len(hooks))
	}
	auth, err := e.db.WebhookAuthOf(context.Background(), qwoty.ProviderPipedrive, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var objects []string
	for _, h := range hooks {
		objects = append(objects, h.Object)
		if h.Version != "2.0" || h.Action != "*" || h.URL != "https://qwoty.example/webhooks/pipedrive/"+e.conn.ID ||
			h.AuthUser != pipedrive.WebhookUser || h.AuthPassword != string(auth.Secret) || len(auth.Secret) < 32 {
			t.Errorf("webhook %+v", h)
		}
	}
	slices.Sort(objects)
	if strings.Join(objects, ",") != "deal,organization,product" || len(auth.IDs) != 3 {
		t.Errorf("objects %v, stored ids %v", objects, auth.IDs)
	}
	var sealed []byte
	if err := e.sql.QueryRow(context.Background(), `SELECT webhook_secret_enc FROM connections WHERE id = $1`, e.conn.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), string(auth.Secret)) {
		t.Error("the webhook password is stored in the clear")
	}

	// A reconnect makes them again, with a new password: the old ones go.
	connected(t, e, "https://qwoty.example/")
	again, _ := e.db.WebhookAuthOf(context.Background(), qwoty.ProviderPipedrive, e.conn.ID)
	if n := len(e.pd.Webhooks(company)); n != 3 || string(again.Secret) == string(auth.Secret) {
		t.Errorf("after a reconnect: %d webhooks (want 3), password changed %v", n, string(again.Secret) != string(auth.Secret))
	}

	// Without the admin scope Pipedrive refuses: the connection is polled.
	e2 := newPullEnv(t, pdtest.Company{}, 0)
	if err := e2.a.Connected(context.Background(), e2.db, e2.conn, "https://qwoty.example"); err == nil {
		t.Error("webhooks made without the admin scope")
	}
}

func TestWebhookDeliveries(t *testing.T) {
	e := newPullEnv(t, pdtest.Company{Deals: []pdtest.Deal{{ID: 3, Title: "Globex", Currency: "EUR", Updated: tPull}}}, 0, webhookScopes...)
	srv := receiver(t, e)
	connected(t, e, srv.URL)
	ctx := context.Background()

	change := pdtest.Change{Entity: "deal", Action: "change", ID: 3, UserID: pdtest.DefaultAdminID, Source: "app"}
	ds := e.pd.Deliveries(company, change)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want the deal webhook's", len(ds))
	}
	d := ds[0]

	// Bad credentials: 401 with a code, nothing queued.
	for name, bad := range map[string]pdtest.Delivery{
		"wrong password": {URL: d.URL, User: d.User, Password: d.Password + "x", Body: d.Body},
		"no credentials": {URL: d.URL, Body: d.Body},
		"another connection": {URL: strings.Replace(d.URL, e.conn.ID, "00000000-0000-4000-8000-000000000001", 1),
			User: d.User, Password: d.Password, Body: d.Body},
	} {
		if st, err := pdtest.Send(ctx, bad); err != nil || st != http.StatusUnauthorized {
			t.Errorf("%s: status %d (%v), want 401", name, st, err)
		}
	}
	big := d
	big.Body = []byte(`{"meta":{},"pad":"` + strings.Repeat("x", pipedrive.MaxWebhookBody) + `"}`)
	if st, _ := pdtest.Send(ctx, big); st != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized body: status %d, want 413", st)
	}
	if n := e.count(t, `SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Fatalf("%d deliveries taken from refused requests", n)
	}

	// The same change delivered three times, its retry (attempt 2) first:
	// one delivery taken, one fetch queued.
	change.Attempt = 2
	retry := e.pd.Deliveries(company, change)[0]
	for _, x := range []pdtest.Delivery{retry, d, d} {
		if st, err := pdtest.Send(ctx, x); err != nil || st != http.StatusOK {
			t.Fatalf("delivery: status %d (%v)", st, err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM webhook_deliveries WHERE provider = 'pipedrive' AND connection_id = $1`, e.conn.ID); n != 1 {
		t.Errorf("%d deliveries recorded, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND args ? 'ids' AND args->>'connection_id' = $1`, e.conn.ID); n != 1 {
		t.Errorf("%d sync_pull jobs queued, want 1", n)
	}

	// Qwoty's own change through the API (the connection's user) is an
	// echo: dropped.
	echo := e.pd.Deliveries(company, pdtest.Change{Entity: "deal", Action: "delete", ID: 3, UserID: pdtest.DefaultAdminID, Source: "api"})[0]
	if st, _ := pdtest.Send(ctx, echo); st != http.StatusOK {
		t.Errorf("echo: status %d", st)
	}
	if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND args ? 'ids'`); n != 1 {
		t.Errorf("%d sync_pull jobs after an echo, want 1", n)
	}

	// A disconnected connection's deliveries are answered 200 and dropped.
	if err := e.db.Disconnect(ctx, e.conn.ID, "admin@acme.example"); err != nil {
		t.Fatal(err)
	}
	other := e.pd.Deliveries(company, pdtest.Change{Entity: "deal", Action: "delete", ID: 3, UserID: pdtest.DefaultAdminID})[0]
	if st, _ := pdtest.Send(ctx, other); st != http.StatusOK {
		t.Errorf("disconnected: status %d, want 200", st)
	}
	if n := e.count(t, `SELECT count(*) FROM webhook_deliveries`); n != 1 {
		t.Errorf("%d deliveries after one to a disconnected connection, want 1", n)
	}
}
