package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// The crash test: `qwoty serve`, as a child process, pushes several hundred
// quotes to each CRM's emulator while it is killed with SIGKILL at random
// points, at least 20 times, and restarted; the emulator meanwhile drops
// some answers after committing the write (the crash "after the CRM
// committed, before we recorded it", without waiting for a lucky kill). Two
// instances work the same connection throughout. At the end every record is
// synced and each emulator holds exactly one record per quote and line
// Qwoty owns, with the latest values.
//
// It runs with QWOTY_CRASH_TEST=1 (make test-crash, part of make test).

const (
	crashKills   = 20
	crashRecords = 60
	crashQuotes  = 300
)

// crashKey is the children's and the test's master key (storetest.Keys).
var crashKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func TestCrashRecovery(t *testing.T) {
	if os.Getenv("QWOTY_CRASH_TEST") == "" {
		t.Skip("the crash test runs with QWOTY_CRASH_TEST=1 (make test-crash)")
	}
	bin := filepath.Join(t.TempDir(), "qwoty")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build qwoty: %v", err)
	}
	if len(crmsynctest.CRMs) == 0 {
		t.Fatal("no CRM is under the crash test")
	}
	for name, newCRM := range crmsynctest.CRMs {
		t.Run(name, func(t *testing.T) { runCrash(t, bin, newCRM) })
	}
}

func runCrash(t *testing.T, bin string, newCRM func(testing.TB, crmsynctest.Options) *crmsynctest.CRM) {
	dbURL := storetest.NewDatabase(t)
	db := storetest.Open(t, dbURL, store.Options{})
	port := freePort(t)
	appURL := "http://127.0.0.1:" + strconv.Itoa(port)
	c := newCRM(t, crmsynctest.Options{AppURL: appURL, Records: crashRecords, Unlimited: true})
	w := crmsynctest.NewOn(t, db, c.Adapter, c.Redirect, crmsync.Options{Workers: -1})
	if c.Prepare != nil {
		c.Prepare(db, w.Conn.ID)
	}
	env := append(os.Environ(), "QWOTY_ENV=development", "PLAYGROUND_PORT=0", "DEV_MAIL_PORT=0", "METRICS_ADDR=127.0.0.1:0", "LOG_LEVEL=error",
		"DATABASE_URL="+dbURL, "QWOTY_SECRET_KEY="+crashKey, "APP_URL="+appURL, "SYNC_LEASE=3s")
	env = append(env, c.Env...)

	// Two instances, each killed and restarted at random.
	children := []*child{{bin: bin, env: append(slices.Clone(env), "PORT="+strconv.Itoa(port))},
		{bin: bin, env: append(slices.Clone(env), "PORT="+strconv.Itoa(freePort(t)))}}
	for _, ch := range children {
		ch.start(t)
	}
	t.Cleanup(func() {
		for _, ch := range children {
			ch.kill()
		}
	})

	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	work := newWorkload(w, c.Records, c.Currency, rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano()))))
	done := make(chan error, 1)
	go func() { done <- work.run(crashQuotes) }()

	kills := 0
	for kills < crashKills {
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		if rng.IntN(3) == 0 {
			c.Drop()
		}
		ch := children[rng.IntN(len(children))]
		ch.kill()
		kills++
		ch.start(t)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills, %d quotes, %d operations", kills, work.quotes, work.ops)

	// Everything ends synced, whatever the kills did.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		h, err := db.SyncHealthOf(context.Background(), w.Admin.WorkspaceID, w.Conn.ID)
		if err == nil && h.Pending == 0 && h.InFlight == 0 && h.Failed == 0 {
			break
		}
		if time.Now().After(deadline) || err == nil && h.Failed > 0 {
			t.Logf("health: %+v, %v", h, err)
			log, _ := db.SyncLog(context.Background(), w.Admin.WorkspaceID, w.Conn.ID, store.SyncLogFilter{Limit: 10})
			for _, e := range log {
				t.Logf("log: %s %s %s %s", e.RecordID, e.Outcome, e.Code, e.Message)
			}
			for i, ch := range children {
				t.Logf("instance %d said:\n%s", i, tail(ch.output(), 3000))
			}
			t.Fatal("not every record was synced")
		}
		time.Sleep(200 * time.Millisecond)
	}
	snaps, err := db.SyncSnapshots(context.Background(), w.Conn.ID, c.Records)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Verify(snaps) {
		t.Error(d)
	}
}

// child is one `qwoty serve` process.
type child struct {
	bin string
	env []string
	mu  sync.Mutex
	cmd *exec.Cmd
	out bytes.Buffer
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (c *child) start(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = &c.out, &c.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qwoty serve: %v", err)
	}
	c.cmd = cmd
}

// kill kills the process with SIGKILL: no shutdown, no lease given back.
func (c *child) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
	c.cmd = nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// workload edits quotes as reps do, at random: new quotes with lines,
// lines added and removed, status changes, primary switches, deletions.
type workload struct {
	w        *crmsynctest.World
	records  []string
	currency string
	rng      *rand.Rand
	live     []*qwoty.Quote
	quotes   int
	ops      int
}

func newWorkload(w *crmsynctest.World, records []string, currency string, rng *rand.Rand) *workload {
	return &workload{w: w, records: records, currency: currency, rng: rng}
}

func (k *workload) run(quotes int) error {
	for k.quotes < quotes {
		if err := k.step(); err != nil {
			return err
		}
		k.ops++
	}
	// Some more edits of what exists, so the last writes are not creates.
	for range quotes / 2 {
		if err := k.step(); err != nil {
			return err
		}
		k.ops++
	}
	return nil
}

var skus = []string{"SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F"}

func (k *workload) line() crmsynctest.Line {
	return crmsynctest.Line{SKU: skus[k.rng.IntN(len(skus))], Quantity: int64(1 + k.rng.IntN(9)),
		Price: strconv.Itoa(10+k.rng.IntN(990)) + ".50", Description: "Item "}
}

func (k *workload) step() error {
	ctx := context.Background()
	db := k.w.DB
	if k.quotes < crashQuotes && (len(k.live) == 0 || k.rng.IntN(3) == 0) {
		rec := k.records[k.rng.IntN(len(k.records))]
		q, err := db.CreateQuote(ctx, k.w.Scope(rec), store.NewQuote{Title: "Crash " + rec, Currency: k.currency, CreatedBy: "u1"})
		if err != nil {
			return err
		}
		k.quotes++
		n := 1 + k.rng.IntN(5)
		q, err = db.UpdateQuote(ctx, k.w.Scope(rec), q.ID, 0, "u1", func(q *qwoty.Quote) error {
			for range n {
				if err := q.AddLine(k.line().Item()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		k.live = append(k.live, q)
		return nil
	}
	i := k.rng.IntN(len(k.live))
	q := k.live[i]
	s := k.w.Scope(q.CRMRecordID)
	var err error
	switch op := k.rng.IntN(10); {
	case op < 3 && q.Status == qwoty.StatusDraft:
		q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u1", func(q *qwoty.Quote) error { return q.AddLine(k.line().Item()) })
	case op < 5 && q.Status == qwoty.StatusDraft && len(q.Lines) > 1:
		q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u1", func(q *qwoty.Quote) error {
			return q.RemoveLine(q.Lines[k.rng.IntN(len(q.Lines))].ID)
		})
	case op < 7:
		next := q.Status.Next()
		if len(next) == 0 {
			return nil
		}
		to := next[k.rng.IntN(len(next))]
		q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u1", func(q *qwoty.Quote) error { return q.Transition(to) })
	case op < 9:
		q, err = db.SetPrimary(ctx, s, q.ID, "u1")
	default:
		if err := db.DeleteQuote(ctx, s, q.ID, 0, "u1"); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		k.live = append(k.live[:i], k.live[i+1:]...)
		return nil
	}
	if err != nil {
		return err
	}
	k.live[i] = q
	return nil
}
