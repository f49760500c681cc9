// Package quotemail emails a quote's send to its recipients: the River
// worker of jobs.QuoteMail, added to the job engine as a crmsync.Plugin.
// The send's transaction queued the job (store.DB.SendQuote), so a crash
// loses no email; the send's mail_state says whether it went out, so a
// retry never sends it twice, and only an email that reached no one is
// tried again.
package quotemail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Mailer sends a quote's email (notify.Sender).
type Mailer interface {
	SendQuote(ctx context.Context, e notify.QuoteEmail) (int, error)
}

// Options build the plugin.
type Options struct {
	// AppURL is the public base URL the customer's links use (APP_URL).
	AppURL string
	Mail   Mailer
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Plugin works the mail queue.
type Plugin struct {
	db  *store.DB
	opt Options
}

// New returns the plugin over db.
func New(db *store.DB, opt Options) *Plugin {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Plugin{db: db, opt: opt}
}

// AddWorkers implements crmsync.Plugin.
func (p *Plugin) AddWorkers(w *river.Workers) { river.AddWorker(w, &worker{p: p}) }

// Queues implements crmsync.Plugin.
func (p *Plugin) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{jobs.MailQueue: {MaxWorkers: 4}}
}

// PeriodicJobs implements crmsync.Plugin: none.
func (p *Plugin) PeriodicJobs() []*river.PeriodicJob { return nil }

// PageURL is the customer's page of token.
func PageURL(appURL, token string) string { return appURL + "/q/" + token }

type worker struct {
	river.WorkerDefaults[jobs.QuoteMail]
	p *Plugin
}

func (w *worker) Work(ctx context.Context, job *river.Job[jobs.QuoteMail]) error {
	p := w.p
	m, err := p.db.QuoteMailOf(ctx, job.Args.SendID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil // the quote was deleted since
	}
	if err != nil {
		return err
	}
	if m.MailState != "queued" {
		return nil // done by an earlier attempt
	}
	token, err := p.db.OpenLinkToken(job.Args.SealedToken, m.LinkID)
	if err != nil {
		return p.db.SetMailResult(ctx, m.SendID, "failed", "the link's token does not open with this server's key (QWOTY_SECRET_KEY changed?)", p.opt.Now())
	}
	sent, err := p.opt.Mail.SendQuote(ctx, notify.QuoteEmail{To: m.Recipients, WorkspaceName: m.WorkspaceName, QuoteNumber: m.QuoteNumber,
		Subject: m.Subject, Message: m.Message, Link: PageURL(p.opt.AppURL, token)})
	switch {
	case err == nil:
		return p.db.SetMailResult(ctx, m.SendID, "sent", "", p.opt.Now())
	case sent > 0:
		p.opt.Logger.Warn("quote email reached some recipients only", "send", m.SendID, "error", err.Error())
		return p.db.SetMailResult(ctx, m.SendID, "partial", err.Error(), p.opt.Now())
	case notify.Permanent(err) || job.Attempt >= job.MaxAttempts:
		p.opt.Logger.Warn("quote email not sent", "send", m.SendID, "error", err.Error())
		return p.db.SetMailResult(ctx, m.SendID, "failed", err.Error(), p.opt.Now())
	}
	return err // reached no one: River tries again
}
