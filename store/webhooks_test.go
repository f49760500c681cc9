package store_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

const whsecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func subscribe(t *testing.T, db *store.DB, c *qwoty.Connection, f qwoty.WebhookFilter) *qwoty.WebhookSubscription {
	t.Helper()
	s, err := db.CreateWebhookSubscription(ctx, c.WorkspaceID, c.ID, "admin@a.example",
		store.WebhookSubscriptionInput{WebhookFilter: f, URL: "https://hooks.example/q", Enabled: true}, whsecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counts returns the connection's deliveries and River's drain jobs of
// its subscriptions (one a second per subscription at most).
func counts(t *testing.T, db *store.DB, c *qwoty.Connection) (deliveries, jobs int) {
	t.Helper()
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM event_deliveries WHERE connection_id = $1`, c.ID).Scan(&deliveries); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook_drain'
		AND args->>'subscription_id' IN (SELECT id::text FROM webhook_subscriptions WHERE connection_id = $1)`, c.ID).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	return deliveries, jobs
}

// An event is delivered if and only if its change commits: a rolled back
// transaction leaves no event, no delivery and no job.
func TestEventsAreEmittedOnlyWithTheirChange(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteCreated, qwoty.EventSyncFailed}})
	e := store.Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, Type: qwoty.EventSyncFailed, Subject: "r1", Data: map[string]string{"a": "b"}}
	if err := db.EmitAndRollBack(ctx, e); err != nil {
		t.Fatal(err)
	}
	if d, j := counts(t, db, c); d != 0 || j != 0 {
		t.Fatalf("after a rollback: %d deliveries, %d jobs; want none", d, j)
	}
	var events int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_events`).Scan(&events)
	if events != 0 {
		t.Fatalf("after a rollback: %d events; want none", events)
	}
	// The instance inserts a subscription's drain job once a second: the
	// rolled back one counted for its second (a later event of that second
	// waits for the next second's job or the sweep). The next second's
	// event inserts one.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if err := db.Emit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if d, j := counts(t, db, c); d != 1 || j != 1 {
		t.Fatalf("after a commit: %d deliveries, %d jobs; want 1 and 1", d, j)
	}
	// The card's failed change (a refused transition) emits nothing
	// either; its creation did.
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateQuote(ctx, s, q.ID, 0, "u", moveTo(qwoty.StatusAccepted)); err == nil {
		t.Fatal("draft → accepted was allowed")
	}
	if d, j := counts(t, db, c); d != 2 || j < 1 || j > 2 {
		t.Fatalf("after a create and a refused change: %d deliveries, %d jobs; want 2 and 1 or 2 (one a second)", d, j)
	}
	var body []byte
	if err := db.Pool().QueryRow(ctx, `SELECT payload FROM webhook_events WHERE type = 'quote.created'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type string               `json:"type"`
		Data store.QuoteEventData `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Type != "quote.created" || got.Data.ID != q.ID || got.Data.Number != q.Number {
		t.Fatalf("quote.created body %s (%v); want the quote %s", body, err, q.ID)
	}
}

// Only the subscriptions that want an event get it: by type, status and
// customer filter, enabled, and of the event's own connection.
func TestEventsReachOnlyMatchingSubscriptions(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	other := addOrg(t, db, "B", "00D00000000000BBBB")
	all := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: qwoty.EventTypes})
	sentOnly := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated}, Statuses: []qwoty.Status{qwoty.StatusSent}})
	cust := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated}, CustomerID: "c-1"})
	off := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: qwoty.EventTypes})
	in := store.WebhookSubscriptionInput{WebhookFilter: qwoty.WebhookFilter{EventTypes: qwoty.EventTypes}, URL: "https://hooks.example/q"}
	if _, err := db.UpdateWebhookSubscription(ctx, c.WorkspaceID, c.ID, off.ID, in); err != nil {
		t.Fatal(err)
	}
	elsewhere := subscribe(t, db, other, qwoty.WebhookFilter{EventTypes: qwoty.EventTypes})

	emit := func(status qwoty.Status, customer string) {
		t.Helper()
		if err := db.Emit(ctx, store.Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, Type: qwoty.EventQuoteUpdated,
			Status: status, CustomerID: customer, Data: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
	}
	emit(qwoty.StatusDraft, "")
	emit(qwoty.StatusSent, "c-2")
	emit(qwoty.StatusSent, "c-1")
	want := map[string]int{all.ID: 3, sentOnly.ID: 2, cust.ID: 1, off.ID: 0, elsewhere.ID: 0}
	for id, n := range want {
		var got int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM event_deliveries WHERE subscription_id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("subscription %s got %d deliveries, want %d", id, got, n)
		}
	}
	// The other workspace's key sees none of them.
	if ds, _, err := db.WebhookDeliveries(ctx, other.WorkspaceID, other.ID, store.WebhookDeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Fatalf("the other connection lists %d deliveries (%v); want none", len(ds), err)
	}
	if _, err := db.WebhookSubscription(ctx, other.WorkspaceID, other.ID, all.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("the other connection reads a subscription: %v", err)
	}
	if err := db.DeleteWebhookSubscription(ctx, other.WorkspaceID, other.ID, all.ID); qwoty.ErrorCode(err) != qwoty.CodeNotFound {
		t.Fatalf("the other connection deletes a subscription: %v", err)
	}
	if ds, _, err := db.WebhookDeliveries(ctx, c.WorkspaceID, c.ID, store.WebhookDeliveryFilter{SubscriptionID: sentOnly.ID}); err != nil || len(ds) != 2 {
		t.Fatalf("filtered by subscription: %d deliveries (%v); want 2", len(ds), err)
	}
}

// Signing secrets are sealed at rest; the current and, during a
// rotation's overlap, the previous one are given to the sender.
func TestWebhookSecretsAreSealedAndRotated(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: qwoty.EventTypes})
	var sealed []byte
	if err := db.Pool().QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = $1`, s.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")) {
		t.Fatal("the secret is stored in clear")
	}
	const next = "whsec_bmV4dCBzZWNyZXQgb2YgdGhlIHN1YnNjcmlwdGlvbg=="
	r, err := db.RotateWebhookSecret(ctx, c.WorkspaceID, c.ID, s.ID, next)
	if err != nil || r.RotationEndsAt.IsZero() {
		t.Fatalf("rotate: %+v, %v; want a rotation under way", r, err)
	}
	if err := db.Emit(ctx, store.Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, Type: qwoty.EventSyncFailed, Data: 1}); err != nil {
		t.Fatal(err)
	}
	ds, _, err := db.WebhookDeliveries(ctx, c.WorkspaceID, c.ID, store.WebhookDeliveryFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %v, %v", ds, err)
	}
	send, err := db.WebhookTargetOf(ctx, s.ID)
	if err != nil || len(send.Secrets) != 2 || send.Secrets[0] != next || send.Secrets[1] != whsecret {
		t.Fatalf("secrets during the overlap: %v (%v); want the new one then the old one", send.Secrets, err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE webhook_subscriptions SET previous_expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if send, err = db.WebhookTargetOf(ctx, s.ID); err != nil || len(send.Secrets) != 1 || send.Secrets[0] != next {
		t.Fatalf("secrets after the overlap: %v (%v); want the new one alone", send.Secrets, err)
	}
}

// A customer pulled from the CRM makes customer.created the first time and
// customer.updated when a newer version changes it; a version already
// stored (the same again) makes none. The event names its customer, so a
// subscription filtered by customer gets it.
func TestPulledCustomersMakeEvents(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventCustomerCreated, qwoty.EventCustomerUpdated}})
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	pull := func(name string, modified time.Time) {
		t.Helper()
		if _, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindCustomer, ID: "001000000000001AAA", Modified: modified,
			Customer: &crm.PulledCustomer{Name: name}}}); err != nil {
			t.Fatal(err)
		}
	}
	types := func() []string {
		t.Helper()
		rows, err := db.Pool().Query(ctx, `SELECT type FROM webhook_events WHERE connection_id = $1 ORDER BY created_at, id`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	pull("Acme", at)
	var id string
	if err := db.Pool().QueryRow(ctx, `SELECT id::text FROM customers WHERE connection_id = $1`, c.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	mine := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventCustomerUpdated}, CustomerID: id})
	others := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventCustomerUpdated}, CustomerID: "another"})
	pull("Acme", at) // the same version again
	pull("Acme Inc.", at.Add(time.Minute))
	if got := types(); !slices.Equal(got, []string{"customer.created", "customer.updated"}) {
		t.Fatalf("events %v; want customer.created then customer.updated", got)
	}
	for sub, want := range map[string]int{mine.ID: 1, others.ID: 0} {
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM event_deliveries WHERE subscription_id = $1`, sub).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("subscription %s filtered by customer got %d deliveries, want %d", sub, n, want)
		}
	}
}

// A drain job's lease: each due delivery once while leased, again when the
// lease runs out (a worker that died); new deliveries only up to the job's
// cutoff, retries whatever their age.
func TestLeaseWebhooks(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	s := subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventSyncFailed}})
	for i := range 3 {
		if err := db.Emit(ctx, store.Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, Type: qwoty.EventSyncFailed, Subject: fmt.Sprint(i), Data: i}); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour)
	if got, err := db.LeaseWebhooks(ctx, s.ID, 10, past, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("leased %d made after the cutoff (%v); want none", len(got), err)
	}
	cutoff := time.Now().Add(time.Second)
	got, err := db.LeaseWebhooks(ctx, s.ID, 2, cutoff, time.Minute)
	if err != nil || len(got) != 2 || len(got[0].Body) == 0 || got[0].Tries != 0 {
		t.Fatalf("first lease: %+v, %v; want 2 with their bodies", got, err)
	}
	rest, err := db.LeaseWebhooks(ctx, s.ID, 10, cutoff, time.Minute)
	if err != nil || len(rest) != 1 || rest[0].DeliveryID == got[0].DeliveryID || rest[0].DeliveryID == got[1].DeliveryID {
		t.Fatalf("second lease: %+v, %v; want the third alone", rest, err)
	}
	if again, err := db.LeaseWebhooks(ctx, s.ID, 10, cutoff, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("leased %d held by another worker (%v)", len(again), err)
	}
	// A failed attempt due again is a retry: any job takes it.
	if _, err := db.RecordWebhookAttempt(ctx, rest[0].DeliveryID, store.WebhookOutcome{NextAt: time.Now().Add(-time.Millisecond),
		WebhookAttempt: qwoty.WebhookAttempt{StatusCode: 503, Error: "answered 503"}}); err != nil {
		t.Fatal(err)
	}
	if retry, err := db.LeaseWebhooks(ctx, s.ID, 10, past, time.Minute); err != nil || len(retry) != 1 || retry[0].Tries != 1 {
		t.Fatalf("retry: %+v, %v; want the failed one, 1 try", retry, err)
	}
	// The first two's worker died: their lease runs out.
	if _, err := db.Pool().Exec(ctx, `UPDATE event_deliveries SET lease_until = now() - interval '1 second' WHERE id = ANY($1::uuid[])`,
		[]string{got[0].DeliveryID, got[1].DeliveryID}); err != nil {
		t.Fatal(err)
	}
	if due, err := db.DueWebhookSubscriptions(ctx, 10); err != nil || len(due) != 1 || due[0] != s.ID {
		t.Fatalf("due subscriptions %v, %v; want %s", due, err, s.ID)
	}
	again, err := db.LeaseWebhooks(ctx, s.ID, 10, cutoff, time.Minute)
	if err != nil || len(again) != 2 {
		t.Fatalf("after the lease ran out: %+v, %v; want the two again", again, err)
	}
	ok := []store.WebhookSuccess{{DeliveryID: again[0].DeliveryID, StatusCode: 200}, {DeliveryID: again[1].DeliveryID, StatusCode: 204}}
	if err := db.RecordWebhookSuccesses(ctx, ok); err != nil {
		t.Fatal(err)
	}
	var succeeded, attempts int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'succeeded' AND lease_until IS NULL AND tries = 1),
		(SELECT count(*) FROM event_delivery_attempts) FROM event_deliveries`).Scan(&succeeded, &attempts); err != nil {
		t.Fatal(err)
	}
	if succeeded != 2 || attempts != 3 {
		t.Fatalf("%d succeeded, %d attempts logged; want 2 and 3", succeeded, attempts)
	}
	if due, err := db.DueWebhookSubscriptions(ctx, 10); err != nil || len(due) != 0 {
		t.Fatalf("due subscriptions %v, %v; want none (the retry is leased)", due, err)
	}
}

// Making a quote primary tells of both quotes whose flag changed; deleting
// one tells of it (quote.deleted) and of the quote that became primary.
func TestPrimaryAndDeleteMakeEvents(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventQuoteUpdated, qwoty.EventQuoteDeleted}})
	s := store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006000000000001AAA"}
	first, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Type string
		Data store.QuoteEventData
	}
	events := func() []ev {
		rows, err := db.Pool().Query(ctx, `SELECT payload FROM webhook_events`)
		if err != nil {
			t.Fatal(err)
		}
		bodies, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		var out []ev
		for _, b := range bodies {
			var e ev
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	if _, err := db.Pool().Exec(ctx, `DELETE FROM webhook_events`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetPrimary(ctx, s, second.ID, "u"); err != nil {
		t.Fatal(err)
	}
	got := events()
	primary := map[string]bool{}
	for _, e := range got {
		if e.Type != "quote.updated" {
			t.Fatalf("event %s on a primary change", e.Type)
		}
		primary[e.Data.ID] = e.Data.Primary
	}
	if len(got) != 2 || !primary[second.ID] || primary[first.ID] {
		t.Fatalf("events %+v; want quote.updated of both, the second primary", got)
	}
	if _, err := db.Pool().Exec(ctx, `DELETE FROM webhook_events`); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteQuote(ctx, s, second.ID, 0, "u"); err != nil {
		t.Fatal(err)
	}
	got = events()
	byType := map[string]store.QuoteEventData{}
	for _, e := range got {
		byType[e.Type] = e.Data
	}
	if d, u := byType["quote.deleted"], byType["quote.updated"]; len(got) != 2 || d.ID != second.ID || d.Primary || u.ID != first.ID || !u.Primary {
		t.Fatalf("events %+v; want quote.deleted of the second and quote.updated of the first, now primary", got)
	}
}

// The delivery log keeps ended deliveries for WebhookRetention, pending
// ones whatever their age; an event goes with its last delivery.
func TestPruneWebhooks(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	subscribe(t, db, c, qwoty.WebhookFilter{EventTypes: []qwoty.EventType{qwoty.EventSyncFailed}})
	for i := range 4 {
		if err := db.Emit(ctx, store.Event{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, Type: qwoty.EventSyncFailed, Subject: fmt.Sprint(i), Data: i}); err != nil {
			t.Fatal(err)
		}
	}
	// Old: a succeeded and a failed one (pruned), a pending one (kept);
	// a succeeded one of yesterday (kept).
	if _, err := db.Pool().Exec(ctx, `WITH d AS (SELECT event_deliveries.id, row_number() OVER (ORDER BY subject) AS n FROM event_deliveries
			JOIN webhook_events e ON e.id = event_id)
		UPDATE event_deliveries x SET state = CASE d.n WHEN 1 THEN 'succeeded' WHEN 2 THEN 'failed' WHEN 3 THEN 'pending' ELSE 'succeeded' END,
			updated_at = now() - CASE WHEN d.n < 4 THEN interval '31 days' ELSE interval '1 day' END
		FROM d WHERE x.id = d.id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE webhook_events SET created_at = now() - interval '31 days'`); err != nil {
		t.Fatal(err)
	}
	n, m, err := db.PruneWebhooks(ctx, store.WebhookRetention)
	if err != nil || n != 2 || m != 2 {
		t.Fatalf("pruned %d deliveries, %d events (%v); want 2 and 2", n, m, err)
	}
	var left []string
	rows, _ := db.Pool().Query(ctx, `SELECT e.subject FROM event_deliveries d JOIN webhook_events e ON e.id = d.event_id ORDER BY e.subject`)
	left, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(left, []string{"2", "3"}) {
		t.Fatalf("left %v (%v); want the pending one and yesterday's", left, err)
	}
}
