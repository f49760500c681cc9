package pipedrive

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Webhooks v2 (docs/sync-pipedrive.md, "Webhooks"). At connect time Qwoty
// makes one app-specific webhook per object it copies (deal, organization,
// product; every action), which Pipedrive POSTs to
// /webhooks/pipedrive/{connection id} with HTTP basic credentials: its
// only authentication, no signature. The password is random per
// connection and kept sealed. A delivery names the record that changed;
// the receiver queues a fetch of it (store.TakeWebhook: a delivery seen
// before queues nothing), so that duplicates and deliveries out of order
// converge on the record's state when it is fetched.

// WebhookPath is the receiver's path for a connection.
func WebhookPath(connectionID string) string { return "/webhooks/pipedrive/" + connectionID }

// WebhookScope is the scope an app needs to make webhooks through the API.
const WebhookScope = "admin"

// WebhookUser is the basic-auth user name of Qwoty's webhooks.
const WebhookUser = "qwoty"

// MaxWebhookBody bounds a delivery's body: a v2 delivery is one record
// (its data and previous values); 256 KiB is far above one.
const MaxWebhookBody = 256 << 10

// webhookObjects are the objects Qwoty copies, as v2 names them.
var webhookObjects = []string{"deal", "organization", "product"}

// Token costs of the v1 webhooks API, which v2 has not replaced: assumed
// from the rate-limiting page's v1 table (a single write 10, a delete 6).
const (
	costAddWebhook    = 10
	costDeleteWebhook = 6
)

// WebhookStore is where webhooks' credentials live and deliveries go
// (store.DB).
type WebhookStore interface {
	WebhookAuthOf(ctx context.Context, provider qwoty.Provider, connectionID string) (*store.WebhookAuth, error)
	SetWebhooks(ctx context.Context, connectionID string, secret []byte, ids []string) error
	TakeWebhook(ctx context.Context, provider, connectionID string, events []store.WebhookEvent) (int, error)
}

// InstallWebhooks makes the connection's webhooks, after deleting those a
// previous connection of the same account made (a reconnect), and stores
// their password and ids. Making webhooks through the API needs the admin
// scope ("Webhooks for apps"); without it Pipedrive answers 403 and the
// connection is polled only.
func (a *Adapter) InstallWebhooks(ctx context.Context, s crm.Session, st WebhookStore, b crm.Budget, appURL string) error {
	conn := s.Connection()
	if !slices.Contains(conn.Scopes, WebhookScope) {
		return fmt.Errorf("pipedrive: the connection was not granted the %s scope, which app-specific webhooks need: it is polled only", WebhookScope)
	}
	c := (&Puller{http: a.o.HTTP}).caller(s, b)
	if old, err := st.WebhookAuthOf(ctx, qwoty.ProviderPipedrive, conn.ID); err == nil {
		for _, id := range old.IDs {
			// Best effort: a webhook gone already (the app reinstalled) is fine.
			_ = c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhooks/" + id, cost: costDeleteWebhook}, nil)
		}
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	secret := []byte(base64.RawURLEncoding.EncodeToString(raw[:]))
	url := strings.TrimRight(appURL, "/") + WebhookPath(conn.ID)
	var ids []string
	for _, obj := range webhookObjects {
		var made struct {
			ID int64 `json:"id"`
		}
		err := c.do(ctx, request{method: http.MethodPost, path: "/v1/webhooks", cost: costAddWebhook, body: map[string]any{
			"subscription_url": url, "event_action": "*", "event_object": obj, "version": "2.0",
			"http_auth_user": WebhookUser, "http_auth_password": string(secret)}}, &made)
		if err != nil {
			// Keep what was made, so that a disconnect or reconnect deletes it.
			_ = st.SetWebhooks(ctx, conn.ID, secret, ids)
			return fmt.Errorf("pipedrive: make the %s webhook: %w", obj, err)
		}
		ids = append(ids, strconv.FormatInt(made.ID, 10))
	}
	return st.SetWebhooks(ctx, conn.ID, secret, ids)
}

// RemoveWebhooks deletes the connection's webhooks (a disconnect) and
// forgets their password: later deliveries are refused.
func (a *Adapter) RemoveWebhooks(ctx context.Context, s crm.Session, st WebhookStore, b crm.Budget) error {
	conn := s.Connection()
	auth, err := st.WebhookAuthOf(ctx, qwoty.ProviderPipedrive, conn.ID)
	if err != nil {
		return err
	}
	c := (&Puller{http: a.o.HTTP}).caller(s, b)
	var errs []error
	for _, id := range auth.IDs {
		if err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhooks/" + id, cost: costDeleteWebhook}, nil); err != nil && status(err) != http.StatusNotFound {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, st.SetWebhooks(ctx, conn.ID, nil, nil))...)
}

// delivery is the part of a v2 delivery the receiver reads. Ids come as
// numbers in the documented example; strings are taken too.
type delivery struct {
	Meta struct {
		Action       string      `json:"action"`
		Entity       string      `json:"entity"`
		EntityID     json.Number `json:"entity_id"`
		ID           json.Number `json:"id"`
		UserID       json.Number `json:"user_id"`
		ChangeSource string      `json:"change_source"`
		Timestamp    json.Number `json:"timestamp"`
	} `json:"meta"`
	Data *struct {
		Updated string `json:"update_time"`
	} `json:"data"`
}

// kindOf is the record kind of a v2 entity, "" for one Qwoty does not copy.
func kindOf(entity string) string {
	switch entity {
	case "deal":
		return crm.KindDeal
	case "organization":
		return crm.KindCustomer
	case "product":
		return crm.KindProduct
	}
	return ""
}

// WebhookResult is what a delivery did.
type WebhookResult struct {
	// Queued is set when the delivery was new and its record's fetch was
	// queued; Dropped says why it was not ("" when it was).
	Queued  bool
	Dropped string
}

// ReceiveWebhook takes one delivery to connectionID's receiver: it checks
// the HTTP basic credentials in constant time against the connection's
// sealed password (401 signature_missing or signature_invalid), reads at
// most MaxWebhookBody bytes (413), and queues the record's fetch. A
// delivery for a disconnected connection, for an object Qwoty does not
// copy, or of a change the connection itself made through the API (an
// echo of Qwoty's own push) is answered 200 and dropped: Pipedrive retries
// any other answer and bans a URL that keeps failing.
func ReceiveWebhook(ctx context.Context, st WebhookStore, connectionID string, r *http.Request) (WebhookResult, error) {
	var res WebhookResult
	user, pass, ok := r.BasicAuth()
	auth, err := st.WebhookAuthOf(ctx, qwoty.ProviderPipedrive, connectionID)
	if errors.Is(err, qwoty.ErrNotFound) {
		auth, err = &store.WebhookAuth{}, nil // refused below as any wrong password is, in the same time
	}
	if err != nil {
		return res, err
	}
	if !ok {
		return res, qwoty.Errorf(qwoty.CodeSignatureMissing, "Pipedrive sends the webhook's HTTP basic credentials; reconnect Pipedrive to make its webhooks again.",
			"the Pipedrive webhook delivery has no HTTP basic credentials")
	}
	want := auth.Secret
	good := subtle.ConstantTimeCompare([]byte(user), []byte(WebhookUser)) & subtle.ConstantTimeCompare([]byte(pass), want)
	if good != 1 || len(want) == 0 {
		return res, qwoty.Errorf(qwoty.CodeSignatureInvalid, "The webhook was made for another connection, or before the last reconnect: reconnect Pipedrive to make its webhooks again.",
			"the Pipedrive webhook delivery's credentials do not match this connection's")
	}
	if auth.Status == qwoty.ConnectionDisconnected {
		res.Dropped = "disconnected"
		return res, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		return res, qwoty.Errorf(qwoty.CodeBadRequest, "Send the whole body in one request.", "the webhook delivery's body could not be read: %v", err)
	}
	if len(body) > MaxWebhookBody {
		return res, qwoty.Errorf(qwoty.CodePayloadTooLarge, "A Pipedrive delivery is one record; this one is not.",
			"the webhook delivery is larger than %d bytes", MaxWebhookBody)
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil || d.Meta.Entity == "" || d.Meta.EntityID == "" {
		return res, qwoty.Errorf(qwoty.CodeBadRequest, "Pipedrive's webhooks v2 send {meta, data, previous}; make the webhook with version 2.0.",
			"the webhook delivery is not a Pipedrive v2 delivery")
	}
	kind := kindOf(d.Meta.Entity)
	if kind == "" {
		res.Dropped = "entity " + d.Meta.Entity
		return res, nil
	}
	if d.Meta.ChangeSource == "api" && auth.CRMUserID != "" && d.Meta.UserID.String() == auth.CRMUserID {
		res.Dropped = "echo"
		return res, nil
	}
	if _, err := st.TakeWebhook(ctx, string(qwoty.ProviderPipedrive), connectionID, []store.WebhookEvent{{
		ID: eventID(d), Kind: kind, RecordID: d.Meta.EntityID.String()}}); err != nil {
		return res, err
	}
	res.Queued = true
	return res, nil
}

// eventID identifies a change across Pipedrive's retries of its delivery:
// v2's meta names no delivery id of its own (meta.id is the record's in
// the documented example, and meta.attempt changes with each retry), so it
// is the record, the action and the record's version (data.update_time;
// meta.timestamp for a delete, which has no data). Two changes of a record
// within one second share it: the fetch the first queued reads the record
// as it is when it runs, and the poll reads it again.
func eventID(d delivery) string {
	version := d.Meta.Timestamp.String()
	if d.Data != nil && d.Data.Updated != "" {
		version = d.Data.Updated
	}
	return strings.Join([]string{d.Meta.Entity, d.Meta.EntityID.String(), d.Meta.Action, version}, ":")
}
