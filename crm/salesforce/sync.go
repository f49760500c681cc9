package salesforce

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Salesforce's half of sync (docs/sync-salesforce.md): each deal is an
// Opportunity; its primary quote's lines become OpportunityLineItems, its
// status the Opportunity's stage, and, when the org has Quotes enabled,
// every Qwoty quote is mirrored as a Quote with its QuoteLineItems. Every
// record Qwoty writes carries the package's External ID Qwoty__Ref__c and
// is upserted by it; products and price book entries are found or made
// as the org's price books require. A push is a read (one Composite of
// queries) and a write (one all-or-none Composite of sObject Collections),
// each counted as one API call.

// APIVersion is the REST API version sync calls: the package's
// sourceApiVersion.
const APIVersion = "v63.0"

const (
	// syncTimeout bounds one call: a Composite of several hundred records
	// takes seconds, not the 10 s DefaultTimeout allows in the worst case.
	syncTimeout = 60 * time.Second
	// limitBlock is how long the connection waits after 403
	// REQUEST_LIMIT_EXCEEDED: Salesforce sends no Retry-After, and its
	// allocation is a rolling 24 hours (sync.md §10).
	limitBlock = 15 * time.Minute
	// defaultAllocation is the daily allocation assumed until the org's own
	// is seen in Sforce-Limit-Info: a Developer Edition's 15,000, the
	// smallest there is.
	defaultAllocation = 15_000
	// defaultShare is the budget share when Buckets has not been told the
	// connection's: sync_settings.budget_share's default.
	defaultShare = 0.5
	// maxDeals is MaxBatch: 100 deals of about 5 lines are 500 products
	// and 500 quote lines, three collections of 200 each, within a
	// Composite's 25 subrequests.
	maxDeals = 100
	// bucketDaily is the one bucket a Salesforce connection has.
	bucketDaily = "daily"
)

// syncer is Salesforce's crm.Syncer.
type syncer struct {
	a   *Adapter
	now func() time.Time
}

// orgLimits remembers, per connection, the budget share Buckets was last
// given and the allocation Sforce-Limit-Info last showed: Push needs the
// share to turn the org's usage into what is left of sync's part, and the
// contract gives it to Buckets only.
var orgLimits = struct {
	sync.Mutex
	m map[string]limits
}{m: map[string]limits{}}

type limits struct {
	share      float64
	allocation int
}

// maxRemembered bounds orgLimits: one entry per connection pushed by this
// process.
const maxRemembered = 100_000

func connLimits(connID string) limits {
	orgLimits.Lock()
	defer orgLimits.Unlock()
	l := orgLimits.m[connID]
	if l.share <= 0 || l.share > 1 {
		l.share = defaultShare
	}
	if l.allocation <= 0 {
		l.allocation = defaultAllocation
	}
	return l
}

func rememberLimits(connID string, set func(*limits)) {
	orgLimits.Lock()
	defer orgLimits.Unlock()
	l, ok := orgLimits.m[connID]
	if !ok && len(orgLimits.m) >= maxRemembered {
		clear(orgLimits.m)
	}
	set(&l)
	orgLimits.m[connID] = l
}

// Sync is Salesforce's outbound sync.
func (a *Adapter) Sync() crm.Syncer { return &syncer{a: a, now: time.Now} }

var _ crm.Syncer = (*syncer)(nil)

// Ready: the api scope every connection has covers sync. An org whose
// package predates sync lacks its fields; its pushes fail with what to do
// (upgrade the package), which Ready cannot see without a call.
func (s *syncer) Ready(*qwoty.Connection) error { return nil }

// DefaultStages maps statuses to the stages of Salesforce's default sales
// process; a draft and an expired quote leave the stage as it is.
func (s *syncer) DefaultStages() map[qwoty.Status]string {
	return map[qwoty.Status]string{
		qwoty.StatusSent:     "Proposal/Price Quote",
		qwoty.StatusViewed:   "Negotiation/Review",
		qwoty.StatusAccepted: "Closed Won",
		qwoty.StatusRejected: "Closed Lost",
	}
}

// Buckets is the org's daily allocation, of which sync takes share,
// refilled over 24 hours. Until an answer has shown the org's allocation
// (Sforce-Limit-Info), the smallest one is assumed.
func (s *syncer) Buckets(conn *qwoty.Connection, share float64) []crm.Bucket {
	rememberLimits(conn.ID, func(l *limits) { l.share = share })
	l := connLimits(conn.ID)
	return []crm.Bucket{{Name: bucketDaily, Capacity: share * float64(l.allocation), Per: 24 * time.Hour}}
}

// MaxBatch is how many deals one Push writes in one Composite request.
func (s *syncer) MaxBatch() int { return maxDeals }

// maxLostRetries is how many times one Push pushes again, at once, the
// deals whose call lost its answer.
const maxLostRetries = 2

// Push writes deals: see push.go. A push puts every deal of the batch in
// one read and one write, so one answer lost on the way back (the
// connection closed after Salesforce saved the write) would send every
// deal of the batch to the engine's backoff, together, to meet the next
// loss together. Those deals are pushed again at once instead: a read is
// safe to repeat, and a write converges on what the new read finds (the
// upserts by Qwoty__Ref__c find what the lost write saved).
func (s *syncer) Push(ctx context.Context, sess crm.Session, b crm.Budget, links crm.Links, deals []crm.Deal) crm.Report {
	p := newPush(s, sess, b, links, deals)
	p.run(ctx)
	rep := p.report()
	for range maxLostRetries {
		// The outcomes are in the deals' order (newPush).
		var again []crm.Deal
		var at []int
		for k, o := range rep.Outcomes {
			if lostAnswer(o.Err) {
				again, at = append(again, deals[k]), append(at, k)
			}
		}
		if len(again) == 0 || ctx.Err() != nil {
			break
		}
		p := newPush(s, sess, b, links, again)
		p.run(ctx)
		r := p.report()
		rep.Calls += r.Calls
		for j, o := range r.Outcomes {
			rep.Outcomes[at[j]] = o
		}
	}
	return rep
}

// lostAnswer says whether err is a call's answer lost on the way: the
// connection closed before the whole answer came, when Salesforce may
// have done what was asked.
func lostAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
