//go:build browser

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// sentMail keeps the invitations the server sends.
type sentMail struct {
	mu   sync.Mutex
	sent []notify.Invitation
}

func (m *sentMail) SendInvitation(_ context.Context, inv notify.Invitation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, inv)
	return nil
}

// An admin filters the sync log to one object's failures and retries them
// (the filter's bulk Retry, and one row's), then invites a member, who
// opens the email's link, chooses a password and is signed in. Screenshots
// at 1280 px: the filtered log, Users with the pending invitation, the
// invitation's page.
func TestConsoleSyncLogFilterRetryAndInvite(t *testing.T) {
	mail := &sentMail{}
	e := startConsole(t, "team", mail)
	db, conn, appURL, b, step := e.db, e.conn, e.appURL, e.b, e.step
	// Twelve opportunities pushed; then four fail: three refused on the
	// Opportunity, one on a line item.
	syncAtOnce(t, db, conn)
	quote := func(i int, title string) {
		s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: fmt.Sprintf("0065g00000Opp%03dAA", i)}
		if _, err := db.CreateQuote(context.Background(), s, store.NewQuote{Currency: "USD", Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		quote(i, "Renewal")
	}
	pushAs(t, db, conn, store.SyncResult{Outcome: store.SyncedOutcome, CRMObject: "Opportunity", Calls: 2})
	for i := range 3 {
		quote(i, "Upsell")
	}
	pushAs(t, db, conn, store.SyncResult{Outcome: store.FailedOutcome, CRMObject: "Opportunity", Code: qwoty.CodeSyncRejected, Message: rejected, Calls: 1})
	quote(5, "Upsell")
	pushAs(t, db, conn, store.SyncResult{Outcome: store.FailedOutcome, CRMObject: "OpportunityLineItem", Code: qwoty.CodeSyncRejected,
		Message: "=FIELD_INTEGRITY_EXCEPTION: the price book entry is inactive", Calls: 1})

	step("filter Opportunity failures",
		chromedp.Navigate(appURL+"/settings/integrations/salesforce/sync-log"),
		chromedp.WaitVisible(chromedp.CSS("#sync-log")),
		chromedp.SetValue(chromedp.CSS("#outcome"), "failed"),
		chromedp.SendKeys(chromedp.CSS("#object"), "Opportunity"),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#clear-filter")),
	)
	rows, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll("#sync-log tbody tr").length`))
	if err != nil || rows != 3 {
		t.Fatalf("%d entries for failed Opportunity (%v), want 3", rows, err)
	}
	screenshot(b, t, "team-sync-log-filtered-1280")
	step("retry one", chromedp.Click(chromedp.CSS("#sync-log tbody button")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	notice, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS("#notice")))
	if !strings.Contains(notice, "1 record is queued again") {
		t.Fatalf("after Retry: %q", notice)
	}
	// Back on the same filter: the bulk Retry takes the two others, not the
	// line item's failure.
	// The row's Retry came back to the same filter: two entries offer
	// Retry; the bulk one takes both, not the line item's failure.
	if f, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById("object").value`)); f != "Opportunity" {
		t.Fatalf("after a row's Retry the filter is %q", f)
	}
	step("retry matching", chromedp.Click(chromedp.CSS("#retry-all")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		notice, _ = chromedp.Run(b, chromedp.Evaluate[string](`(document.getElementById("notice") || {}).textContent || ""`))
		if strings.Contains(notice, "2 records are queued again") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Retry matching: %q", notice)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if h, err := db.SyncHealthOf(context.Background(), conn.WorkspaceID, conn.ID); err != nil || h.Failed != 1 {
		t.Fatalf("after the retries: %+v %v (the line item's failure stays)", h, err)
	}
	step("the whole log", chromedp.Navigate(appURL+"/settings/integrations/salesforce/sync-log"), chromedp.WaitVisible(chromedp.CSS("#sync-log")))
	screenshot(b, t, "team-sync-log-1280")

	step("invite",
		chromedp.Navigate(appURL+"/settings/users"),
		chromedp.WaitVisible(chromedp.CSS("#invite")),
		chromedp.SendKeys(chromedp.CSS("#email"), "bob@acme.example"),
		chromedp.SetValue(chromedp.CSS("#role"), "member"),
		chromedp.Click(chromedp.CSS("#send-invitation")),
		chromedp.WaitVisible(chromedp.CSS("#invitations")),
	)
	screenshot(b, t, "team-users-invitations-1280")
	mail.mu.Lock()
	if len(mail.sent) != 1 {
		t.Fatalf("%d invitations sent", len(mail.sent))
	}
	link := mail.sent[0].Link
	mail.mu.Unlock()
	// The users page has an #email field of its own (the invitation's): wait
	// for it to be gone, or the next navigation races the logout's redirect.
	step("log out", chromedp.Click(chromedp.CSS("form[action='/logout'] button")), chromedp.WaitNotPresent(chromedp.CSS("#send-invitation")),
		chromedp.WaitVisible(chromedp.CSS("#email")))
	step("open the invitation", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#accept-invitation")))
	screenshot(b, t, "team-invitation-1280")
	step("join",
		chromedp.SendKeys(chromedp.CSS("#name"), "Bob Builder"),
		chromedp.SendKeys(chromedp.CSS("#password"), "purple lantern ferry boat"),
		chromedp.SendKeys(chromedp.CSS("#password2"), "purple lantern ferry boat"),
		chromedp.Click(chromedp.CSS("#join")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	who, _ := chromedp.Run(b, chromedp.Text(chromedp.CSS(".who")))
	if !strings.Contains(who, "bob@acme.example · member") {
		t.Fatalf("signed in as %q", who)
	}
}
