package hubspot_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
)

// An order's line items are made once and end under their order, whatever
// the first attempt lost: the line items' upsert answer, the order's create
// (which carries the associations to the line items) refused or its answer
// lost, or the run itself between the two. The retry is crmsync's: the
// order is looked for (FindOrder) and adopted when found, else pushed
// again; its upsert by qwoty_ref finds the line items made before (the same
// ids) and the order takes them. No line item is made twice, none is left
// under no parent.

const (
	upsertRoute      = "POST /crm/objects/2026-03/line_items/batch/upsert"
	orderCreateRoute = "POST /crm/objects/2026-03/orders"
)

// dyingBudget lets calls through until the first attempt has made live of
// them; the next one finds the run gone (its context cancelled), as when
// the process dies between two calls: nothing more is sent.
type dyingBudget struct {
	crm.Budget
	live   int
	cancel context.CancelFunc
}

func (b *dyingBudget) Take(ctx context.Context, bucket string, cost float64) error {
	if b.live == 0 {
		b.cancel()
		return context.Cause(ctx)
	}
	b.live--
	return b.Budget.Take(ctx, bucket, cost)
}

// manyLines is o with n lines, so that its line items take more than one
// upsert (100 a call).
func manyLines(o crm.OrderPush, n int) crm.OrderPush {
	l := o.Lines[0]
	o.Lines = nil
	for i := range n {
		l.SKU = "S" + strconv.Itoa(i+1)
		o.Lines = append(o.Lines, l)
	}
	o.Total = l.Net.Mul(decimal.NewFromInt(int64(n)))
	return o
}

func TestOrderLinesMadeOnceAfterAFailedAttempt(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines int // 0: orderOf's two
		// fresh: the order is the portal's first (qwoty_ref is made on
		// the way); otherwise another deal's order was pushed before.
		fresh bool
		// fail sets the first attempt up to fail; it returns the budget it
		// pushes with.
		fail func(e *syncEnv, cancel context.CancelFunc) crm.Budget
		// unparented is how many line items the first attempt leaves under
		// no parent.
		unparented int
	}{
		{name: "line items' answer lost", unparented: 2, fail: func(e *syncEnv, _ context.CancelFunc) crm.Budget {
			e.inject(emulator.Fault{Route: upsertRoute, Times: 1, Drop: true})
			return e.budget
		}},
		{name: "second upsert's answer lost", lines: 101, unparented: 101, fail: func(e *syncEnv, _ context.CancelFunc) crm.Budget {
			// Only the second call carries line 101.
			e.inject(emulator.Fault{Route: upsertRoute, Body: `:101"`, Times: 1, Drop: true})
			return e.budget
		}},
		{name: "first upsert's answer lost", lines: 101, unparented: 100, fail: func(e *syncEnv, _ context.CancelFunc) crm.Budget {
			e.inject(emulator.Fault{Route: upsertRoute, Times: 1, Drop: true})
			return e.budget
		}},
		{name: "order's create refused", unparented: 2, fail: func(e *syncEnv, _ context.CancelFunc) crm.Budget {
			// Nothing applied: the line items are made, the order and
			// its associations to them not.
			e.inject(emulator.Fault{Route: orderCreateRoute, Times: 1, Status: 503})
			return e.budget
		}},
		{name: "order's answer lost", unparented: 0, fail: func(e *syncEnv, _ context.CancelFunc) crm.Budget {
			e.inject(emulator.Fault{Route: orderCreateRoute, Times: 1, Drop: true})
			return e.budget
		}},
		{name: "run died before the order", unparented: 2, fail: func(e *syncEnv, cancel context.CancelFunc) crm.Budget {
			// The upsert is answered, then the run is gone.
			return &dyingBudget{Budget: e.budget, live: 1, cancel: cancel}
		}},
		{name: "run died before the order, the portal's first", fresh: true, unparented: 2, fail: func(e *syncEnv, cancel context.CancelFunc) crm.Budget {
			// The upsert refused, qwoty_ref made, the upsert again: three
			// calls answered, then the run is gone.
			return &dyingBudget{Budget: e.budget, live: 3, cancel: cancel}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newSyncEnv(t, hstest.Options{})
			if !c.fresh {
				if _, err := e.pushOrder(orderOf(e.deal(2), "O-00041")); err != nil {
					t.Fatal(err)
				}
			}
			before := e.hs.LineItemsCreated(hstest.DefaultPortalID)
			o := orderOf(e.deal(1), "O-00042")
			if c.lines > 0 {
				o = manyLines(o, c.lines)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			b := c.fail(e, func() { cancel(errors.New("the run died")) })
			_, err := e.a.PushOrder(ctx, hubspotSession(e), b, o)
			if err == nil {
				t.Fatal("the failed attempt succeeded")
			}
			if errors.Is(err, crm.ErrRejected) {
				t.Fatalf("the failed attempt: %v, want a transient error", err)
			}
			cancel(nil)
			if n := e.unparented(o); n != c.unparented {
				t.Fatalf("after the failed attempt %d line items under no parent, want %d", n, c.unparented)
			}
			made := e.hs.LineItemsCreated(hstest.DefaultPortalID) - before
			id := e.retryOrder(o)
			e.onlyOrderLines(o, id)
			if n := e.hs.LineItemsCreated(hstest.DefaultPortalID) - before; n != len(o.Lines) {
				t.Errorf("%d line items made in all (%d by the failed attempt), want %d", n, made, len(o.Lines))
			}
			// A second retry (the first's answer lost in turn) finds the
			// order: still nothing new.
			if again := e.retryOrder(o); again != id {
				t.Errorf("a second retry found %q, want %s", again, id)
			}
			if n := e.hs.LineItemsCreated(hstest.DefaultPortalID) - before; n != len(o.Lines) {
				t.Errorf("after a second retry %d line items made, want %d", n, len(o.Lines))
			}
		})
	}
}

func (e *syncEnv) inject(f emulator.Fault) {
	e.t.Helper()
	if err := e.hs.Inject(f); err != nil {
		e.t.Fatal(err)
	}
}

// retryOrder runs o again as crmsync's order job does after an attempt
// that may have sent it: FindOrder, and the order adopted when found (an
// open order has nothing to be brought to), else pushed.
func (e *syncEnv) retryOrder(o crm.OrderPush) string {
	e.t.Helper()
	found, err := e.findOrder(o)
	if err != nil {
		e.t.Fatalf("FindOrder: %v", err)
	}
	if found != "" {
		return found
	}
	id, err := e.pushOrder(o)
	if err != nil {
		e.t.Fatalf("retry: %v", err)
	}
	return id
}

// orderLinePrefix begins the qwoty_ref of every line of o.
func orderLinePrefix(o crm.OrderPush) string {
	return "qwoty:orderline:" + o.RecordID + ":" + o.Number + ":"
}

// unparented counts the live line items of o's lines under no deal and no
// order.
func (e *syncEnv) unparented(o crm.OrderPush) int {
	n := 0
	for _, li := range e.hs.LiveLineItems(hstest.DefaultPortalID) {
		if strings.HasPrefix(li.Properties[hubspot.RefProperty], orderLinePrefix(o)) && li.DealID == "" && li.OrderID == "" {
			n++
		}
	}
	return n
}

// onlyOrderLines checks that the deal has the one order id, and that every
// live line item of o's (its qwoty_ref) is one of its lines, once, under
// it, in the lines' order.
func (e *syncEnv) onlyOrderLines(o crm.OrderPush, id string) {
	t := e.t
	t.Helper()
	orders := e.hs.Orders(hstest.DefaultPortalID, o.RecordID)
	if len(orders) != 1 || orders[0].ID != id {
		t.Fatalf("the deal's orders %d (first %+v), want one, %s", len(orders), orders, id)
	}
	want := map[string]int{}
	for i := range o.Lines {
		want[orderLinePrefix(o)+strconv.Itoa(i+1)] = i
	}
	seen := map[string]int{}
	for _, li := range e.hs.LiveLineItems(hstest.DefaultPortalID) {
		ref := li.Properties[hubspot.RefProperty]
		if !strings.HasPrefix(ref, orderLinePrefix(o)) {
			continue
		}
		seen[ref]++
		i, ok := want[ref]
		switch {
		case !ok:
			t.Errorf("line item %s (%s) is none of the order's lines", li.ID, ref)
		case li.OrderID != id || li.DealID != "":
			t.Errorf("line item %s (%s) is under order %q, deal %q; want order %s", li.ID, ref, li.OrderID, li.DealID, id)
		case i >= len(orders[0].LineItemIDs) || orders[0].LineItemIDs[i] != li.ID:
			t.Errorf("line item %s (%s) is not the order's line %d", li.ID, ref, i+1)
		}
	}
	for ref := range want {
		if seen[ref] != 1 {
			t.Errorf("%d live line items carry %s, want 1", seen[ref], ref)
		}
	}
	if n := len(orders[0].LineItemIDs); n != len(o.Lines) {
		t.Errorf("the order is associated with %d line items, want %d", n, len(o.Lines))
	}
}

// An order that fails for good once its line items are made (its create
// refused, a line refused, an account without orders) is not sent again:
// the line items that attempt made are archived rather than left under no
// parent.
func TestOrderRefusedLeavesNoLineItem(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines int
		// refuse readies the push to be refused and returns the order.
		refuse func(e *syncEnv, o crm.OrderPush) crm.OrderPush
		// made is how many line items HubSpot made before the refusal.
		made int
	}{
		{name: "currency the account lacks", made: 2, refuse: func(e *syncEnv, o crm.OrderPush) crm.OrderPush {
			o.Currency = "XYZ" // line items take it; the order does not
			return o
		}},
		{name: "account without orders", made: 2, refuse: func(e *syncEnv, o crm.OrderPush) crm.OrderPush {
			// The line items are made before the first orders call.
			e.hs.SetNoOrders(hstest.DefaultPortalID, true)
			return o
		}},
		{name: "a line refused", made: 1, refuse: func(e *syncEnv, o crm.OrderPush) crm.OrderPush {
			o.Lines[1].UnitPrice = decimal.RequireFromString("-100")
			return o
		}},
		{name: "a line of the second upsert refused", lines: 101, made: 100, refuse: func(e *syncEnv, o crm.OrderPush) crm.OrderPush {
			o.Lines[100].UnitPrice = decimal.RequireFromString("-1")
			return o
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newSyncEnv(t, hstest.Options{})
			o := orderOf(e.deal(1), "O-00042")
			if c.lines > 0 {
				o = manyLines(o, c.lines)
			}
			o = c.refuse(e, o)
			if _, err := e.pushOrder(o); !errors.Is(err, crm.ErrRejected) {
				t.Fatalf("push: %v, want rejected", err)
			}
			if n := e.hs.LineItemsCreated(hstest.DefaultPortalID); n != c.made {
				t.Errorf("%d line items made, want %d", n, c.made)
			}
			for _, li := range e.hs.LiveLineItems(hstest.DefaultPortalID) {
				t.Errorf("line item %s (%s) left alive under deal %q, order %q", li.ID, li.Properties[hubspot.RefProperty], li.DealID, li.OrderID)
			}
			if n := e.hs.OrdersCreated(hstest.DefaultPortalID); n != 0 {
				t.Errorf("%d orders made, want none", n)
			}
		})
	}
}

// Only the line items the refused attempt made go: one it found by
// qwoty_ref may be an order's (here an order sent again as if FindOrder had
// not seen it, its create refused since its line items have a parent), and
// stays under it.
func TestOrderRefusedKeepsTheLineItemsItFound(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	o := orderOf(e.deal(1), "O-00042")
	id, err := e.pushOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pushOrder(o); !errors.Is(err, crm.ErrRejected) {
		t.Fatalf("the order created again: %v, want rejected (its line items have a parent)", err)
	}
	e.onlyOrderLines(o, id)
}
