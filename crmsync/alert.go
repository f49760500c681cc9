package crmsync

import (
	"context"
	"fmt"
	"strings"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
)

// Alert is one message to a workspace's admins about a connection's sync.
type Alert struct {
	// Kind is jobs.AlertPushFailed or jobs.AlertConnection.
	Kind         string
	WorkspaceID  string
	ConnectionID string
	// CRM names the CRM and its account ("Salesforce org 00D…").
	CRM     string
	Subject string
	Text    string
	// Link is the console page to act on (Integrations).
	Link string
	// Emails are the admins' addresses; SlackURL the connection's incoming
	// webhook, "" for none.
	Emails   []string
	SlackURL string
}

// Alerter sends alerts (package notify by email and Slack).
type Alerter interface {
	Send(ctx context.Context, a Alert) error
}

// alertWorker sends a connection's alert, at most once per connection and
// kind per hour (store.ClaimAlert): a burst of failures makes one message.
type alertWorker struct {
	river.WorkerDefaults[jobs.SyncAlert]
	e *Engine
}

// alertListed caps the failed records an alert names.
const alertListed = 10

func (w *alertWorker) Work(ctx context.Context, job *river.Job[jobs.SyncAlert]) error {
	e := w.e
	conn, err := e.db.ConnectionByID(ctx, job.Args.ConnectionID)
	if err != nil {
		return river.JobCancel(err)
	}
	failed, err := e.db.FailedRecords(ctx, conn.ID, alertListed)
	if err != nil {
		return err
	}
	// PDFs that could not be filed on their records (archive.go) are
	// named too; Retry does not file them (a new version sent does).
	files, err := e.db.FailedArchives(ctx, conn.ID, alertListed)
	if err != nil {
		return err
	}
	failed = append(failed, files[:min(len(files), alertListed-min(len(failed), alertListed))]...)
	// Orders that could not be written to the CRM (orders.go) too.
	orders, err := e.db.FailedOrderPushes(ctx, conn.ID, alertListed)
	if err != nil {
		return err
	}
	failed = append(failed, orders[:min(len(orders), alertListed-min(len(failed), alertListed))]...)
	// And deals that could not be made for quotes without one (deals.go).
	deals, err := e.db.FailedDeals(ctx, conn.ID, alertListed)
	if err != nil {
		return err
	}
	failed = append(failed, deals[:min(len(deals), alertListed-min(len(failed), alertListed))]...)
	if job.Args.Alert == jobs.AlertPushFailed && len(failed) == 0 {
		return nil // retried and fixed before the alert went out
	}
	set, err := e.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		return err
	}
	emails := set.AlertEmails
	if len(emails) == 0 {
		if emails, err = e.db.AdminEmails(ctx, conn.WorkspaceID); err != nil {
			return err
		}
	}
	crmName := conn.Provider.Title() + " " + conn.ExternalID
	a := Alert{Kind: job.Args.Alert, WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, CRM: crmName,
		Link: strings.TrimSuffix(e.opt.AppURL, "/") + "/settings/integrations", Emails: emails, SlackURL: set.SlackWebhook}
	var b strings.Builder
	switch job.Args.Alert {
	case jobs.AlertPushFailed:
		a.Subject = fmt.Sprintf("Qwoty could not push quotes to %s", conn.Provider.Title())
		fmt.Fprintf(&b, "Qwoty could not push the quotes of these %s records to %s; they will not be tried again until someone retries them:\n\n",
			conn.Provider.Title(), crmName)
		for _, f := range failed {
			fmt.Fprintf(&b, "- record %s (%s): %s\n", f.RecordID, f.Code, f.Message)
		}
		fmt.Fprintf(&b, "\nFix what the messages name, then Retry on Integrations (sync log): %s\n", a.Link)
	default:
		a.Subject = fmt.Sprintf("Qwoty cannot sync with %s", conn.Provider.Title())
		fmt.Fprintf(&b, "Qwoty cannot push quotes to %s: %s\n\nQuotes wait and nothing is lost; reconnect on Integrations: %s\n",
			crmName, conn.LastError, a.Link)
	}
	a.Text = b.String()
	claimed, prev, err := e.db.ClaimAlert(ctx, conn.ID, job.Args.Alert, a.Subject)
	if err != nil || !claimed {
		return err
	}
	if e.opt.Alerts == nil {
		e.log.Warn("sync alert (no sender configured)", "connection", conn.ID, "kind", a.Kind, "subject", a.Subject)
		return nil
	}
	if err := e.opt.Alerts.Send(ctx, a); err != nil {
		if uerr := e.db.UnclaimAlert(context.WithoutCancel(ctx), conn.ID, job.Args.Alert, prev); uerr != nil {
			e.log.Error("sync alert: cannot give back the claim", "connection", conn.ID, "error", uerr.Error())
		}
		return fmt.Errorf("crmsync: send alert: %w", err)
	}
	e.log.Info("sync alert sent", "connection", conn.ID, "kind", a.Kind, "emails", len(a.Emails), "slack", a.SlackURL != "")
	return nil
}
