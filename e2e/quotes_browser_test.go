//go:build browser

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// An admin opens Quotes from the top bar, filters by a search, and opens
// one quote; then lists the quotes without a CRM deal (made for a customer
// through the API: none yet, being made, failed) and retries the failed
// one. Screenshots at 1280 px: the list, the quote, the list without a
// CRM deal, and the quote whose deal is being made again.
func TestConsoleQuotes(t *testing.T) {
	e := startConsole(t, "quotes", nil)
	ctx := context.Background()
	var last string
	for i := range 12 {
		q, err := e.db.CreateQuote(ctx, store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID, RecordID: fmt.Sprintf("0065g00000AbCd%04d", i)},
			store.NewQuote{Currency: "EUR", Title: fmt.Sprintf("Acme – %d licences", 10*(i+1)), CreatedBy: "005000000000001AAA"})
		if err != nil {
			t.Fatal(err)
		}
		last = q.ID
	}
	// Quotes without a record (docs/deals.md), in each state of their
	// deal. No sync engine runs here: the states stay as made.
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	s := store.Scope{WorkspaceID: e.conn.WorkspaceID, ConnectionID: e.conn.ID}
	ref := "erp:customer:7"
	name := "Globex"
	cu, _, err := e.db.UpsertAPICustomer(ctx, s, store.CustomerInput{Name: &name, ExternalRef: &ref})
	if err != nil {
		t.Fatal(err)
	}
	var failed string
	for i, state := range []string{"none", "making", "failed"} {
		q, err := e.db.CreateQuote(ctx, s, store.NewQuote{CustomerID: cu.ID, Currency: "EUR", Title: fmt.Sprintf("Globex – web order %d", i+1),
			CreatedBy: "api-key:ERP"})
		if err != nil {
			t.Fatal(err)
		}
		if state == "none" {
			continue
		}
		if _, err := e.db.UpdateQuote(ctx, s, q.ID, 0, "api-key:ERP", func(q *qwoty.Quote) error {
			if err := q.AddLine(qwoty.LineItem{SKU: "LIC", Description: "Licence", Quantity: decimal.NewFromInt(5), UnitPrice: decimal.NewFromInt(90)}); err != nil {
				return err
			}
			q.Reprice()
			return q.Transition(qwoty.StatusSent)
		}); err != nil {
			t.Fatal(err)
		}
		if state == "failed" {
			failed = q.ID
			d, err := e.db.DealCreationOf(ctx, e.conn.ID, q.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.db.ClaimDealCreation(ctx, d, time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := e.db.RecordDeal(ctx, d, store.WriteResult{State: store.DealFailed, Code: qwoty.CodeSyncRejected,
				Message: "Required fields are missing: [Industry]"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.step("open quotes",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`a[href="/quotes"]`)),
		chromedp.WaitVisible(chromedp.CSS("#quotes")),
	)
	screenshot(e.b, e.t, "console-quotes-1280")
	e.step("search",
		chromedp.SetValue(chromedp.CSS("#q"), "120 licences"),
		chromedp.Click(chromedp.CSS("#filter")),
		// The filtered page (Clear shows only there): the unfiltered one
		// has the same rows, and a click on it while the filtered page
		// loads is lost.
		chromedp.WaitVisible(chromedp.CSS("#clear-filter")),
		chromedp.WaitVisible(chromedp.CSS("#quote-"+last)),
		chromedp.Click(chromedp.CSS("#quote-"+last+" a")),
		chromedp.WaitVisible(chromedp.CSS("#quote-facts")),
	)
	screenshot(e.b, e.t, "console-quote-1280")
	e.step("without a CRM deal",
		chromedp.Navigate(e.appURL+"/quotes"),
		chromedp.Click(chromedp.CSS("#without_deal")),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#clear-filter")),
		chromedp.WaitVisible(chromedp.CSS("#retry-deal-"+failed)),
	)
	screenshot(e.b, e.t, "console-quotes-without-deal-1280")
	e.step("retry the failed deal",
		chromedp.Click(chromedp.CSS("#retry-deal-"+failed)),
		chromedp.WaitVisible(chromedp.CSS(`#deal-`+failed+`[data-deal="making"]`)),
	)
	screenshot(e.b, e.t, "console-quote-deal-retried-1280")
}

// An admin makes a quote for a new customer from the console: the form
// (at 1280 and 360 px), the quote made, its send form; sent, the quote
// waits for its deal. No sync engine runs here: the deal stays "being
// made".
func TestConsoleQuoteForCustomer(t *testing.T) {
	e := startConsole(t, "quote-for-customer", nil)
	e.db.SetDealMaking(func(qwoty.Provider) bool { return true })
	row := func(n int, field string) string { return fmt.Sprintf(`#line-row-%d input[name="%s"]`, n, field) }
	e.step("new quote",
		chromedp.Navigate(e.appURL+"/quotes"),
		chromedp.Click(chromedp.CSS("#new-quote")),
		chromedp.WaitVisible(chromedp.CSS("#quote-form")),
		chromedp.SendKeys(chromedp.CSS("#new_name"), "Initech"),
		chromedp.SendKeys(chromedp.CSS("#new_email"), "buyer@initech.example"),
		chromedp.SendKeys(chromedp.CSS("#new_domain"), "initech.example"),
		chromedp.SetValue(chromedp.CSS("#currency"), "EUR"),
		chromedp.SendKeys(chromedp.CSS(row(1, "sku")), "LIC-ENT"),
		chromedp.SendKeys(chromedp.CSS(row(1, "description")), "Enterprise licence, 12 months"),
		chromedp.SendKeys(chromedp.CSS(row(1, "quantity")), "25"),
		chromedp.SendKeys(chromedp.CSS(row(1, "unit_price")), "89.90"),
		chromedp.SendKeys(chromedp.CSS(row(1, "discount")), "10"),
		chromedp.SendKeys(chromedp.CSS(row(2, "description")), "Onboarding workshop"),
		chromedp.SendKeys(chromedp.CSS(row(2, "unit_price")), "1200"),
	)
	screenshot(e.b, e.t, "console-quote-new-1280")
	e.step("new quote at 360 px", chromedp.EmulateViewport(360, 800), chromedp.WaitVisible(chromedp.CSS("#quote-form")))
	screenshot(e.b, e.t, "console-quote-new-360")
	e.step("make it",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.CSS("#quote-save")),
		chromedp.WaitVisible(chromedp.CSS("#quote-actions")),
	)
	screenshot(e.b, e.t, "console-quote-made-1280")
	total, err := chromedp.Run(e.b, chromedp.Text(chromedp.CSS("#total")))
	if err != nil {
		t.Fatal(err)
	}
	e.step("send it",
		chromedp.Click(chromedp.CSS("#quote-send")),
		chromedp.WaitVisible(chromedp.CSS("#send-form")),
	)
	screenshot(e.b, e.t, "console-quote-send-1280")
	// 25 × 89.90 less 10 % = 2,022.75, and 1,200.
	if total != "EUR\u00a03,222.75" {
		t.Fatalf("the quote's total shows %q, want EUR 3,222.75", total)
	}
	e.step("sent",
		chromedp.Click(chromedp.CSS("#send-submit")),
		chromedp.WaitVisible(chromedp.CSS(`span[data-deal="making"]`)),
	)
	screenshot(e.b, e.t, "console-quote-sent-1280")
}
