package quotemail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/devmail"
	"github.com/qwoty/companion/jobs"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// A send's email goes out once per recipient with the page's link; an
// attempt that reached no one leaves it queued for River's retry, and a
// job run again after it went out sends nothing more.
func TestQuoteMailOnceEach(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	conn, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Acme Supplies", Provider: qwoty.ProviderSalesforce,
		ExternalID: "00D000000000001AAA", MyDomain: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: "006000000000001AAA"}
	q, err := db.CreateQuote(ctx, s, store.NewQuote{Title: "Renewal", Currency: "EUR", TaxRate: decimal.NewFromInt(20), CreatedBy: "rep",
		Lines: []qwoty.LineItem{{SKU: "LIC", Description: "Licence", Quantity: decimal.NewFromInt(2), UnitPrice: decimal.NewFromInt(100)}}})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := db.SendQuote(ctx, s, q.ID, 0, "rep", store.SendInput{SentBy: "Rep", Recipients: []string{"a@romashka.example", "b@romashka.example"},
		Subject: "Your quote", Message: "Hello"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sendID string
	var sealed []byte
	if err := storetest.Pool(t, db).QueryRow(ctx, `SELECT args->>'send_id', decode(args->>'sealed_token', 'base64') FROM river_job WHERE kind = 'quote_mail'`).
		Scan(&sendID, &sealed); err != nil {
		t.Fatal(err)
	}
	job := &river.Job[jobs.QuoteMail]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: jobs.MailMaxAttempts},
		Args: jobs.QuoteMail{SendID: sendID, SealedToken: sealed}}
	state := func() string {
		var st string
		if err := storetest.Pool(t, db).QueryRow(ctx, `SELECT mail_state FROM quote_sends WHERE id = $1`, sendID).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	// The mail server is down: the job fails (River tries again), the send
	// stays queued.
	down, err := notify.New(notify.Options{SMTP: config.SMTP{Host: "127.0.0.1", Port: 1, Security: config.SMTPLoopback}, From: "quotes@acme.example",
		EmailTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{p: New(db, Options{AppURL: "https://qwoty.example", Mail: down})}
	if err := w.Work(ctx, job); err == nil || state() != "queued" {
		t.Fatalf("with the mail server down: %v, state %s", err, state())
	}

	mb, err := devmail.StartWith("127.0.0.1:0", devmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	up, err := notify.New(notify.Options{SMTP: mb.SMTP(), From: "quotes@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	w = &worker{p: New(db, Options{AppURL: "https://qwoty.example", Mail: up})}
	job.Attempt = 2
	for range 2 {
		if err := w.Work(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if st := state(); st != "sent" {
		t.Fatalf("state %s, want sent", st)
	}
	msgs := mb.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one per recipient, once", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(m.Text, "https://qwoty.example/q/"+token) || m.Subject != "Your quote" || !strings.Contains(m.From, "Acme Supplies") {
			t.Fatalf("message to %v: from %q, subject %q:\n%s", m.EnvelopeTo, m.From, m.Subject, m.Text)
		}
	}
}
