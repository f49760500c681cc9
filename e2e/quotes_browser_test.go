//go:build browser

package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/store"
)

// An admin opens Quotes from the top bar, filters by a search, and opens
// one quote. Screenshots at 1280 px: the list and the quote.
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
	e.step("open quotes",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.Click(chromedp.CSS(`a[href="/quotes"]`)),
		chromedp.WaitVisible(chromedp.CSS("#quotes")),
	)
	screenshot(e.b, e.t, "console-quotes-1280")
	e.step("search",
		chromedp.SetValue(chromedp.CSS("#q"), "120 licences"),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#quote-"+last)),
		chromedp.Click(chromedp.CSS("#quote-"+last+" a")),
		chromedp.WaitVisible(chromedp.CSS("#quote-facts")),
	)
	screenshot(e.b, e.t, "console-quote-1280")
}
