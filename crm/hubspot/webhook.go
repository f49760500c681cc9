package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The app's webhooks (docs/sync-hubspot.md, "Webhooks"): HubSpot POSTs a
// JSON array of up to 100 events to WebhookPath, signed with the v3
// signature (signature.go). Each event names the portal, the object
// changed and the change; the handler maps the portal to its connection,
// records each event once by its eventId and queues a fetch of the records
// named (store.TakeWebhook: one transaction), and answers 200 at once. The
// fetch reads each record's current state, so a delivery repeated or out
// of order changes nothing twice.

// WebhookPath is the route HubSpot delivers to (the app's targetUrl is
// APP_URL followed by it).
const WebhookPath = "/webhooks/hubspot"

// MaxWebhookBody bounds what an unauthenticated caller makes us read
// before the signature is checked: a delivery of 100 events is some 40 KiB.
const MaxWebhookBody = 256 << 10

// WebhookStore is what the handler needs of the database.
type WebhookStore interface {
	ConnectionByExternalID(ctx context.Context, provider qwoty.Provider, externalID string) (*qwoty.Connection, error)
	TakeWebhook(ctx context.Context, provider, connectionID string, events []store.WebhookEvent) (int, error)
}

// Webhooks answers HubSpot's deliveries.
type Webhooks struct {
	A     *Adapter
	Store WebhookStore
	// URL is the public URL HubSpot calls (APP_URL + WebhookPath): the
	// signature covers it.
	URL string
}

// webhookEvent is one event of a delivery. HubSpot writes ids as numbers.
type webhookEvent struct {
	EventID          json.Number `json:"eventId"`
	SubscriptionID   json.Number `json:"subscriptionId"`
	PortalID         json.Number `json:"portalId"`
	AppID            json.Number `json:"appId"`
	OccurredAt       int64       `json:"occurredAt"`
	SubscriptionType string      `json:"subscriptionType"`
	AttemptNumber    int         `json:"attemptNumber"`
	ObjectID         json.Number `json:"objectId"`
	// ObjectTypeID names the object of a generic subscription
	// ("object.creation"): "0-2" companies, "0-3" deals, "0-7" products.
	ObjectTypeID string `json:"objectTypeId"`
	PropertyName string `json:"propertyName"`
	ChangeSource string `json:"changeSource"`
	SourceID     string `json:"sourceId"`
}

// kindOfObjectType maps a subscription's object to the kind pulled.
var kindOfObjectType = map[string]string{
	"company": crm.KindCustomer, "0-2": crm.KindCustomer,
	"deal": crm.KindDeal, "0-3": crm.KindDeal,
	"product": crm.KindProduct, "0-7": crm.KindProduct,
}

// kind is the kind of record an event is about, "" for one pulling does
// not read.
func (e *webhookEvent) kind() string {
	object, _, _ := strings.Cut(e.SubscriptionType, ".")
	if object == "object" {
		object = e.ObjectTypeID
	}
	return kindOfObjectType[object]
}

// echo: a change the app made itself. HubSpot names an app's change with
// changeSource INTEGRATION and the app's id as sourceId (assumed from
// HubSpot's samples; a sourceId in another form is not an echo).
func (e *webhookEvent) echo() bool {
	return e.ChangeSource == "INTEGRATION" && e.AppID != "" && e.SourceID == string(e.AppID)
}

// Serve handles one delivery. It answers 200 itself and returns nil, or
// returns a coded error (the server writes it): a body too large, no or a
// bad signature, a body that is not HubSpot's. Events of a portal with no
// connection, or a disconnected one, are answered 200 and dropped:
// HubSpot would retry a refusal for hours to no end.
func (h *Webhooks) Serve(w http.ResponseWriter, r *http.Request) error {
	if h.A == nil || h.A.app == nil {
		return notConfigured()
	}
	if r.ContentLength > MaxWebhookBody {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return qwoty.Errorf(qwoty.CodeBadRequest, "Send the whole body in one request.", "the webhook's body could not be read")
	}
	err = VerifyV3(h.A.app.ClientSecret, r.Method, h.URL, body, r.Header.Get(HeaderSignatureV3), r.Header.Get(HeaderRequestTimestamp), h.A.now())
	if err != nil {
		// The card's hints do not fit a webhook: say who signs, and what.
		var coded *qwoty.Error
		if errors.As(err, &coded) {
			switch coded.Code {
			case qwoty.CodeSignatureMissing:
				coded.Hint = "HubSpot signs every webhook delivery with the app's client secret; a request without the header did not come from HubSpot."
			case qwoty.CodeSignatureInvalid:
				coded.Hint = "Check that HUBSPOT_CLIENT_SECRET is the client secret of the app whose webhooks these are, and that the app's webhook targetUrl is exactly APP_URL followed by " + WebhookPath + ": the signature covers that URL."
			}
		}
		return err
	}
	var events []webhookEvent
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&events); err != nil {
		return qwoty.Errorf(qwoty.CodeBadRequest, "HubSpot sends a JSON array of events.", "the webhook's body is not a JSON array of events: %v", err)
	}
	byPortal := map[string][]store.WebhookEvent{}
	var portals []string
	for _, e := range events {
		kind := e.kind()
		if kind == "" || e.EventID == "" || !objectID(string(e.ObjectID)) || !objectID(string(e.PortalID)) || e.echo() {
			continue
		}
		p := string(e.PortalID)
		if _, seen := byPortal[p]; !seen {
			portals = append(portals, p)
		}
		byPortal[p] = append(byPortal[p], store.WebhookEvent{ID: string(e.EventID), Kind: kind, RecordID: string(e.ObjectID)})
	}
	for _, p := range portals {
		conn, err := h.Store.ConnectionByExternalID(r.Context(), qwoty.ProviderHubSpot, p)
		if errors.Is(err, qwoty.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("hubspot: webhook: %w", err)
		}
		if conn.Status == qwoty.ConnectionDisconnected {
			continue
		}
		if _, err := h.Store.TakeWebhook(r.Context(), string(qwoty.ProviderHubSpot), conn.ID, byPortal[p]); err != nil {
			return fmt.Errorf("hubspot: webhook: %w", err)
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func tooLarge() error {
	return qwoty.Errorf(qwoty.CodePayloadTooLarge, "HubSpot sends at most 100 events a request.",
		"the webhook's body is larger than %d KiB", MaxWebhookBody>>10)
}
