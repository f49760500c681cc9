package pipedrive

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Sync pushes deals to Pipedrive: the primary quote's total and status to
// the deal's value and stage or status, its lines to the deal's products.
// docs/sync-pipedrive.md says what is written where.
//
// Pipedrive has no upsert and no external id on deal products, so a line's
// deal product carries its reference (crm.Ref(crm.RefLine, id)) in its
// comments, and a create is recorded first as an intent (Links.Intend): a
// push that finds an intent lists the deal's products once and adopts
// those whose comments carry the reference before it creates the others.
// Only deal products whose links Qwoty holds are changed or deleted; those
// people added are never touched.
func (a *Adapter) Sync() crm.Syncer { return &Syncer{http: a.o.HTTP} }

// Syncer is Pipedrive's crm.Syncer.
type Syncer struct {
	http *http.Client
	// Account says a connection's plan and seats, which set its daily token
	// budget, over what the admin entered (qwoty.Connection's Plan and
	// Seats); with neither, Lite and one seat, the smallest budget:
	// Pipedrive's API tells neither.
	Account func(conn *qwoty.Connection) (Plan, int)
	// Now is the clock of the waits after a 429; nil means time.Now.
	Now func() time.Time
	// Workers is how many deals a push writes at once; 0 means 4.
	Workers int
}

var _ crm.Syncer = (*Syncer)(nil)

// SyncScopes are the scopes sync needs, as Pipedrive names them ("Deals:
// Full access" and "Products: Full access" in Developer Hub): deals:full
// updates a deal, products:full creates catalog products and adds, changes
// and deletes a deal's products ("Scopes and permission explanations").
var SyncScopes = []string{"deals:full", "products:full"}

// Ready refuses a connection whose grant lacks a sync scope, a connection
// made before sync above all (its Scopes are nil), with sync_reconnect: the
// admin connects again and approves the app's new scopes.
func (y *Syncer) Ready(conn *qwoty.Connection) error {
	var missing []string
	for _, s := range SyncScopes {
		if !slices.Contains(conn.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the Pipedrive connection was not granted %s", strings.Join(missing, " and "))
}

// Stage map values. A Pipedrive deal has a status (open, won, lost) and,
// while open, a stage of its pipeline, which Pipedrive numbers per company:
// a stage-map value is "won", "lost" or "open" (the deal's status), or
// "stage:<id>" (a stage id, moving the deal into that stage's pipeline).
const (
	StageWon    = "won"
	StageLost   = "lost"
	StageOpen   = "open"
	StagePrefix = "stage:"
)

// DefaultStages map an accepted quote to a won deal and a rejected one to a
// lost deal; the other statuses leave the deal's stage: stage ids differ in
// every company, so the admin maps them (sync settings).
func (y *Syncer) DefaultStages() map[qwoty.Status]string {
	return map[qwoty.Status]string{qwoty.StatusAccepted: StageWon, qwoty.StatusRejected: StageLost}
}

// stageFields are the deal fields a stage-map value sets; nil for "".
func stageFields(v string) (map[string]any, error) {
	switch v {
	case "":
		return nil, nil
	case StageWon, StageLost, StageOpen:
		return map[string]any{"status": v}, nil
	}
	if id, err := strconv.ParseInt(strings.TrimPrefix(v, StagePrefix), 10, 64); err == nil && id > 0 && strings.HasPrefix(v, StagePrefix) {
		return map[string]any{"stage_id": id}, nil
	}
	return nil, fmt.Errorf("the stage map's value %q for Pipedrive is none of won, lost, open or stage:<stage id>", v)
}

// Plan is a Pipedrive subscription plan, which sets the daily token budget
// and the burst limit ("Rate limiting").
type Plan string

// Pipedrive's plans.
const (
	Lite     Plan = "lite"
	Growth   Plan = "growth"
	Premium  Plan = "premium"
	Ultimate Plan = "ultimate"
)

// plans are each plan's budget multiplier and OAuth apps' burst limit per
// 2 seconds ("Rate limiting": Lite 1 and 80, Growth 2 and 160, Premium 5
// and 400, Ultimate 7 and 480).
var plans = map[Plan]struct{ multiplier, burst int }{
	Lite: {1, 80}, Growth: {2, 160}, Premium: {5, 400}, Ultimate: {7, 480},
}

// Budget figures of "Rate limiting": "30,000 base tokens × subscription plan
// multiplier × number of seats", bursts on "a rolling 2-second window",
// and the Search API's 10 requests per 2 seconds on every plan.
const (
	BaseTokens  = 30_000
	BurstWindow = 2 * time.Second
	SearchBurst = 10
)

// DailyTokens is a company's daily token budget (top-ups left out).
func DailyTokens(p Plan, seats int) int {
	if _, ok := plans[p]; !ok {
		p = Lite
	}
	return BaseTokens * plans[p].multiplier * max(seats, 1)
}

// Buckets are the connection's daily token budget (share of it), refilled
// over 24 hours, its OAuth burst limit and the Search API's.
func (y *Syncer) Buckets(conn *qwoty.Connection, share float64) []crm.Bucket {
	plan, seats := Lite, 1
	if _, ok := plans[Plan(conn.Plan)]; ok && conn.Seats > 0 {
		plan, seats = Plan(conn.Plan), conn.Seats
	}
	if y.Account != nil {
		if p, n := y.Account(conn); p != "" {
			plan, seats = p, n
		}
	}
	if _, ok := plans[plan]; !ok {
		plan = Lite
	}
	share = min(max(share, 0), 1)
	return []crm.Bucket{
		{Name: bucketDaily, Capacity: share * float64(DailyTokens(plan, seats)), Per: 24 * time.Hour},
		{Name: bucketBurst, Capacity: float64(plans[plan].burst), Per: BurstWindow},
		{Name: bucketSearch, Capacity: SearchBurst, Per: BurstWindow},
	}
}

// MaxBatch: every deal is its own calls (its update, its products in
// bulk), so a batch only shares the catalog's look-ups; 50 deals are about
// 100 requests, a little over one burst window of the smallest plan.
func (y *Syncer) MaxBatch() int { return 50 }

func (y *Syncer) now() time.Time {
	if y.Now != nil {
		return y.Now()
	}
	return time.Now()
}

// Push writes deals: the catalog products their lines need first (found or
// created once per product, then remembered), then each deal, a few at a
// time.
func (y *Syncer) Push(ctx context.Context, s crm.Session, b crm.Budget, links crm.Links, deals []crm.Deal) crm.Report {
	p := &pusher{y: y, s: s, b: b, links: links}
	cat := p.catalog(ctx, deals)
	out := make([]crm.Outcome, len(deals))
	workers := y.Workers
	if workers <= 0 {
		workers = 4
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(deals), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = p.deal(ctx, deals[i], cat)
			}
		}()
	}
	for i := range deals {
		next <- i
	}
	close(next)
	wg.Wait()
	return crm.Report{Outcomes: out, Calls: int(p.calls.Load()), Tokens: int(p.tokens.Load())}
}

// Plans lists Pipedrive's plans in the order the console offers them.
var Plans = []Plan{Lite, Growth, Premium, Ultimate}

// ParsePlan returns the plan named s.
func ParsePlan(s string) (Plan, bool) {
	_, ok := plans[Plan(s)]
	return Plan(s), ok
}
