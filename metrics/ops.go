package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Card stages: where the card's time goes (docs/operations.md). A signed
// callout (the CRM asks for the card's JSON) is verified (signature: the
// signature and the connection), claims its nonce and reads the record's
// quotes (db: one round trip), gets its embed token and answer (session),
// then is written (render); the card page checks its embed token and
// connection (session), reads the quotes (db), and renders (render).
const (
	StageSignature = "signature"
	StageSession   = "session"
	StageDB        = "db"
	StageRender    = "render"
)

var cardStages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name: "qwoty_card_stage_seconds", Help: "Time of each stage of the card path, by surface (callout, page) and stage (signature, session, db, render).",
	Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
}, []string{"surface", "stage"})

// Stage times the stages of one card request: Mark ends the stage running
// and starts the next. The zero Stage does nothing.
type Stage struct {
	surface string
	last    time.Time
}

// CardCallout and CardPage start timing a callout's and a page's stages.
func CardCallout() Stage { return Stage{surface: "callout", last: time.Now()} }
func CardPage() Stage    { return Stage{surface: "page", last: time.Now()} }

// CardStageTook observes one stage that took d.
func CardStageTook(surface, stage string, d time.Duration) {
	cardStages.WithLabelValues(surface, stage).Observe(d.Seconds())
}

// Mark observes the stage that just ended, named stage.
func (s *Stage) Mark(stage string) {
	if s.surface == "" {
		return
	}
	now := time.Now()
	cardStages.WithLabelValues(s.surface, stage).Observe(now.Sub(s.last).Seconds())
	s.last = now
}

var (
	jobWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qwoty_job_queue_wait_seconds", Help: "Time from a background job's scheduled time (when it became due) to its start, by kind.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"kind"})
	jobRun = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qwoty_job_run_seconds", Help: "Time a background job ran, by kind.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 180},
	}, []string{"kind"})
	jobsWorked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qwoty_jobs_worked_total", Help: "Background jobs this instance worked, by kind and outcome: completed, retryable, discarded, cancelled, snoozed, interrupted.",
	}, []string{"kind", "outcome"})
)

// JobWorked counts a job this instance worked and times it (wait: due to
// start; run: the worker's own time).
func JobWorked(kind, outcome string, wait, run time.Duration) {
	jobsWorked.WithLabelValues(kind, outcome).Inc()
	if outcome == "interrupted" {
		return
	}
	jobWait.WithLabelValues(kind).Observe(wait.Seconds())
	jobRun.WithLabelValues(kind).Observe(run.Seconds())
}

func init() {
	Registry.MustRegister(cardStages, jobWait, jobRun, jobsWorked)
}

// SyncHealth is sync's state over one CRM's connections (those not
// disconnected), aggregated so that the metrics' series stay few whatever
// the number of connections.
type SyncHealth struct {
	Provider string
	// Connections counts the CRM's connections.
	Connections int
	// LowestBudgetShare is the lowest share left of any connection's
	// rate-limit bucket (0 to 1; 1 when no bucket was observed yet);
	// BudgetUnder10 counts the connections with a bucket under 10 %, and
	// Blocked those the CRM told to wait (a 429's Retry-After) now.
	LowestBudgetShare float64
	BudgetUnder10     int
	Blocked           int
	// Behind counts the connections with records not pushed yet; a
	// connection's lag is the age of its oldest unpushed record (since
	// that record's latest change), and LagP50/P90/P99 are quantiles of
	// it over those connections, OldestPending its largest (seconds).
	Behind                                int
	LagP50, LagP90, LagP99, OldestPending float64
}

// syncCollector reads SyncHealth at each scrape.
type syncCollector struct {
	read                                         func(context.Context) ([]SyncHealth, error)
	conns, lowest, under10, blocked, behind, lag *prometheus.Desc
	oldest                                       *prometheus.Desc
}

func newSyncCollector(read func(context.Context) ([]SyncHealth, error)) *syncCollector {
	crm := []string{"crm"}
	return &syncCollector{read: read,
		conns:   prometheus.NewDesc("qwoty_crm_connections", "CRM connections not disconnected, by CRM.", crm, nil),
		lowest:  prometheus.NewDesc("qwoty_crm_budget_lowest_share", "The lowest share left of any connection's API rate budget (0 to 1), by CRM.", crm, nil),
		under10: prometheus.NewDesc("qwoty_crm_connections_budget_low", "Connections with a rate budget under 10 % left, by CRM.", crm, nil),
		blocked: prometheus.NewDesc("qwoty_crm_connections_blocked", "Connections the CRM told to wait (rate limited) now, by CRM.", crm, nil),
		behind:  prometheus.NewDesc("qwoty_sync_connections_behind", "Connections with records not pushed to their CRM yet, by CRM.", crm, nil),
		lag:     prometheus.NewDesc("qwoty_sync_lag_seconds", "Quantiles over the connections behind of their sync lag (the age of the oldest record not pushed yet), by CRM.", []string{"crm", "quantile"}, nil),
		oldest:  prometheus.NewDesc("qwoty_sync_oldest_pending_seconds", "The age of the oldest record not pushed yet, any connection, by CRM.", crm, nil),
	}
}

func (c *syncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.lowest, c.under10, c.blocked, c.behind, c.lag, c.oldest} {
		ch <- d
	}
}

func (c *syncCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.conns, err)
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, h := range hs {
		p := h.Provider
		g(c.conns, float64(h.Connections), p)
		g(c.lowest, h.LowestBudgetShare, p)
		g(c.under10, float64(h.BudgetUnder10), p)
		g(c.blocked, float64(h.Blocked), p)
		g(c.behind, float64(h.Behind), p)
		g(c.lag, h.LagP50, p, "0.5")
		g(c.lag, h.LagP90, p, "0.9")
		g(c.lag, h.LagP99, p, "0.99")
		g(c.oldest, h.OldestPending, p)
	}
}
