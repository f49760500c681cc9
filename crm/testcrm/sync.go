package testcrm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM's sync: one idempotent write per deal (PUT
// /api/deals/{id}/sync, which replaces the lines that carry a ref and
// keeps the others), limited to Calls per second. It is the smallest
// Syncer the engine can be tested with, whatever the real CRMs do.

// WriteScope is the scope sync needs.
const WriteScope = "deals:write"

// SyncCalls is the test CRM's default rate budget, per second.
const SyncCalls = 50

// Sync is the CRM's outbound sync.
func (a *Adapter) Sync() crm.Syncer { return syncer{a} }

type syncer struct{ a *Adapter }

// Ready refuses a connection whose token may not write deals.
func (s syncer) Ready(conn *qwoty.Connection) error {
	if slices.Contains(conn.Scopes, WriteScope) {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "this %s connection may not write deals: reconnect to enable sync", Name)
}

// DefaultStages maps the end of a quote's life to the deal's.
func (syncer) DefaultStages() map[qwoty.Status]string {
	return map[qwoty.Status]string{qwoty.StatusSent: "proposal", qwoty.StatusAccepted: "won", qwoty.StatusRejected: "lost"}
}

// Buckets: the calls per second of Options.SyncCalls (SyncCalls).
func (s syncer) Buckets(*qwoty.Connection, float64) []crm.Bucket {
	n := s.a.o.SyncCalls
	if n <= 0 {
		n = SyncCalls
	}
	return []crm.Bucket{{Name: "calls", Capacity: float64(n), Per: time.Second}}
}

// MaxBatch: deals are written one call each; a batch is what a lease holds.
func (syncer) MaxBatch() int { return 50 }

type syncLine struct {
	Ref      string `json:"ref"`
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Price    string `json:"price"`
	Net      string `json:"net"`
}

// Scale is the number of decimals the test CRM's money fields hold.
const Scale int32 = 2

// Push writes each deal with one call.
func (s syncer) Push(ctx context.Context, sess crm.Session, b crm.Budget, _ crm.Links, deals []crm.Deal) crm.Report {
	var rep crm.Report
	for i, d := range deals {
		if err := b.Take(ctx, "calls", 1); err != nil {
			for _, rest := range deals[i:] {
				rep.Outcomes = append(rep.Outcomes, crm.Outcome{RecordID: rest.RecordID, Err: err})
			}
			return rep
		}
		body := map[string]any{"amount": "0", "lines": []syncLine{}}
		if d.Primary != nil {
			// The test CRM's money fields hold 2 decimals, like
			// Salesforce's: the figures are the quote's at that scale, and
			// the lines add up to what the deal holds.
			f := d.Primary.Figures(Scale)
			lines := make([]syncLine, 0, len(d.Primary.Lines))
			for i, l := range d.Primary.Lines {
				lines = append(lines, syncLine{Ref: l.Ref, SKU: l.SKU, Name: l.Description, Quantity: l.Quantity.String(),
					Price: l.UnitPrice.StringFixed(Scale), Net: f.Nets[i].StringFixed(Scale)})
			}
			body = map[string]any{"amount": f.Total.StringFixed(Scale), "stage": d.Stage, "lines": lines}
			if len(d.Fields) > 0 {
				body["fields"] = d.Fields
			}
		}
		rep.Calls++
		err := sess.Call(ctx, func(ctx context.Context, token string) error {
			return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodPut, Base: sess.Connection().InstanceURL,
				Path: "/api/deals/" + url.PathEscape(d.RecordID) + "/sync", Token: token, JSON: body, Timeout: DefaultTimeout,
				HTTP: s.a.o.HTTP, Refused: apiErrors.Answer}, nil)
		})
		o := crm.Outcome{RecordID: d.RecordID, Err: s.classify(ctx, b, err)}
		if o.Err == nil {
			o.Written = []crm.Written{{Object: "deal", ID: d.RecordID, Action: crm.ActionUpdated}}
		}
		rep.Outcomes = append(rep.Outcomes, o)
	}
	return rep
}

// classify turns the CRM's refusals into the engine's classes: 422 is a
// rejection, 429 blocks the connection for Retry-After.
func (syncer) classify(ctx context.Context, b crm.Budget, err error) error {
	var ae *crm.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Status == http.StatusUnprocessableEntity:
		return crm.Rejected(err)
	case errors.Is(err, crm.ErrRateLimited):
		until := time.Now().Add(max(ae.RetryAfter, time.Second))
		if berr := b.Block(ctx, until); berr != nil {
			return berr
		}
		return &crm.WaitError{Until: until, Reason: ae.Error()}
	}
	return err
}
