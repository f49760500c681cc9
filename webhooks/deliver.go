package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Alert tells a workspace's admins that Qwoty disabled a subscription.
type Alert struct {
	WorkspaceID  string
	ConnectionID string
	// CRM names the CRM account ("Salesforce 00D…").
	CRM     string
	Subject string
	Text    string
	// Link is the console's webhooks page.
	Link   string
	Emails []string
}

// Alerter sends alerts (by email, through package notify).
type Alerter interface {
	Send(ctx context.Context, a Alert) error
}

// Options tune delivery; the zero value gives the production defaults.
type Options struct {
	Policy Policy
	// Workers is how many drain jobs (each a subscription's) one instance
	// runs at once (10); Concurrency how many requests each has in
	// flight (16). A batch a job leases is twice its Concurrency.
	Workers     int
	Concurrency int
	// SweepEvery is how often the leader gives a drain job to the
	// subscriptions with due deliveries no job is sending: retries whose
	// time has come, and what a crashed instance leased (5 s).
	SweepEvery time.Duration
	// BackoffBase and BackoffMax shape the waits between attempts
	// (jobs.WebhookBackoff: 10 s doubling to 4 h).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Client sends the requests (default Policy.Client()).
	Client *http.Client
	// Alerts tells admins of a disabled subscription; nil logs only.
	Alerts Alerter
	// AppURL is the console's base URL, for the alert's link.
	AppURL string
	Logger *slog.Logger
	// Now is the clock of the timestamps (default time.Now).
	Now func() time.Time
}

// Deliverer sends webhook deliveries: a River worker on its own queue,
// added to the job engine as a crmsync.Plugin.
type Deliverer struct {
	db  *store.DB
	opt Options
}

// New returns the deliverer over db.
func New(db *store.DB, opt Options) *Deliverer {
	if opt.Workers <= 0 {
		opt.Workers = 10
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.SweepEvery <= 0 {
		opt.SweepEvery = 5 * time.Second
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = jobs.WebhookBackoffBase
	}
	if opt.BackoffMax <= 0 {
		opt.BackoffMax = jobs.WebhookBackoffMax
	}
	if opt.Client == nil {
		opt.Client = opt.Policy.Client()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Deliverer{db: db, opt: opt}
}

// AddWorkers implements crmsync.Plugin.
func (d *Deliverer) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &worker{d: d})
	river.AddWorker(w, &sweeper{d: d})
	river.AddWorker(w, &pruner{d: d})
}

// PeriodicJobs implements crmsync.Plugin: the sweep, and the daily prune
// of the delivery log.
func (d *Deliverer) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(d.opt.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.WebhookSweep{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return jobs.WebhookPrune{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// Queues implements crmsync.Plugin.
func (d *Deliverer) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{jobs.WebhooksQueue: {MaxWorkers: d.opt.Workers}}
}

// Limits of what a delivery keeps of an answer.
const (
	// SnippetBytes is how much of the receiver's answer the log keeps.
	SnippetBytes = 1024
	// drainBytes is how much more of it is read (so that the connection
	// can be reused); the rest is dropped with the connection.
	drainBytes = 64 << 10
)

// UserAgent identifies deliveries.
const UserAgent = "Qwoty-Webhooks/1"

// Result is one attempt's outcome.
type Result struct {
	StatusCode int
	Snippet    string
	Duration   time.Duration
	Err        error
}

// OK says whether the receiver took the delivery (any 2xx).
func (r Result) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Post sends one signed request of body to url and reads a bounded part
// of the answer.
func (d *Deliverer) Post(ctx context.Context, url, id string, body []byte, secrets []string) Result {
	began := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if err := SetHeaders(req.Header, id, d.opt.Now(), body, secrets...); err != nil {
		return Result{Err: err}
	}
	resp, err := d.opt.Client.Do(req)
	if err != nil {
		return Result{Err: err, Duration: time.Since(began)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, SnippetBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	return Result{StatusCode: resp.StatusCode, Snippet: snippet(head), Duration: time.Since(began)}
}

// snippet is an answer's start as text: valid UTF-8, control characters
// but newlines and tabs dropped.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// describe says what went wrong with an attempt, for the log; it names
// no secret (the URL's path and query are the admin's own).
func describe(r Result) string {
	switch {
	case r.Err != nil && errors.Is(r.Err, ErrForbiddenAddress):
		return "refused: the URL resolves to an address that is not public (loopback, private, link-local or metadata)"
	case r.Err != nil && errors.Is(r.Err, context.DeadlineExceeded):
		return "timed out"
	case r.Err != nil:
		return r.Err.Error()
	case r.StatusCode >= 300 && r.StatusCode < 400:
		return fmt.Sprintf("answered %d: redirects are not followed; give the final URL", r.StatusCode)
	case !r.OK():
		return fmt.Sprintf("answered %d", r.StatusCode)
	}
	return ""
}

// worker drains one subscription's deliveries (jobs.WebhookDrain).
type worker struct {
	river.WorkerDefaults[jobs.WebhookDrain]
	d *Deliverer
}

// Limits of one drain job's run.
const (
	// drainFor bounds a run: a subscription with more to send gets a new
	// job each second of new events, and the sweep's.
	drainFor = time.Minute
	// linger is how long past its own second a job still looks for new
	// deliveries before it ends: an event whose transaction inserted its
	// job in that second (so found this one) and committed a moment later
	// is still sent by it.
	linger = time.Second
	// idleWait is the pause between looks while lingering.
	idleWait = 50 * time.Millisecond
)

// Timeout bounds a run above drainFor and a batch's requests.
func (w *worker) Timeout(*river.Job[jobs.WebhookDrain]) time.Duration {
	return drainFor + w.d.lease()
}

// lease is how long a job holds a batch: every request of it, one after
// another on each of Concurrency senders, with room to record them.
func (d *Deliverer) lease() time.Duration { return 3*2*requestTimeout + 10*time.Second }

// Work sends the subscription's due deliveries, a batch at a time, each
// batch's requests concurrently: the deliveries made before the end of
// the job's own second (jobs.WebhookDrain is unique per second: later
// ones have a job of their own) and every retry whose time has come.
// Successes are recorded a batch in one statement; each failure in its
// own transaction with the subscription's failing streak.
func (w *worker) Work(ctx context.Context, job *river.Job[jobs.WebhookDrain]) error {
	d := w.d
	// The job's second, as River's uniqueness counts it.
	cutoff := job.ScheduledAt.UTC().Truncate(time.Second).Add(time.Second)
	began := time.Now()
	for time.Since(began) < drainFor {
		batch, err := d.db.LeaseWebhooks(ctx, job.Args.SubscriptionID, 2*d.opt.Concurrency, cutoff, d.lease())
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			if time.Now().After(cutoff.Add(linger)) {
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(idleWait):
			}
			continue
		}
		// The subscription as it is now, for each batch: an admin's
		// change (disabled, a new URL, a rotation) holds from the next.
		t, err := d.db.WebhookTargetOf(ctx, job.Args.SubscriptionID)
		if errors.Is(err, qwoty.ErrNotFound) {
			return nil // deleted with its deliveries
		}
		if err != nil {
			return err
		}
		if err := d.sendBatch(ctx, t, batch); err != nil {
			return err
		}
	}
	return nil
}

// sendBatch sends a leased batch to t, Concurrency requests at a time,
// and records every attempt.
func (d *Deliverer) sendBatch(ctx context.Context, t *store.WebhookTarget, batch []store.LeasedDelivery) error {
	results := make([]Result, len(batch))
	final := make([]bool, len(batch))
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.opt.Concurrency)
	for i, l := range batch {
		final[i] = l.Tries+1 >= jobs.WebhookMaxAttempts
		switch _, err := d.opt.Policy.CheckScheme(t.URL); {
		case !t.Enabled:
			results[i], final[i] = Result{Err: errors.New("not sent: the subscription is disabled")}, true
			continue
		case err != nil:
			results[i], final[i] = Result{Err: fmt.Errorf("not sent: %w", err)}, true
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = d.Post(ctx, t.URL, l.DeliveryID, l.Body, t.Secrets)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Stopping: the lease runs out and another job sends them again
		// (the receiver deduplicates by webhook-id).
		return nil
	}
	var ok []store.WebhookSuccess
	for i, r := range results {
		switch {
		case r.OK():
			metrics.WebhookAttempt("succeeded")
		case final[i] || errors.Is(r.Err, ErrForbiddenAddress):
			metrics.WebhookAttempt("failed")
		default:
			metrics.WebhookAttempt("retry")
		}
		if r.OK() {
			ok = append(ok, store.WebhookSuccess{DeliveryID: batch[i].DeliveryID, StatusCode: r.StatusCode,
				Response: r.Snippet, DurationMS: int(r.Duration.Milliseconds())})
		}
	}
	wctx := context.WithoutCancel(ctx)
	if err := d.db.RecordWebhookSuccesses(wctx, ok); err != nil {
		return err
	}
	for i, r := range results {
		if r.OK() {
			continue
		}
		// An address refused is the subscription's to fix, not a fault
		// of the moment: no retry (a redelivery, once fixed).
		fin := final[i] || errors.Is(r.Err, ErrForbiddenAddress)
		o := store.WebhookOutcome{Final: fin,
			NextAt:         time.Now().Add(jobs.WebhookBackoff(batch[i].Tries+1, d.opt.BackoffBase, d.opt.BackoffMax)),
			WebhookAttempt: qwoty.WebhookAttempt{StatusCode: r.StatusCode, Response: r.Snippet, DurationMS: int(r.Duration.Milliseconds()), Error: describe(r)}}
		dis, err := d.db.RecordWebhookAttempt(wctx, batch[i].DeliveryID, o)
		if err != nil {
			return err
		}
		if dis != nil {
			d.alert(ctx, dis)
		}
	}
	return nil
}

// sweeper gives a drain job to each subscription with due deliveries that
// no job is sending (jobs.WebhookSweep).
type sweeper struct {
	river.WorkerDefaults[jobs.WebhookSweep]
	d *Deliverer
}

// pruner deletes the delivery log's old entries (jobs.WebhookPrune).
type pruner struct {
	river.WorkerDefaults[jobs.WebhookPrune]
	d *Deliverer
}

func (p *pruner) Work(ctx context.Context, _ *river.Job[jobs.WebhookPrune]) error {
	n, m, err := p.d.db.PruneWebhooks(ctx, store.WebhookRetention)
	if err != nil {
		return err
	}
	if n+m > 0 {
		p.d.opt.Logger.Info("webhook delivery log pruned", "deliveries", n, "events", m)
	}
	return nil
}

// sweepMax bounds the subscriptions one sweep queues; the next sweep
// queues the rest.
const sweepMax = 1000

func (s *sweeper) Work(ctx context.Context, _ *river.Job[jobs.WebhookSweep]) error {
	ids, err := s.d.db.DueWebhookSubscriptions(ctx, sweepMax)
	if err != nil {
		return err
	}
	return s.d.db.QueueWebhookDrains(ctx, ids)
}

// alert tells the workspace's admins that Qwoty disabled a subscription.
// A failure to send is logged: the console shows the subscription
// disabled, with its reason, all the same.
func (d *Deliverer) alert(ctx context.Context, dis *store.WebhookDisabled) {
	log := d.opt.Logger.With("subscription", dis.SubscriptionID, "connection", dis.ConnectionID)
	conn, err := d.db.ConnectionByID(ctx, dis.ConnectionID)
	if err != nil {
		log.Error("webhook disabled: cannot read its connection", "error", err.Error())
		return
	}
	emails, err := d.db.AdminEmails(ctx, dis.WorkspaceID)
	if err != nil {
		log.Error("webhook disabled: cannot read the admins", "error", err.Error())
		return
	}
	link := strings.TrimSuffix(d.opt.AppURL, "/") + "/settings/integrations/" + string(conn.Provider) + "/webhooks"
	a := Alert{WorkspaceID: dis.WorkspaceID, ConnectionID: dis.ConnectionID, Link: link, Emails: emails,
		CRM:     conn.Provider.Title() + " " + conn.ExternalID,
		Subject: "Qwoty disabled a webhook subscription",
		Text: fmt.Sprintf("Every delivery to %s has failed since %s, so Qwoty disabled this webhook subscription of %s %s. "+
			"Nothing more is sent to it.\n\nFix the receiver (the delivery log shows its answers), enable the subscription again, "+
			"then redeliver the failed deliveries: %s\n", hostOf(dis.URL), dis.FailingSince.UTC().Format(time.RFC1123),
			conn.Provider.Title(), conn.ExternalID, link)}
	if d.opt.Alerts == nil {
		log.Warn("webhook subscription disabled (no alert sender configured)", "emails", len(emails))
		return
	}
	if err := d.opt.Alerts.Send(ctx, a); err != nil {
		log.Error("webhook disabled: alert not sent", "error", err.Error())
		return
	}
	log.Info("webhook subscription disabled; admins told", "emails", len(emails))
}

// hostOf is a URL's scheme and host: an alert names the receiver without
// its path or query, which may carry a token of the receiver's.
func hostOf(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		return raw[:i+3] + rest
	}
	return raw
}
