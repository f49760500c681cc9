// Package crmsync is sync's engine: River workers that push the
// transactional outbox (store's sync_records, written in the transaction of
// each quote change) to the CRMs through their adapters' Syncers and the
// session layer. It decides what is due, holds each record's lease while it
// is pushed, spends each connection's API budget (kept in PostgreSQL, shared
// by every instance), classifies failures (retried three times with
// backoff, failed at once when permanent, snoozed without using a retry
// when a limit says wait), records every push in the sync log and alerts
// workspace admins once an hour at most. docs/sync.md explains it as an
// admin sees it.
package crmsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/store"
)

// Options tune the engine; the zero value gives the production defaults.
type Options struct {
	// Workers is how many sync jobs one instance works at once (4).
	Workers int
	// MaxBatch caps the records one push carries below the CRM's own
	// batch size (0: the CRM's): smaller all-or-none batches, at more
	// calls.
	MaxBatch int
	// Lease is how long a worker holds the records it pushes (2 min). A
	// push is cut off well before its lease ends (LeaseMargin), so that a
	// record is never pushed by two workers at once.
	Lease time.Duration
	// Backoff are the waits after the first, second and third transient
	// failure of a record (30 s, 2 min, 10 min); one failure more fails it
	// for good. Its length is the number of retries.
	Backoff []time.Duration
	// MaxSnooze is the longest a push job snoozes for records due soon
	// (30 s); records due later are left to the sweep.
	MaxSnooze time.Duration
	// SweepEvery is how often the leader looks for due records without a
	// job (15 s).
	SweepEvery time.Duration
	// RunFor bounds one run of a push job (1 min); a connection with more
	// work snoozes and runs again, so a backlog does not hold a worker.
	RunFor time.Duration
	// PollInterval is how often River looks for jobs besides its
	// notifications (River's default, 1 s).
	PollInterval time.Duration
	// BackfillChunk is how many quotes a back-fill captures into the
	// outbox at a time (200); BackfillTick how often its job counts its
	// progress and looks whether the next chunk is due (1 s).
	BackfillChunk int
	BackfillTick  time.Duration
	// PullEvery is how often every connection is polled for its CRM's
	// changes (jobs.PullEvery, 15 min): the safety net under webhooks.
	PullEvery time.Duration
	// ExpireEvery is how often quotes past their validity are expired
	// (jobs.ExpireEvery, 15 min).
	ExpireEvery time.Duration
	// Plugins are other parts' jobs (webhook deliveries) worked by the
	// same River client, each on queues of its own.
	Plugins []Plugin
	// Alerts sends alerts; nil logs them only.
	Alerts Alerter
	// AppURL is the console's base URL, for the alerts' links.
	AppURL string
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Backoff == nil {
		o.Backoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute}
	}
	if o.MaxSnooze <= 0 {
		o.MaxSnooze = 30 * time.Second
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 15 * time.Second
	}
	if o.RunFor <= 0 {
		o.RunFor = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = river.FetchPollIntervalDefault
	}
	if o.PullEvery <= 0 {
		o.PullEvery = jobs.PullEvery
	}
	if o.ExpireEvery <= 0 {
		o.ExpireEvery = jobs.ExpireEvery
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BackfillChunk <= 0 {
		o.BackfillChunk = defaultBackfillChunk
	}
	if o.BackfillTick <= 0 {
		o.BackfillTick = defaultBackfillTick
	}
}

// leaseMargin is how much earlier than its lease's end a push is cut off.
func (o *Options) leaseMargin() time.Duration { return o.Lease / 4 }

// Plugin is another part's River jobs, worked by the engine's client (one
// client per instance, one leader) on queues of the plugin's own.
type Plugin interface {
	// AddWorkers adds the plugin's workers.
	AddWorkers(w *river.Workers)
	// Queues are the plugin's queues.
	Queues() map[string]river.QueueConfig
	// PeriodicJobs are the plugin's periodic jobs (run on the leader).
	PeriodicJobs() []*river.PeriodicJob
}

// Engine works sync's jobs.
type Engine struct {
	db     *store.DB
	crms   *crm.Registry
	opt    Options
	log    *slog.Logger
	client *river.Client[pgx.Tx]
	// state is the workers' state, for /readyz: workersNew, then
	// workersStarted, then workersStopping once Stop is called.
	state atomic.Int32
	// counted closes once the jobs' events are all counted, after the
	// client stopped.
	counted chan struct{}
}

const (
	workersNew int32 = iota
	workersStarted
	workersStopping
)

// New builds the engine over db (migrated) and the registered CRMs. It
// works nothing until Start.
func New(db *store.DB, crms *crm.Registry, opt Options) (*Engine, error) {
	opt.defaults()
	e := &Engine{db: db, crms: crms, opt: opt, log: opt.Logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, &pushWorker{e: e})
	river.AddWorker(workers, &alertWorker{e: e})
	river.AddWorker(workers, &sweepWorker{e: e})
	river.AddWorker(workers, &pruneWorker{e: e})
	river.AddWorker(workers, &checkMappingsWorker{e: e})
	river.AddWorker(workers, &backfillWorker{e: e})
	river.AddWorker(workers, &pullWorker{e: e})
	river.AddWorker(workers, &expireWorker{e: e})
	river.AddWorker(workers, &archiveWorker{e: e})
	db.SetArchiving(provides[crm.Archiver](crms))
	river.AddWorker(workers, &orderWorker{e: e})
	db.SetOrderSyncing(provides[crm.OrderSyncer](crms))
	river.AddWorker(workers, &dealWorker{e: e})
	db.SetDealMaking(provides[crm.DealMaker](crms))
	queues := map[string]river.QueueConfig{jobs.Queue: {MaxWorkers: opt.Workers}, jobs.RunsQueue: {MaxWorkers: 2}}
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(opt.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.SyncSweep{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.SyncPrune{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.SyncCheckMappings{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(opt.ExpireEvery),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.QuoteExpire{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
	}
	for _, p := range opt.Plugins {
		p.AddWorkers(workers)
		periodic = append(periodic, p.PeriodicJobs()...)
		for name, q := range p.Queues() {
			if _, dup := queues[name]; dup {
				return nil, fmt.Errorf("crmsync: queue %s is the engine's", name)
			}
			queues[name] = q
		}
	}
	cfg := &river.Config{
		Queues:  queues,
		Workers: workers,
		// Periodic jobs run on the elected leader only.
		PeriodicJobs: periodic,
		// A run is bounded by RunFor and each push by the lease; this is
		// River's backstop above both. A job left running by a crashed
		// instance is rescued a lease later (its records' leases have run
		// out by then, and the sweep has given them a new job).
		JobTimeout:           opt.RunFor + opt.Lease,
		RescueStuckJobsAfter: opt.RunFor + 2*opt.Lease,
		FetchPollInterval:    opt.PollInterval,
		FetchCooldown:        min(opt.PollInterval, river.FetchCooldownDefault),
		Logger:               slog.New(levelFloor{opt.Logger.Handler(), slog.LevelWarn}),
	}
	client, err := db.NewJobClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("crmsync: %w", err)
	}
	e.client = client
	return e, nil
}

// Start starts working jobs until Stop. Ending ctx stops too, but
// abruptly (River cancels the jobs running): a graceful shutdown passes a
// ctx that does not end and calls Stop.
func (e *Engine) Start(ctx context.Context) error {
	events, cancel := e.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled,
		river.EventKindJobSnoozed, river.EventKindJobInterrupted)
	if err := e.client.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("crmsync: start: %w", err)
	}
	e.state.Store(workersStarted)
	e.counted = make(chan struct{})
	go func() {
		defer close(e.counted)
		countJobs(events, e.client.Stopped(), cancel)
	}()
	return nil
}

// waitCounted waits (until ctx ends) for the last jobs' events to be
// counted, once the client stopped.
func (e *Engine) waitCounted(ctx context.Context) {
	if e.counted == nil {
		return
	}
	select {
	case <-e.counted:
	case <-ctx.Done():
	}
}

// countJobs counts the jobs this instance works, by kind and outcome, and
// times them (package metrics), until the client stops.
func countJobs(events <-chan *river.Event, stopped <-chan struct{}, cancel func()) {
	defer cancel()
	for {
		select {
		case <-stopped:
			for { // what was sent before the stop
				select {
				case ev, ok := <-events:
					if !ok {
						return
					}
					countJob(ev)
				default:
					return
				}
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			countJob(ev)
		}
	}
}

func countJob(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	var wait, run time.Duration
	if ev.JobStats != nil {
		wait, run = ev.JobStats.QueueWaitDuration, ev.JobStats.RunDuration
	}
	metrics.JobWorked(ev.Job.Kind, jobOutcome(ev), wait, run)
}

// jobOutcome names what became of a job an event reports.
func jobOutcome(ev *river.Event) string {
	switch ev.Kind {
	case river.EventKindJobCompleted:
		return "completed"
	case river.EventKindJobCancelled:
		return "cancelled"
	case river.EventKindJobSnoozed:
		return "snoozed"
	case river.EventKindJobInterrupted:
		return "interrupted"
	}
	if ev.Job.State == rivertype.JobStateDiscarded {
		return "discarded"
	}
	return "retryable"
}

// Ready says whether this instance works jobs (for /readyz): nil once
// started, until Stop is called or the client stops.
func (e *Engine) Ready() error {
	switch e.state.Load() {
	case workersNew:
		return errors.New("the job workers have not started")
	case workersStopping:
		return errors.New("the job workers are stopping")
	}
	select {
	case <-e.client.Stopped():
		return errors.New("the job workers stopped")
	default:
		return nil
	}
}

// Client is the River client, for the operators' jobs view.
func (e *Engine) Client() *river.Client[pgx.Tx] { return e.client }

// Stop stops fetching jobs and waits for those running (until ctx ends,
// then cancels them: River hands a job cancelled so back to be worked
// again, and a cancelled push hands its records back).
func (e *Engine) Stop(ctx context.Context) error {
	e.state.Store(workersStopping)
	err := e.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return e.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// levelFloor passes on River's log records at min and above.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}

// Shutdown stops working jobs within ctx's deadline: River stops fetching
// at once and lets the jobs running finish for up to soft; those still
// running then are cancelled (River hands each back, to be worked again by
// an instance still up or after a restart, without using an attempt) and
// waited for until ctx ends. cancelled says whether it came to that.
func (e *Engine) Shutdown(ctx context.Context, soft time.Duration) (cancelled bool, err error) {
	e.state.Store(workersStopping)
	sctx, cancel := context.WithTimeout(ctx, soft)
	defer cancel()
	err = e.client.Stop(sctx)
	if err == nil {
		e.waitCounted(ctx)
		return false, nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return false, fmt.Errorf("crmsync: stop: %w", err)
	}
	e.log.Warn("jobs still running at the shutdown's bound: cancelling them, River hands them back", "waited", soft.String())
	if err := e.client.StopAndCancel(ctx); err != nil {
		return true, fmt.Errorf("crmsync: stop and cancel: %w", err)
	}
	e.waitCounted(ctx)
	return true, nil
}
