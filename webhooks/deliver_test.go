package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/webhooks"
)

var ctx = context.Background()

// receiver is a webhook receiver written from the Standard Webhooks
// specification alone (not with package webhooks): it verifies every
// request it gets against the secrets it is given, and answers with the
// statuses it is told.
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string
	answer  func(n int) int // status of the n-th request (from 1)
	got     []received
}

type received struct {
	ID, Timestamp string
	Signatures    []string
	Body          []byte
	At            time.Time
	// Verified says, for each of the receiver's secrets, whether one of
	// the request's signatures verifies with it.
	Verified []bool
}

func newReceiver(t testing.TB, secrets ...string) *receiver {
	r := &receiver{t: t, secrets: secrets, answer: func(int) int { return http.StatusOK }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// specVerify is the specification's check: the HMAC-SHA256, keyed with the
// base64 after "whsec_", of "id.timestamp.body", compared with each
// space-separated "v1,<base64>" signature; the timestamp within 5 minutes.
func specVerify(secret, id, ts, sigs string, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		if v, b64, ok := strings.Cut(s, ","); ok && v == "v1" {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	g := received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signatures: strings.Fields(req.Header.Get("webhook-signature")), Body: body, At: time.Now()}
	r.mu.Lock()
	for _, s := range r.secrets {
		g.Verified = append(g.Verified, specVerify(s, g.ID, g.Timestamp, req.Header.Get("webhook-signature"), body))
	}
	r.got = append(r.got, g)
	status := r.answer(len(r.got))
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"received":true}`))
}

// requests returns what the receiver got so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// setAnswer changes the receiver's answers.
func (r *receiver) setAnswer(f func(n int) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

// alerts records the alerts of disabled subscriptions.
type alerts struct {
	mu  sync.Mutex
	got []webhooks.Alert
}

func (a *alerts) Send(_ context.Context, al webhooks.Alert) error {
	a.mu.Lock()
	a.got = append(a.got, al)
	a.mu.Unlock()
	return nil
}

func (a *alerts) list() []webhooks.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]webhooks.Alert(nil), a.got...)
}

// env is a workspace connected to the test CRM, with the job engine
// working sync's jobs and webhook deliveries.
type env struct {
	*crmsynctest.World
	alerts *alerts
}

// newEnv starts an env; deliveries use opt (development policy, a fast
// backoff unless set).
func newEnv(t testing.TB, opt webhooks.Options) *env {
	t.Helper()
	return newEnvOn(t, storetest.New(t), opt)
}

func newEnvOn(t testing.TB, db *store.DB, opt webhooks.Options) *env {
	t.Helper()
	emu := tctest.New(t, tctest.Options{AnyDeal: true})
	a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
	eo := crmsynctest.FastOptions()
	eo.Workers = -1
	w := crmsynctest.NewOn(t, db, a, tctest.DefaultRedirectURL, eo)
	e := &env{World: w, alerts: &alerts{}}
	if opt.BackoffBase == 0 {
		opt.BackoffBase, opt.BackoffMax = 200*time.Millisecond, 2*time.Second
	}
	if opt.SweepEvery == 0 {
		opt.SweepEvery = 50 * time.Millisecond
	}
	opt.Alerts = e.alerts
	opt.AppURL = "https://qwoty.example"
	eo = crmsynctest.FastOptions()
	eo.Plugins = []crmsync.Plugin{webhooks.New(db, opt)}
	w.Start(eo)
	return e
}

// subscribe makes a subscription of the env's connection to url.
func (e *env) subscribe(t testing.TB, url string, f qwoty.WebhookFilter) (*qwoty.WebhookSubscription, string) {
	t.Helper()
	secret := webhooks.NewSecret()
	s, err := e.DB.CreateWebhookSubscription(ctx, e.Conn.WorkspaceID, e.Conn.ID, "admin", store.WebhookSubscriptionInput{
		WebhookFilter: f, URL: url, Enabled: true}, secret)
	if err != nil {
		t.Fatal(err)
	}
	return s, secret
}

func (e *env) deliveries(t testing.TB, f store.WebhookDeliveryFilter) []qwoty.WebhookDelivery {
	t.Helper()
	ds, _, err := e.DB.WebhookDeliveries(ctx, e.Conn.WorkspaceID, e.Conn.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

type body struct {
	Type      qwoty.EventType      `json:"type"`
	Timestamp time.Time            `json:"timestamp"`
	Data      store.QuoteEventData `json:"data"`
}

func decode(t testing.TB, b []byte) body {
	t.Helper()
	var out body
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return out
}

const record = tctest.DefaultDealID

// A quote's card changes reach a subscription as signed deliveries, one
// per event, each verified by a receiver written from the specification;
// a subscription that filters on another status gets none.
func TestQuoteEventsAreDeliveredSigned(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	sub, secret := e.subscribe(t, r.srv.URL+"/hooks?token=abc", qwoty.WebhookFilter{EventTypes: []qwoty.EventType{
		qwoty.EventQuoteCreated, qwoty.EventQuoteUpdated, qwoty.EventQuoteSent}})
	r.secrets = []string{secret}
	other := newReceiver(t)
	e.subscribe(t, other.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated, qwoty.EventQuoteSent},
		Statuses: []qwoty.Status{qwoty.StatusAccepted}})

	// Created, updated (its line), updated and sent (its status).
	q := e.Quote(record, crmsynctest.Line{SKU: "A-1", Quantity: 1, Price: "10"})
	q = e.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	e.WaitFor("four deliveries", 10*time.Second, func() bool { return len(r.requests()) >= 4 })
	time.Sleep(300 * time.Millisecond) // room for a wrong fifth
	got := r.requests()
	if len(got) != 4 {
		t.Fatalf("the receiver got %d requests, want 4 (created, updated, updated, sent)", len(got))
	}
	types := map[qwoty.EventType]bool{}
	ids := map[string]bool{}
	for _, g := range got {
		if len(g.Verified) != 1 || !g.Verified[0] {
			t.Fatalf("delivery %s does not verify with the subscription's secret (signatures %v)", g.ID, g.Signatures)
		}
		b := decode(t, g.Body)
		types[b.Type] = true
		ids[g.ID] = true
		if b.Data.ID != q.ID || b.Timestamp.IsZero() {
			t.Fatalf("delivery %s: body %s; want quote %s with a timestamp", g.ID, g.Body, q.ID)
		}
		if b.Type == qwoty.EventQuoteSent && b.Data.Status != qwoty.StatusSent {
			t.Fatalf("quote.sent carries status %s", b.Data.Status)
		}
	}
	if len(types) != 3 || len(ids) != 4 {
		t.Fatalf("event types %v, ids %v; want created, updated and sent, four ids", types, ids)
	}
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the subscription filtered on accepted quotes got %d requests", n)
	}
	// The log: each delivery succeeded at its first attempt, with the
	// receiver's answer.
	e.WaitFor("the log", 5*time.Second, func() bool {
		return len(e.deliveries(t, store.WebhookDeliveryFilter{SubscriptionID: sub.ID, State: qwoty.DeliverySucceeded})) == 4
	})
	for _, d := range e.deliveries(t, store.WebhookDeliveryFilter{SubscriptionID: sub.ID}) {
		if !ids[d.ID] || d.Attempts != 1 || d.StatusCode != http.StatusOK || d.Response != `{"received":true}` || d.DeliveredAt.IsZero() {
			t.Fatalf("log entry %+v; want one attempt answered 200 with the receiver's body, its id sent as webhook-id", d)
		}
	}
	if ds := e.deliveries(t, store.WebhookDeliveryFilter{EventType: qwoty.EventQuoteSent}); len(ds) != 1 {
		t.Fatalf("filtered on quote.sent: %d deliveries, want 1", len(ds))
	}
}

// A receiver that fails gets the delivery again, with the same
// webhook-id, after growing waits, until it takes it.
func TestFailedDeliveriesAreRetriedWithTheSameID(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	r.answer = func(n int) int {
		if n <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	_, secret := e.subscribe(t, r.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated}})
	r.secrets = []string{secret}
	e.Quote(record)
	e.WaitFor("four attempts", 20*time.Second, func() bool { return len(r.requests()) >= 4 })
	got := r.requests()
	for i, g := range got {
		if g.ID != got[0].ID || !g.Verified[0] {
			t.Fatalf("attempt %d: id %s (first %s), verified %v; want the same id, verified", i+1, g.ID, got[0].ID, g.Verified)
		}
	}
	var gaps []time.Duration
	for i := 1; i < len(got); i++ {
		gaps = append(gaps, got[i].At.Sub(got[i-1].At))
	}
	t.Logf("waits between attempts: %v", gaps)
	// Backoff 200 ms, 400 ms, 800 ms: each wait at least its backoff, and
	// longer than the one before.
	for i, g := range gaps {
		min := 200 * time.Millisecond << i
		if g < min || i > 0 && g <= gaps[i-1] {
			t.Fatalf("waits %v: wait %d is %s; want at least %s and longer than the one before", gaps, i+1, g, min)
		}
	}
	e.WaitFor("the log", 5*time.Second, func() bool {
		ds := e.deliveries(t, store.WebhookDeliveryFilter{})
		return len(ds) == 1 && ds[0].State == qwoty.DeliverySucceeded
	})
	d, attempts, err := e.DB.WebhookDelivery(ctx, e.Conn.WorkspaceID, e.Conn.ID, got[0].ID)
	if err != nil || d.Attempts != 4 || len(attempts) != 4 {
		t.Fatalf("delivery %+v, attempts %+v, %v; want 4 attempts", d, attempts, err)
	}
	for i, a := range attempts {
		want := http.StatusServiceUnavailable
		if i == 3 {
			want = http.StatusOK
		}
		if a.Attempt != i+1 || a.StatusCode != want || (want != 200) != (a.Error != "") {
			t.Fatalf("attempt %d logged as %+v; want status %d", i+1, a, want)
		}
	}
}

// A delivery whose attempts are all used up fails; redelivery sends it
// again with the same webhook-id, one or all failed at once; a pending
// one is not redelivered.
func TestRedelivery(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true},
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	r := newReceiver(t)
	r.answer = func(int) int { return http.StatusInternalServerError }
	_, secret := e.subscribe(t, r.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated}})
	r.secrets = []string{secret}
	e.Quote(record)
	e.Quote(record)
	e.WaitFor("two failed deliveries", 30*time.Second, func() bool {
		return len(e.deliveries(t, store.WebhookDeliveryFilter{State: qwoty.DeliveryFailed})) == 2
	})
	failed := e.deliveries(t, store.WebhookDeliveryFilter{State: qwoty.DeliveryFailed})
	if n := len(r.requests()); n != 2*18 || failed[0].Attempts != 18 {
		t.Fatalf("%d requests, %d attempts logged; want 18 per delivery (River's attempts, the first included)", n, failed[0].Attempts)
	}
	r.setAnswer(func(int) int { return http.StatusOK })
	before := len(r.requests())

	// One.
	if err := e.DB.RedeliverWebhook(ctx, e.Conn.WorkspaceID, e.Conn.ID, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.RedeliverWebhook(ctx, e.Conn.WorkspaceID, e.Conn.ID, failed[0].ID); qwoty.ErrorCode(err) != qwoty.CodeDeliveryPending {
		// It may have succeeded already; then a second redelivery is fine.
		if err != nil {
			t.Fatalf("redeliver a pending delivery: %v; want %s", err, qwoty.CodeDeliveryPending)
		}
	}
	e.WaitFor("the redelivery", 5*time.Second, func() bool { return len(r.requests()) > before })
	// All failed: the other one.
	n, err := e.DB.RedeliverFailedWebhooks(ctx, e.Conn.WorkspaceID, e.Conn.ID, "")
	if err != nil || n != 1 {
		t.Fatalf("redeliver all failed: %d, %v; want 1", n, err)
	}
	e.WaitFor("both delivered", 5*time.Second, func() bool {
		return len(e.deliveries(t, store.WebhookDeliveryFilter{State: qwoty.DeliverySucceeded})) == 2
	})
	later := r.requests()[before:]
	seen := map[string]bool{}
	for _, g := range later {
		seen[g.ID] = true
		if !g.Verified[0] {
			t.Fatalf("redelivery %s does not verify", g.ID)
		}
	}
	if !seen[failed[0].ID] || !seen[failed[1].ID] {
		t.Fatalf("redeliveries carried ids %v; want the failed deliveries' own (%s, %s)", seen, failed[0].ID, failed[1].ID)
	}
	if n, err := e.DB.RedeliverFailedWebhooks(ctx, e.Conn.WorkspaceID, e.Conn.ID, ""); err != nil || n != 0 {
		t.Fatalf("redeliver all failed with none: %d, %v", n, err)
	}
}

// During a rotation's overlap each delivery carries two signatures: a
// receiver holding the old secret and one holding the new both verify.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	sub, old := e.subscribe(t, r.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated}})
	next := webhooks.NewSecret()
	if _, err := e.DB.RotateWebhookSecret(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID, next); err != nil {
		t.Fatal(err)
	}
	r.secrets = []string{old, next}
	e.Quote(record)
	e.WaitFor("a delivery", 10*time.Second, func() bool { return len(r.requests()) == 1 })
	g := r.requests()[0]
	if len(g.Signatures) != 2 || !g.Verified[0] || !g.Verified[1] {
		t.Fatalf("during the overlap: signatures %v, verified with old/new %v; want two, both verifying", g.Signatures, g.Verified)
	}
	// Once the overlap is over, the old secret no longer verifies.
	if _, err := storetest.Pool(t, e.DB).Exec(ctx, `UPDATE webhook_subscriptions SET previous_expires_at = now() - interval '1 second' WHERE id = $1`, sub.ID); err != nil {
		t.Fatal(err)
	}
	e.Quote(record)
	e.WaitFor("a second delivery", 10*time.Second, func() bool { return len(r.requests()) == 2 })
	g = r.requests()[1]
	if len(g.Signatures) != 1 || g.Verified[0] || !g.Verified[1] {
		t.Fatalf("after the overlap: signatures %v, verified with old/new %v; want the new one alone", g.Signatures, g.Verified)
	}
}

// In production a delivery to an internal address is refused when it is
// dialled, logged, and not retried.
func TestProductionDeliveryToLoopbackIsRefused(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: false}})
	r := newReceiver(t)
	port := r.srv.URL[strings.LastIndex(r.srv.URL, ":"):]
	// Saved in development (or through a name that resolved elsewhere
	// then); the dial is what production checks.
	e.subscribe(t, "https://localhost"+port+"/hooks", qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated}})
	e.Quote(record)
	e.WaitFor("the refusal", 10*time.Second, func() bool {
		ds := e.deliveries(t, store.WebhookDeliveryFilter{})
		return len(ds) == 1 && ds[0].State == qwoty.DeliveryFailed
	})
	d := e.deliveries(t, store.WebhookDeliveryFilter{})[0]
	if !strings.Contains(d.Error, "not public") || d.Attempts != 1 {
		t.Fatalf("log %+v; want one attempt refused as not public", d)
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

// A subscription whose deliveries have failed for three days is disabled
// at the next failure, and its admins are told once.
func TestFailingSubscriptionIsDisabledAndAdminsTold(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	r.answer = func(int) int { return http.StatusBadGateway }
	sub, _ := e.subscribe(t, r.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated}})
	if _, err := storetest.Pool(t, e.DB).Exec(ctx, `UPDATE webhook_subscriptions SET failing_since = now() - interval '71 hours' WHERE id = $1`, sub.ID); err != nil {
		t.Fatal(err)
	}
	e.Quote(record)
	e.WaitFor("a failed attempt", 10*time.Second, func() bool { return len(r.requests()) >= 1 })
	time.Sleep(100 * time.Millisecond)
	if s, _ := e.DB.WebhookSubscription(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID); !s.Enabled {
		t.Fatal("disabled after 71 hours of failures; want 72")
	}
	if _, err := storetest.Pool(t, e.DB).Exec(ctx, `UPDATE webhook_subscriptions SET failing_since = now() - interval '73 hours' WHERE id = $1`, sub.ID); err != nil {
		t.Fatal(err)
	}
	e.WaitFor("the subscription disabled", 10*time.Second, func() bool {
		s, _ := e.DB.WebhookSubscription(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID)
		return !s.Enabled
	})
	e.WaitFor("the alert", 5*time.Second, func() bool { return len(e.alerts.list()) == 1 })
	a := e.alerts.list()[0]
	if len(a.Emails) != 1 || a.Emails[0] != e.Admin.Email || !strings.HasSuffix(a.Link, "/webhooks") || strings.Contains(a.Text, "/hooks") {
		t.Fatalf("alert %+v; want the admin's email, the webhooks page, and no URL path", a)
	}
	// Nothing more is sent; the pending delivery fails without a request.
	n := len(r.requests())
	e.Quote(record)
	time.Sleep(500 * time.Millisecond)
	if len(r.requests()) != n {
		t.Fatal("a disabled subscription still gets deliveries")
	}
	s, _ := e.DB.WebhookSubscription(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID)
	if s.DisabledReason == "" {
		t.Fatal("a subscription disabled by Qwoty has no reason")
	}
	if len(e.alerts.list()) != 1 {
		t.Fatalf("%d alerts; want one", len(e.alerts.list()))
	}
}

// A burst of events to one subscription is sent in batches: each event
// once (no delivery lost between one drain job's end and the next one's
// start, none sent twice), by far fewer jobs than events (one a second),
// every delivery succeeded in the log.
func TestBurstIsDrainedInBatchesOnce(t *testing.T) {
	e := newEnv(t, webhooks.Options{Policy: webhooks.Policy{Development: true}})
	r := newReceiver(t)
	sub, secret := e.subscribe(t, r.srv.URL, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventSyncFailed}})
	r.secrets = []string{secret}
	const events = 400
	began := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range events / 8 {
				if _, err := e.DB.SendTestEvent(ctx, e.Conn.WorkspaceID, e.Conn.ID, sub.ID); err != nil {
					t.Error(err)
				}
				time.Sleep(5 * time.Millisecond) // spread over more than one second
			}
		})
	}
	wg.Wait()
	e.WaitFor("every delivery", 30*time.Second, func() bool { return len(r.requests()) >= events })
	time.Sleep(300 * time.Millisecond) // room for a wrong extra one
	took := time.Since(began)
	got := r.requests()
	ids := map[string]bool{}
	for _, g := range got {
		if !g.Verified[0] {
			t.Fatalf("delivery %s does not verify", g.ID)
		}
		ids[g.ID] = true
	}
	if len(got) != events || len(ids) != events {
		t.Fatalf("%d requests, %d ids; want %d of each", len(got), len(ids), events)
	}
	var jobs, ok int
	if err := storetest.Pool(t, e.DB).QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook_drain' AND args->>'subscription_id' = $1`,
		sub.ID).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Pool(t, e.DB).QueryRow(ctx, `SELECT count(*) FROM event_deliveries WHERE subscription_id = $1 AND state = 'succeeded' AND attempts = 1`,
		sub.ID).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events in %s: %d drain jobs", events, took.Round(time.Millisecond), jobs)
	if jobs < 1 || jobs > int(took.Seconds())+2 {
		t.Fatalf("%d drain jobs for %d events in %s; want about one a second", jobs, events, took)
	}
	if ok != events {
		t.Fatalf("%d deliveries succeeded at their first attempt in the log; want %d", ok, events)
	}
}
