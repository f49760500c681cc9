package main

import (
	"context"
	"log/slog"

	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/notify"
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
