package hubspot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// webhookEnv serves the webhook endpoint as the server does, refusals
// answered with their catalogue status.
type webhookEnv struct {
	*pullEnv
	url string
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	t.Helper()
	e := &webhookEnv{pullEnv: newPullEnv(t, hstest.Portal{
		Companies: []hstest.Company{{ID: "101", Name: "Acme"}},
		Deals:     []hstest.Deal{{ID: "301", Name: "Deal"}},
	}, 0)}
	var wh *hubspot.Webhooks
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := wh.Serve(w, r); err != nil {
			status := http.StatusInternalServerError
			if c := qwoty.ErrorCode(err); c != "" {
				status = qwoty.HTTPStatus(c)
			}
			http.Error(w, string(qwoty.ErrorCode(err))+": "+err.Error(), status)
		}
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL + hubspot.WebhookPath
	wh = &hubspot.Webhooks{A: e.a, Store: e.w.DB, URL: e.url}
	return e
}

func (e *webhookEnv) count(sql string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *webhookEnv) deliveries() int { return e.count(`SELECT count(*) FROM webhook_deliveries`) }
func (e *webhookEnv) pullJobs() int {
	return e.count(`SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND args ? 'ids'`)
}

func (e *webhookEnv) send(events ...hstest.WebhookEvent) int {
	e.t.Helper()
	status, err := e.hs.SendWebhook(e.url, hstest.DefaultPortalID, events...)
	if err != nil {
		e.t.Fatal(err)
	}
	return status
}

// A delivery is taken once: sent again, or its events in another order,
// it queues nothing more; each kind's records are fetched by one job.
func TestWebhookDuplicatesAndReordering(t *testing.T) {
	e := newWebhookEnv(t)
	deal := hstest.WebhookEvent{EventID: hstest.NewEventID(), SubscriptionType: "deal.propertyChange", ObjectID: "301",
		PropertyName: "amount", PropertyValue: "10"}
	company := hstest.WebhookEvent{EventID: hstest.NewEventID(), SubscriptionType: "company.creation", ObjectID: "101"}
	if s := e.send(deal, company); s != http.StatusOK {
		t.Fatalf("delivery answered %d, want 200", s)
	}
	if d, j := e.deliveries(), e.pullJobs(); d != 2 || j != 2 {
		t.Fatalf("after the delivery: %d deliveries, %d sync_pull jobs; want 2 and 2 (a deal, a customer)", d, j)
	}
	for _, again := range [][]hstest.WebhookEvent{{deal, company}, {company, deal}, {company}} {
		if s := e.send(again...); s != http.StatusOK {
			t.Fatalf("a repeated delivery answered %d, want 200", s)
		}
	}
	if d, j := e.deliveries(), e.pullJobs(); d != 2 || j != 2 {
		t.Errorf("after repeated and reordered deliveries: %d deliveries, %d jobs; want 2 and 2", d, j)
	}
	var args string
	if err := e.pool.QueryRow(context.Background(), `SELECT args::text FROM river_job WHERE kind = 'sync_pull' AND args->>'record_kind' = 'deal'`).Scan(&args); err != nil {
		t.Fatalf("the deal's job: %v", err)
	}
	if !strings.Contains(args, `"301"`) || !strings.Contains(args, e.w.Conn.ID) {
		t.Errorf("deal job args %s, want the connection and deal 301", args)
	}

	// Qwoty's own write (changeSource INTEGRATION from this app) and an
	// event of an object pulling does not read are dropped; an unknown
	// portal's delivery is answered 200 and dropped.
	own := hstest.WebhookEvent{SubscriptionType: "deal.propertyChange", ObjectID: "301", ChangeSource: "INTEGRATION",
		SourceID: strconv.FormatInt(hstest.DefaultAppID, 10)}
	ticket := hstest.WebhookEvent{SubscriptionType: "ticket.creation", ObjectID: "5"}
	if s := e.send(own, ticket); s != http.StatusOK {
		t.Errorf("echo delivery answered %d", s)
	}
	if s, err := e.hs.SendWebhook(e.url, 999999, hstest.WebhookEvent{SubscriptionType: "deal.creation", ObjectID: "1"}); err != nil || s != http.StatusOK {
		t.Errorf("unknown portal's delivery answered %d (%v), want 200", s, err)
	}
	if d := e.deliveries(); d != 2 {
		t.Errorf("%d deliveries after the dropped ones, want 2", d)
	}
}

// A delivery not signed with the app's secret, or signed too long ago, is
// refused 401 and queues nothing; a body past the limit is refused 413.
func TestWebhookRefusals(t *testing.T) {
	e := newWebhookEnv(t)
	body, err := e.hs.WebhookBody(hstest.DefaultPortalID, hstest.WebhookEvent{SubscriptionType: "deal.creation", ObjectID: "301"})
	if err != nil {
		t.Fatal(err)
	}
	for name, send := range map[string]func() (int, error){
		"wrong secret": func() (int, error) { return e.hs.SendSigned(e.url, body, e.clk.Now(), "not-the-secret") },
		"stale": func() (int, error) {
			return e.hs.SendSigned(e.url, body, e.clk.Now().Add(-6*time.Minute), hstest.DefaultClientSecret)
		},
		"other URL": func() (int, error) {
			return e.hs.SendSigned(e.url+"?x=1", body, e.clk.Now(), hstest.DefaultClientSecret)
		},
	} {
		s, err := send()
		if err != nil {
			t.Fatal(err)
		}
		if s != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401", name, s)
		}
	}
	big := []byte("[" + strings.Repeat(" ", hubspot.MaxWebhookBody) + "]")
	if s, err := e.hs.SendSigned(e.url, big, e.clk.Now(), hstest.DefaultClientSecret); err != nil || s != http.StatusRequestEntityTooLarge {
		t.Errorf("a body past the limit answered %d (%v), want 413", s, err)
	}
	if d, j := e.deliveries(), e.pullJobs(); d != 0 || j != 0 {
		t.Errorf("%d deliveries, %d jobs after refusals; want none", d, j)
	}
	// The same body signed right is taken.
	if s, _ := e.hs.SendSigned(e.url, body, e.clk.Now(), hstest.DefaultClientSecret); s != http.StatusOK {
		t.Errorf("a good delivery answered %d", s)
	}
}
