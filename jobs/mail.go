package jobs

import "github.com/riverqueue/river"

// MailQueue is the River queue of customer email (a quote's send): apart
// from sync's and webhooks', so that a slow mail server holds back neither.
const MailQueue = "mail"

// MailMaxAttempts is River's attempts of one send's email, the first
// included. Only an email that reached no recipient is tried again, so a
// retry never sends twice to the same person.
const MailMaxAttempts = 6

// QuoteMail emails a send (quote_sends) to its recipients: the customer
// link, whose token is sealed with the server's key for the link (the
// database keeps only the token's hash).
type QuoteMail struct {
	SendID      string `json:"send_id"`
	SealedToken []byte `json:"sealed_token"`
}

// Kind implements river.JobArgs.
func (QuoteMail) Kind() string { return "quote_mail" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (QuoteMail) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: MailQueue, MaxAttempts: MailMaxAttempts, Priority: 1}
}
