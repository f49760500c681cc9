package main

import (
	"context"
	"log/slog"

	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/webhooks"
)

// syncAlerter sends sync's alerts by email and Slack (package notify). An
// alert that reached someone is not sent again: only a delivery that
// reached no one, and that another try could make, fails the alert job so
// that River tries again.
type syncAlerter struct {
	s   *notify.Sender
	log *slog.Logger
}

func (a syncAlerter) Send(ctx context.Context, al crmsync.Alert) error {
	err := a.s.Send(ctx, notify.Alert{Kind: notify.Kind(al.Kind), ConnectionName: al.CRM, Subject: al.Subject,
		Text: al.Text, Link: al.Link, Emails: al.Emails, SlackURL: al.SlackURL})
	if err != nil && !notify.Retry(err) {
		a.log.Warn("sync alert not fully delivered", "connection", al.ConnectionID, "kind", al.Kind, "error", err.Error())
		return nil
	}
	return err
}

// webhookKind is the notify kind of a disabled webhook subscription.
const webhookKind notify.Kind = "webhook_disabled"

// webhookAlerter tells admins by email that Qwoty disabled a webhook
// subscription.
type webhookAlerter struct{ s *notify.Sender }

func (a webhookAlerter) Send(ctx context.Context, al webhooks.Alert) error {
	return a.s.Send(ctx, notify.Alert{Kind: webhookKind, ConnectionName: al.CRM, Subject: al.Subject,
		Text: al.Text, Link: al.Link, Emails: al.Emails})
}
