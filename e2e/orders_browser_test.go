//go:build browser

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// cardShowsOrder is the end of a customer's acceptance seen from the card
// (TestSendQuoteCustomerAccepts): the accepted quote, open in the card
// frame, loads its order panel (number, status, total, lines, when it
// was made), which fits the card at 1280 and at 360 px; the rep marks the
// order fulfilled and the panel says so, with no move left. Screenshots:
// card-order-1280, card-order-360, card-order-fulfilled-360.
func cardShowsOrder(ctx context.Context, t *testing.T, e *env, wantTotal string) {
	t.Helper()
	check := func(width int64) {
		t.Helper()
		if err := waitText(ctx, frame(ctx, t), "#order-number", "O-00001"); err != nil {
			shoot(ctx, t, fmt.Sprintf("failed-card-order-%d", width))
			t.Fatalf("at %d px, the card's order: %v", width, err)
		}
		for sel, want := range map[string]string{"#order-status": "OPEN", "#order-total": wantTotal, "#order-lines": "1 line"} {
			if err := waitText(ctx, frame(ctx, t), sel, want); err != nil {
				shoot(ctx, t, fmt.Sprintf("failed-card-order-%d", width))
				t.Fatalf("at %d px: %v", width, err)
			}
		}
		made, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#order-made"), in(frame(ctx, t))))
		if err != nil || !strings.Contains(made, time.Now().UTC().Format("2006")) || !strings.Contains(made, ":") {
			t.Fatalf("at %d px, the order was made %q (%v)", width, made, err)
		}
		shoot(ctx, t, fmt.Sprintf("card-order-%d", width))
		if bad := mustFrameEval[[]string](ctx, t, overflowJS); len(bad) > 0 {
			t.Fatalf("the card with its order at %d px: %s", width, strings.Join(bad, "; "))
		}
	}
	check(1280)

	// At 360 px, the card opened again on the quote.
	if err := bounded(ctx, chromedp.EmulateViewport(360, 800), chromedp.Navigate(e.hostURL+"/"), chromedp.WaitVisible(chromedp.CSS("#qwoty-frame"))); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the card says ready", func() bool {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.qwoty && window.qwoty.ready`))
		return err == nil && ready
	})
	if err := bounded(ctx, chromedp.WaitVisible(chromedp.CSS("#quote-list"), in(frame(ctx, t))),
		chromedp.Click(chromedp.CSS("#quote-list button.quote"), in(frame(ctx, t)))); err != nil {
		t.Fatal(err)
	}
	check(360)

	// The rep marks it fulfilled.
	if err := bounded(ctx, chromedp.Click(chromedp.CSS("#order-fulfilled"), in(frame(ctx, t)))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, frame(ctx, t), "#order-status", "FULFILLED"); err != nil {
		shoot(ctx, t, "failed-card-order-fulfilled-360")
		t.Fatal(err)
	}
	left := mustFrameEval[bool](ctx, t, `document.getElementById("order-actions") !== null`)
	if left {
		t.Fatal("a fulfilled order still offers moves")
	}
	shoot(ctx, t, "card-order-fulfilled-360")
}

// An admin opens Orders from the top bar, filters by status, opens an
// order, and fulfils another. Screenshots at 1280 px (the list, an order)
// and 360 px (the list, an order).
func TestConsoleOrders(t *testing.T) {
	e := startConsole(t, "orders", nil)
	ctx := context.Background()
	var orders []*qwoty.Order
	for i := range 6 {
		s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: fmt.Sprintf("0065g00000AbCd%04d", i)}
		acct := fmt.Sprintf("001000000000%03dAAA", i%3)
		if err := e.db.UpsertCustomer(ctx, e.conn.WorkspaceID, e.conn.ID, acct, []string{"Globex Corporation", "Initech", "Umbrella GmbH"}[i%3]); err != nil {
			t.Fatal(err)
		}
		q, err := e.db.CreateQuote(ctx, s, store.NewQuote{Currency: "EUR", Title: fmt.Sprintf("Acme – %d licences", 10*(i+1)), AccountID: acct,
			CreatedBy: "005000000000001AAA"})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []qwoty.Status{qwoty.StatusSent, qwoty.StatusAccepted} {
			if _, err := e.db.UpdateQuote(ctx, s, q.ID, 0, "005000000000001AAA", func(q *qwoty.Quote) error {
				if len(q.Lines) == 0 {
					for j, name := range []string{"Annual licence, 10 seats", "Onboarding workshop (2 days, on site)"} {
						if err := q.AddLine(qwoty.LineItem{SKU: fmt.Sprintf("LIC-%d", j), Description: name,
							Quantity: decimal.NewFromInt(int64(10 * (i + 1))), UnitPrice: decimal.RequireFromString("49.90")}); err != nil {
							return err
						}
					}
					q.Reprice()
				}
				return q.Transition(st)
			}); err != nil {
				t.Fatal(err)
			}
		}
		o, err := e.db.QuoteOrder(ctx, s, q.ID)
		if err != nil || o == nil {
			t.Fatalf("order of %s: %v %v", q.Number, o, err)
		}
		orders = append(orders, o)
	}
	if _, err := e.db.SetOrderStatus(ctx, e.conn.WorkspaceID, e.conn.ID, orders[1].ID, 0, qwoty.OrderCancelled, "ada@acme.example"); err != nil {
		t.Fatal(err)
	}
	e.step("open orders",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`a[href="/orders"]`)),
		chromedp.WaitVisible(chromedp.CSS("#orders")),
	)
	screenshot(e.b, e.t, "console-orders-1280")
	o := orders[4]
	e.step("filter and open",
		chromedp.SetValue(chromedp.CSS("#status"), "open"),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitNotPresent(chromedp.CSS("#order-"+orders[1].ID)),
		chromedp.Click(chromedp.CSS("#order-"+o.ID+" a")),
		chromedp.WaitVisible(chromedp.CSS("#order-facts")),
	)
	screenshot(e.b, e.t, "console-order-1280")
	e.step("fulfil",
		chromedp.Click(chromedp.CSS("#order-fulfilled")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
		chromedp.WaitVisible(chromedp.CSS(`#history tr[data-action="order.status_changed"]`)),
	)
	got, err := e.db.ConnectionOrder(ctx, e.conn.WorkspaceID, e.conn.ID, o.ID)
	if err != nil || got.Status != qwoty.OrderFulfilled {
		t.Fatalf("after Mark as fulfilled: %+v %v", got, err)
	}
	screenshot(e.b, e.t, "console-order-fulfilled-1280")
	e.step("at 360 px",
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(e.appURL+"/orders"),
		chromedp.WaitVisible(chromedp.CSS("#orders")),
	)
	screenshot(e.b, e.t, "console-orders-360")
	e.step("an order at 360 px", chromedp.Navigate(e.appURL+"/orders/"+orders[5].ID), chromedp.WaitVisible(chromedp.CSS("#order-actions")))
	screenshot(e.b, e.t, "console-order-360")
	overflow, err := chromedp.Run(e.b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Fatalf("the order page scrolls sideways at 360 px: %v", err)
	}
}
