package crmsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// slowArgs is a job that works until told to finish, or until its context
// ends (a shutdown's bound).
type slowArgs struct {
	Name string `json:"name"`
}

func (slowArgs) Kind() string { return "test_slow" }

type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	started chan string
	// finish is how long a job takes; 0 works until its context ends.
	finish time.Duration
}

func (w *slowWorker) Work(ctx context.Context, j *river.Job[slowArgs]) error {
	w.started <- j.Args.Name
	if w.finish == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	select {
	case <-time.After(w.finish):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slowPlugin works test_slow jobs on a queue of its own.
type slowPlugin struct{ w *slowWorker }

func (p slowPlugin) AddWorkers(ws *river.Workers) { river.AddWorker(ws, p.w) }
func (p slowPlugin) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}
}
func (p slowPlugin) PeriodicJobs() []*river.PeriodicJob { return nil }

func startSlow(t *testing.T, db *store.DB, finish time.Duration) (*crmsync.Engine, *slowWorker) {
	t.Helper()
	w := &slowWorker{started: make(chan string, 4), finish: finish}
	opt := crmsynctest.FastOptions()
	opt.Plugins = []crmsync.Plugin{slowPlugin{w}}
	e, err := crmsync.New(db, crm.MustRegistry(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Ready(); err == nil {
		t.Fatal("the workers are ready before they start")
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Ready(); err != nil {
		t.Fatalf("started, the workers are not ready: %v", err)
	}
	return e, w
}

func waitStarted(t *testing.T, w *slowWorker, name string) {
	t.Helper()
	select {
	case got := <-w.started:
		if got != name {
			t.Fatalf("started %s, want %s", got, name)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("job %s never started", name)
	}
}

func jobState(t *testing.T, e *crmsync.Engine, id int64) *rivertype.JobRow {
	t.Helper()
	j, err := e.Client().JobGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A job running at shutdown finishes when it can within the bound; one that
// cannot is cancelled at the bound and handed back (available again, no
// attempt used), and the next instance works it: none is lost. Ready says
// so throughout (/readyz).
func TestShutdownLetsJobsFinishOrHandsThemBack(t *testing.T) {
	db := storetest.New(t)

	// Finishes within the bound.
	e, w := startSlow(t, db, 300*time.Millisecond)
	res, err := e.Client().Insert(ctx, slowArgs{Name: "quick"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStarted(t, w, "quick")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cancelled, err := e.Shutdown(sctx, 5*time.Second)
	cancel()
	if err != nil || cancelled {
		t.Fatalf("shutdown: cancelled %v, %v", cancelled, err)
	}
	if err := e.Ready(); err == nil || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("a stopped engine is ready: %v", err)
	}
	if j := jobState(t, e, res.Job.ID); j.State != rivertype.JobStateCompleted {
		t.Fatalf("the job running at shutdown is %s, want completed", j.State)
	}

	// Outlasts the bound: handed back.
	e, w = startSlow(t, db, 0)
	res, err = e.Client().Insert(ctx, slowArgs{Name: "long"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStarted(t, w, "long")
	began := time.Now()
	sctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	cancelled, err = e.Shutdown(sctx, 500*time.Millisecond)
	cancel()
	if err != nil || !cancelled {
		t.Fatalf("shutdown: cancelled %v, %v", cancelled, err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("the shutdown took %s, over its bound", took)
	}
	j := jobState(t, e, res.Job.ID)
	if j.State != rivertype.JobStateAvailable || j.Attempt != 0 {
		t.Fatalf("the job cut off at shutdown is %s (attempt %d), want available, attempt 0", j.State, j.Attempt)
	}

	// The next instance works it.
	e, w = startSlow(t, db, time.Millisecond)
	waitStarted(t, w, "long")
	deadline := time.Now().Add(10 * time.Second)
	for jobState(t, e, res.Job.ID).State != rivertype.JobStateCompleted {
		if time.Now().After(deadline) {
			t.Fatalf("the handed-back job is %s", jobState(t, e, res.Job.ID).State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.Shutdown(sctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// Counted by kind and outcome.
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "qwoty_jobs_worked_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var kind, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "kind":
					kind = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			if kind == "test_slow" {
				got[outcome] = m.GetCounter().GetValue()
			}
		}
	}
	if got["completed"] != 2 || got["interrupted"] != 1 {
		t.Fatalf("jobs worked by outcome: %v, want 2 completed, 1 interrupted", got)
	}
}
