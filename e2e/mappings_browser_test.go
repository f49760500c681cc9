//go:build browser

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/store"
)

// An admin opens Field mappings from Integrations, sees the standard
// mappings preset at connect, and adds a custom one picked from the org's
// real fields (the Salesforce describe: the emulator's custom Quote Number
// field); a type that cannot carry the value is refused with the reason.
// Then a conflict waits under Conflicts, with both values, and the admin
// keeps the CRM's. Screenshots at 1280 px: both pages.
func TestConsoleMappingsAndConflicts(t *testing.T) {
	e := startConsole(t, "mappings", nil)
	e.step("open the mappings",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS("#mappings-salesforce")),
		chromedp.Click(chromedp.CSS("#mappings-salesforce")),
		chromedp.WaitVisible(chromedp.CSS(`#mappings tr[data-mapping="quote.total=Amount"]`)),
		chromedp.WaitReady(chromedp.CSS(`#crm_field option[value="deal:Quote_Number__c"]`)),
	)
	e.step("a type mismatch",
		chromedp.SetValue(chromedp.CSS("#qwoty_field"), "quote.total"),
		chromedp.SetValue(chromedp.CSS("#crm_field"), "deal:Quote_Number__c"),
		chromedp.Click(chromedp.CSS("#save-mapping")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	msg, err := chromedp.Run(e.b, chromedp.Text(chromedp.CSS("#error")))
	if err != nil || !strings.Contains(msg, "cannot be written into Quote_Number__c") {
		t.Fatalf("the refusal reads %q (%v)", msg, err)
	}
	e.step("add the custom mapping",
		chromedp.SetValue(chromedp.CSS("#qwoty_field"), "quote.number"),
		chromedp.SetValue(chromedp.CSS("#crm_field"), "deal:Quote_Number__c"),
		chromedp.SetValue(chromedp.CSS("#direction"), "push"),
		chromedp.SetValue(chromedp.CSS("#policy"), "qwoty_wins"),
		chromedp.Click(chromedp.CSS("#save-mapping")),
		chromedp.WaitVisible(chromedp.CSS(`#mappings tr[data-mapping="quote.number=Quote_Number__c"]`)),
	)
	screenshot(e.b, e.t, "console-mappings-1280")

	ctx := context.Background()
	id, err := e.db.OpenConflict(ctx, e.conn.WorkspaceID, e.conn.ID, store.Conflict{Object: "customer", CRMID: "0015g00000Acc01AAA",
		Field: "Customer email", QwotyValue: "ap@acme.example", CRMValue: "billing@acme.example", Reason: "both sides changed since the last sync"})
	if err != nil {
		t.Fatal(err)
	}
	e.step("the conflict",
		chromedp.Navigate(e.appURL+"/settings/integrations"),
		chromedp.WaitVisible(chromedp.CSS("#conflicts-salesforce")),
		chromedp.Click(chromedp.CSS("#conflicts-salesforce")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-conflict="`+id+`"]`)),
	)
	screenshot(e.b, e.t, "console-conflicts-1280")
	e.step("keep the CRM's value",
		chromedp.Click(chromedp.CSS("#keep-crm-"+id)),
		chromedp.WaitVisible(chromedp.CSS("#no-conflicts")),
	)
	if open, err := e.db.Conflicts(ctx, e.conn.WorkspaceID, e.conn.ID, false, 10); err != nil || len(open) != 1 || open[0].Chosen != "crm" {
		t.Fatalf("resolved conflicts: %+v, %v", open, err)
	}
}
