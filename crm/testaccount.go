package crm

import (
	"context"

	"github.com/qwoty/companion/qwoty"
)

// Whoami asks the CRM, with an access token, which account the token acts
// in: its id, and the raw value for the report's detail ("hub_id 123").
type Whoami func(ctx context.Context, accessToken string) (accountID, detail string, err error)

// TestAccount is the connection test of a CRM whose account holds nothing of
// ours (Configure does nothing): step one, the CRM accepts the connection's
// token (refreshed through s if it expired); step two, the token acts in
// the connected account, not another one the admin signed in to. explain
// says why a failed call failed, in the console's words.
func TestAccount(ctx context.Context, s Session, in Info, whoami Whoami, explain func(error) Problem) *TestReport {
	conn := s.Connection()
	token := TestStep{Name: "token", Title: "Qwoty reaches your " + in.Account}
	account := TestStep{Name: "account", Title: "The access is to this " + in.Account}
	var got, detail string
	err := s.Call(ctx, func(ctx context.Context, tok string) error {
		var err error
		got, detail, err = whoami(ctx, tok)
		return err
	})
	if err != nil {
		return FailedReport(token, explain(err), account)
	}
	r := &TestReport{OK: true}
	token.OK, token.Message = true, in.Name+" accepted Qwoty's access."
	r.Steps = append(r.Steps, token)
	if got != conn.ExternalID {
		r.Fail(account, Problem{Code: qwoty.CodeTestFailed,
			Message: in.Name + "'s access is to " + in.Account + " " + got + ", not to the connected " + in.Account + " " + conn.ExternalID + ".",
			Fix:     "Reconnect, signing in to the " + in.Account + " whose deals show the card.", Detail: detail})
		return r
	}
	account.OK, account.Message = true, "The access is to "+in.Account+" "+conn.ExternalID+"."
	r.Steps = append(r.Steps, account)
	return r
}
