package hubspot

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Sync writes a deal's primary quote into HubSpot (docs/sync-hubspot.md):
// its lines as line items under the deal, upserted by the unique line item
// property qwoty_ref; its total as the deal's amount and its status as the
// deal's stage. It changes only the line items it made (they carry
// qwoty_ref and are in the links); those people add by hand stay.
func (a *Adapter) Sync() crm.Syncer { return &syncer{a: a} }

// HubSpot's limit for a public app is 110 requests every 10 seconds per
// installing account, counted over a rolling 10 seconds, the CRM Search API
// excepted, with no daily cap for OAuth calls (developer docs, "API usage
// guidelines and limits"; changelog "Rate limit headers will now appear for
// OAuth authenticated calls"). Sync declares 105 of them (crm.Bucket: at
// most that many in any 10 seconds): the other 5 are the card's look-ups,
// which take no budget, and the margin for a request's way to HubSpot.
const (
	burstBucket   = "burst"
	burstCapacity = 105
	burstPer      = 10 * time.Second
	// hubspotWindow is HubSpot's interval when its answers do not say.
	hubspotWindow = 10 * time.Second
)

// The engine lets a small part of the bucket go at once and spreads the
// rest (crm.Bucket.TokenBucket): a push of more calls than that waits a
// tenth of a second per call beyond it. It waits in place, up to
// maxInlineWait in all; past that it stops, and the engine snoozes its
// deals.
const maxInlineWait = 2 * time.Second

// maxInputs: HubSpot's batch endpoints take up to 100 inputs a request.
const maxInputs = 100

// The links' objects (crm.RefLink.Object), in this package's own naming.
const (
	// linkLineItem: a line item Qwoty made; Ref is the line's Ref, Parent
	// the deal, CRMID the line item.
	linkLineItem = "line_items"
	// linkDeal caches what was last written to a deal (Ref: the deal id):
	// its hash stops a push of the same amount and stage.
	linkDeal = "hubspot_deal"
	// linkSchema caches the properties sync made in the portal (Ref:
	// "<objectType>.<property>"), so that they are made once.
	linkSchema = "hubspot_schema"
)

type syncer struct{ a *Adapter }

var _ crm.Syncer = (*syncer)(nil)

// Ready refuses a connection whose granted scopes lack one sync writes with:
// one made before sync (its Scopes are nil) must be reconnected first.
func (s *syncer) Ready(conn *qwoty.Connection) error {
	var missing []string
	for _, sc := range SyncScopes {
		if !slices.Contains(conn.Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the HubSpot connection was not granted %s, which Qwoty needs to write deals and line items: reconnect HubSpot to enable sync",
		strings.Join(missing, ", "))
}

// DefaultStages are stages of HubSpot's default deal pipeline ("default"),
// by their internal ids: a sent quote is the pipeline's "Contract sent"
// stage, an accepted one "Closed won", a rejected one "Closed lost". A draft,
// a viewed or an expired quote leaves the stage as it is.
func (s *syncer) DefaultStages() map[qwoty.Status]string {
	return map[qwoty.Status]string{
		qwoty.StatusSent:     "contractsent",
		qwoty.StatusAccepted: "closedwon",
		qwoty.StatusRejected: "closedlost",
	}
}

// Buckets: one burst bucket, 105 calls in any 10 seconds, whatever the
// share (HubSpot has no daily cap for OAuth apps); and the CRM Search
// API's own, 4 a second, which pulling's listings take from
// (pull_call.go).
func (s *syncer) Buckets(*qwoty.Connection, float64) []crm.Bucket {
	return []crm.Bucket{{Name: burstBucket, Capacity: burstCapacity, Per: burstPer},
		{Name: searchBucket, Capacity: searchCapacity, Per: searchPer}}
}

// MaxBatch: a push of 100 deals fits the deals' batch update in one call.
func (s *syncer) MaxBatch() int { return maxInputs }

// Push writes deals: line items first (created with their deal association
// inline, or upserted by qwoty_ref), associations where an upsert made a
// line item, the line items Qwoty no longer has archived, then the deals'
// amount and stage in one batch update.
func (s *syncer) Push(ctx context.Context, sess crm.Session, b crm.Budget, links crm.Links, deals []crm.Deal) crm.Report {
	p := &push{s: s, sess: sess, budget: b, links: links}
	p.plan(ctx, deals)
	if p.hasLines() {
		if err := p.ensureRefProperty(ctx); err != nil {
			for _, d := range p.deals {
				if len(d.lines) > 0 {
					d.fail(err)
				}
			}
		}
	}
	p.createLines(ctx)
	p.upsertLines(ctx)
	p.associateLines(ctx)
	p.archiveLines(ctx)
	p.updateDeals(ctx)
	return p.report()
}
