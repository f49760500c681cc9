package hstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/qwoty/companion/crm/hubspot"
)

// Webhooks as HubSpot delivers them (webhooks guide; request validation,
// v3): a POST of a JSON array of at most 100 events to the app's target
// URL, signed with the app's client secret (X-HubSpot-Signature-v3 over
// method, URL, body and X-HubSpot-Request-Timestamp). Each event carries
// its eventId, the portal, the subscription type and the object; HubSpot
// may deliver an event more than once and in any order, which a test does
// by sending the same events again or in another order.

// MaxWebhookEvents is the most events HubSpot puts in one request.
const MaxWebhookEvents = 100

// WebhookEvent is one event to deliver. EventID 0 is given the next id.
type WebhookEvent struct {
	EventID          int64
	SubscriptionType string // "deal.creation", "company.propertyChange", "product.deletion", ...
	ObjectID         string
	PropertyName     string
	PropertyValue    string
	// ChangeSource and SourceID say who made the change ("CRM_UI",
	// "INTEGRATION" with the app's id as SourceID).
	ChangeSource  string
	SourceID      string
	OccurredAt    time.Time
	AttemptNumber int
}

var eventIDs atomic.Int64

// NewEventID returns an event id no other event of this process has.
func NewEventID() int64 { return 1_000_000 + eventIDs.Add(1) }

// SendWebhook delivers events of portalID to url, signed as HubSpot signs
// them (timestamp now, on the emulator's clock), and returns the answer's
// status. Events keep the order given.
func (s *Server) SendWebhook(url string, portalID int64, events ...WebhookEvent) (int, error) {
	if len(events) == 0 || len(events) > MaxWebhookEvents {
		return 0, fmt.Errorf("hstest: a delivery holds 1 to %d events, not %d", MaxWebhookEvents, len(events))
	}
	body, err := s.webhookBody(portalID, events)
	if err != nil {
		return 0, err
	}
	return s.SendSigned(url, body, s.Now(), s.opts.App.ClientSecret)
}

// SendSigned posts body to url signed with secret at ts: a test sends a
// tampered, stale or wrongly signed delivery with it.
func (s *Server) SendSigned(url string, body []byte, ts time.Time, secret string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hubspot.HeaderRequestTimestamp, strconv.FormatInt(ts.UnixMilli(), 10))
	req.Header.Set(hubspot.HeaderSignatureV3, hubspot.SignV3(secret, http.MethodPost, url, body, ts))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	s.calls.Add("webhook")
	return res.StatusCode, nil
}

// WebhookBody is the JSON HubSpot sends for events of portalID.
func (s *Server) WebhookBody(portalID int64, events ...WebhookEvent) ([]byte, error) {
	return s.webhookBody(portalID, events)
}

func (s *Server) webhookBody(portalID int64, events []WebhookEvent) ([]byte, error) {
	out := make([]map[string]any, 0, len(events))
	for _, e := range events {
		id := e.EventID
		if id == 0 {
			id = NewEventID()
		}
		obj, err := strconv.ParseInt(e.ObjectID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("hstest: object id %q is not a HubSpot id", e.ObjectID)
		}
		at := e.OccurredAt
		if at.IsZero() {
			at = s.Now()
		}
		ev := map[string]any{
			"eventId": id, "subscriptionId": 4242, "portalId": portalID, "appId": s.opts.App.ID,
			"occurredAt": at.UnixMilli(), "subscriptionType": e.SubscriptionType, "attemptNumber": e.AttemptNumber,
			"objectId": obj, "changeFlag": "NEW", "changeSource": cmpOr(e.ChangeSource, "CRM_UI"), "sourceId": e.SourceID,
		}
		if e.PropertyName != "" {
			ev["propertyName"], ev["propertyValue"] = e.PropertyName, e.PropertyValue
		}
		out = append(out, ev)
	}
	return json.Marshal(out)
}
