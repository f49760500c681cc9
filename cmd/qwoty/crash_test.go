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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qwoty/companion/crm"
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
// Orders too (issue 18): the connection sends them (the trigger "order"),
// a share of the quotes is accepted and some of their orders fulfilled or
// cancelled while the instances die, and the emulator drops the answer of
// some order creates after committing them. At the end each accepted quote
// has one order in Qwoty, each pushed, and the CRM holds each order once,
// at its status (a Pipedrive deal holds one order, the last written).
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
	// Orders go out: the trigger on, and, in this process, which writes
	// quotes as the card and the API do, the store told that this CRM
	// takes orders (a serving instance's engine tells it its own).
	w.SendOrders()
	db.SetOrderSyncing(func(p qwoty.Provider) bool {
		_, ok := c.Adapter.(crm.OrderSyncer)
		return ok && p == c.Adapter.Info().Provider
	})
	if c.PrepareOrders != nil {
		for _, rec := range c.Records {
			c.PrepareOrders(rec)
		}
	}
	// A short lease, so that a killed instance's records go on soon; not
	// shorter than a HubSpot push takes on a loaded machine (a run ends a
	// quarter of its lease early: at 3 s, pushes of several deals ran out
	// of time and backed off past the end of the test).
	env := append(os.Environ(), "QWOTY_ENV=development", "PLAYGROUND_PORT=0", "DEV_MAIL_PORT=0", "METRICS_ADDR=127.0.0.1:0", "LOG_LEVEL=error",
		"DATABASE_URL="+dbURL, "QWOTY_SECRET_KEY="+crashKey, "APP_URL="+appURL, "SYNC_LEASE=5s")
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
		if c.DropOrder != nil && rng.IntN(3) == 0 {
			c.DropOrder()
		}
		ch := children[rng.IntN(len(children))]
		ch.kill()
		kills++
		ch.start(t)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills, %d quotes, %d operations, %d quotes accepted, %d order status changes", kills, work.quotes, work.ops,
		len(work.accepted), work.orderMoves)

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
	verifyOrders(t, dbURL, w, c, work, children)
}

// verifyOrders waits until every order's push is done and checks that each
// accepted quote has one order in Qwoty and that the CRM holds each order
// once, at its status.
func verifyOrders(t *testing.T, dbURL string, w *crmsynctest.World, c *crmsynctest.CRM, work *workload, children []*child) {
	t.Helper()
	ctx := context.Background()
	type mine struct {
		order *qwoty.Order
		push  *store.OrderPush
	}
	var byRecord map[string][]mine
	deadline := time.Now().Add(3 * time.Minute)
	for {
		byRecord = map[string][]mine{}
		var waiting, said, failed []string
		for _, rec := range c.Records {
			orders, err := w.DB.RecordOrders(ctx, w.Scope(rec))
			if err != nil {
				t.Fatal(err)
			}
			for i := range orders {
				o, err := w.DB.ConnectionOrder(ctx, w.Admin.WorkspaceID, w.Conn.ID, orders[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				m := mine{order: o}
				if o.Origin == qwoty.OrderFromQuote {
					if m.push, err = w.DB.OrderPushOf(ctx, w.Conn.ID, o.ID); err != nil {
						t.Fatalf("order %s: %v", o.Number, err)
					}
					switch {
					case m.push.State == store.OrderPushFailed:
						failed = append(failed, fmt.Sprintf("order %s: %s %s", o.Number, m.push.Code, m.push.Error))
					case m.push.State != store.OrderPushDone || m.push.PushedStatus != o.Status:
						waiting = append(waiting, o.ID)
						said = append(said, fmt.Sprintf("order %s (%s): push %+v", o.Number, o.Status, *m.push))
					}
				}
				byRecord[rec] = append(byRecord[rec], m)
			}
		}
		if len(failed) > 0 {
			t.Fatalf("order pushes failed: %v", failed)
		}
		if len(waiting) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, line := range said[:min(len(said), 10)] {
				t.Log(line)
			}
			logOrderJobs(t, dbURL, waiting[:min(len(waiting), 10)])
			for _, e := range w.OrderLog() {
				t.Logf("order log: %s %s %s %s %s", e.RecordID, e.Outcome, e.Code, e.Message, e.Written)
			}
			for i, ch := range children {
				t.Logf("instance %d said:\n%s", i, tail(ch.output(), 3000))
			}
			t.Fatalf("%d orders not pushed after 3 minutes", len(waiting))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// One order in Qwoty per accepted quote, and none pulled back from the
	// CRM as if it were the CRM's.
	perQuote := map[string]int{}
	orders := 0
	for _, ms := range byRecord {
		for _, m := range ms {
			o := m.order
			orders++
			switch {
			case o.Origin != qwoty.OrderFromQuote:
				t.Errorf("%s: order %s (CRM id %s) came from the CRM: Qwoty's own order pulled back?", o.CRMRecordID, o.Number, o.CRMOrderID)
			case work.accepted[o.QuoteID] == "":
				t.Errorf("%s: order %s is of quote %s, which was never accepted", o.CRMRecordID, o.Number, o.QuoteNumber)
			}
			perQuote[o.QuoteID]++
		}
	}
	for id, rec := range work.accepted {
		if n := perQuote[id]; n != 1 {
			t.Errorf("%s: accepted quote %s has %d orders in Qwoty, want 1", rec, id, n)
		}
	}

	// Each order once in the CRM, at its status, where the push says.
	adopted := 0
	for _, e := range w.OrderLog() {
		if strings.Contains(string(e.Written), `"adopted"`) {
			adopted++
		}
	}
	t.Logf("%d orders in Qwoty, %d adopted after a lost answer", orders, adopted)
	for _, rec := range c.Records {
		// Qwoty's own orders (an order of the CRM's is an error above).
		ms := slices.DeleteFunc(slices.Clone(byRecord[rec]), func(m mine) bool { return m.push == nil })
		theirs := c.Orders(rec)
		if c.OneOrder {
			// The record's one order is the last of its orders written.
			switch {
			case len(ms) == 0 && len(theirs) > 0:
				t.Errorf("%s: the CRM holds order %+v, Qwoty none", rec, theirs)
			case len(ms) == 0:
			case len(theirs) != 1:
				t.Errorf("%s: the CRM holds %d orders, want 1 (the last of %d written)", rec, len(theirs), len(ms))
			default:
				got := theirs[0]
				i := slices.IndexFunc(ms, func(m mine) bool { return m.order.Number == got.Number })
				switch {
				case i < 0:
					t.Errorf("%s: the CRM holds order %q, none of Qwoty's", rec, got.Number)
				case got.Says != ms[i].order.Status || got.ID != ms[i].push.CRMOrderID:
					t.Errorf("%s: the CRM holds order %s as %s (%s), Qwoty %s (pushed as %s)", rec, got.Number, got.Says, got.ID,
						ms[i].order.Status, ms[i].push.CRMOrderID)
				}
			}
			continue
		}
		held := map[string][]crmsynctest.CRMOrder{}
		for _, o := range theirs {
			held[o.Number] = append(held[o.Number], o)
		}
		for _, m := range ms {
			o, got := m.order, held[m.order.Number]
			delete(held, o.Number)
			if len(got) != 1 {
				t.Errorf("%s: the CRM holds order %s %d times, want once", rec, o.Number, len(got))
				continue
			}
			if g := got[0]; g.ID != m.push.CRMOrderID || g.Says != o.Status || !g.Total.Equal(o.Totals.Total) || g.Lines < len(o.Lines) {
				t.Errorf("%s: the CRM's order %s is %s (%s), %s, %d lines; Qwoty's %s, pushed as %s, %s, %d lines", rec, o.Number,
					g.Says, g.Status, g.Total, g.Lines, o.Status, m.push.CRMOrderID, o.Totals.Total, len(o.Lines))
			}
		}
		for number, got := range held {
			t.Errorf("%s: the CRM holds %d orders numbered %q, which Qwoty does not have", rec, len(got), number)
		}
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
	// accepted are the quotes accepted (id: record), in order of
	// acceptance in acceptedIDs; orderMoves counts the orders fulfilled or
	// cancelled.
	accepted    map[string]string
	acceptedIDs []string
	orderMoves  int
}

func newWorkload(w *crmsynctest.World, records []string, currency string, rng *rand.Rand) *workload {
	return &workload{w: w, records: records, currency: currency, rng: rng, accepted: map[string]string{}}
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
	switch op := k.rng.IntN(12); {
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
	case op == 10:
		// The customer accepts (sent first, when it is a draft).
		if q.Status == qwoty.StatusDraft {
			if q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u1", func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) }); err != nil {
				return err
			}
			k.live[i] = q
		}
		if q.Status.CanMoveTo(qwoty.StatusAccepted) {
			q, err = db.UpdateQuote(ctx, s, q.ID, 0, "u1", func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusAccepted) })
		}
	case op == 11:
		return k.moveOrder()
	case q.Status == qwoty.StatusAccepted:
		// An accepted quote is kept: deleted before its record's first
		// push, its order could go out before any of its products reached
		// the CRM, and Salesforce refuses an order without them (for good,
		// in the CRM's words), which is not what this test is about.
		return nil
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
	if q.Status == qwoty.StatusAccepted && k.accepted[q.ID] == "" {
		k.accepted[q.ID] = q.CRMRecordID
		k.acceptedIDs = append(k.acceptedIDs, q.ID)
	}
	return nil
}

// moveOrder fulfils or cancels the order of an accepted quote, when it is
// still open.
func (k *workload) moveOrder() error {
	if len(k.acceptedIDs) == 0 {
		return nil
	}
	ctx := context.Background()
	id := k.acceptedIDs[k.rng.IntN(len(k.acceptedIDs))]
	o, err := k.w.DB.QuoteOrder(ctx, k.w.Scope(k.accepted[id]), id)
	if err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("accepted quote %s has no order", id)
	}
	if o.Status != qwoty.OrderOpen {
		return nil
	}
	to := []qwoty.OrderStatus{qwoty.OrderFulfilled, qwoty.OrderCancelled}[k.rng.IntN(2)]
	if _, err := k.w.DB.SetOrderStatus(ctx, k.w.Admin.WorkspaceID, k.w.Conn.ID, o.ID, 0, to, "u1"); err != nil {
		return fmt.Errorf("order %s to %s: %w", o.Number, to, err)
	}
	k.orderMoves++
	return nil
}

// logOrderJobs logs the River jobs of orders ids: where each order's push
// job stands when the push did not end.
func logOrderJobs(t *testing.T, dbURL string, ids []string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Logf("order jobs: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT args->>'order_id', state, attempt, max_attempts, scheduled_at, coalesce(metadata->>'snoozes', ''),
			coalesce(errors[array_length(errors, 1)]::text, '')
		FROM river_job WHERE kind = 'order_push' AND args->>'order_id' = ANY($1) ORDER BY id`, ids)
	if err != nil {
		t.Logf("order jobs: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id, state, snoozes, lastErr string
		var attempt, maxAttempts int
		var at time.Time
		if err := rows.Scan(&id, &state, &attempt, &maxAttempts, &at, &snoozes, &lastErr); err != nil {
			t.Logf("order jobs: %v", err)
			return
		}
		t.Logf("job of order %s: %s, attempt %d of %d, scheduled %s, %s snoozes, last error %s", id, state, attempt, maxAttempts,
			at.Format(time.TimeOnly), snoozes, tail(lastErr, 300))
	}
}
