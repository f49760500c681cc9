package server

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
)

// An admin reads a failed Test connection to know what to do next: each step
// says in plain words what failed and what fixes it; the raw error (resolver
// addresses, Salesforce's codes) is kept for a disclosure and the logs.

// pingStepTitles name the steps as an admin thinks of them.
var pingStepTitles = map[string]string{
	"token":     "Qwoty reaches your org",
	"config":    "The org holds Qwoty's settings",
	"callout":   "The org calls this server",
	"signature": "This server accepts the org's signature",
}

// pingProblem is a failure explained: what happened, what to do, and the
// technical detail behind it.
type pingProblem struct {
	code    string // kept on the connection as last_error_code
	message string
	fix     string
	detail  string
}

// explainCall explains why a call from this server to the org failed.
// Only an answer from Salesforce is called one.
func explainCall(err error, instanceURL string) pingProblem {
	host := instanceURL
	if u, perr := url.Parse(instanceURL); perr == nil && u.Host != "" {
		host = u.Host
	}
	var apiErr *crm.APIError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, salesforce.ErrPackageNotInstalled):
		return pingProblem{code: "package_not_installed",
			message: "Salesforce answered, but the Qwoty package is not installed in this org.",
			fix:     "Install the Qwoty package in the org (Reconnect shows the install links), then reconnect.", detail: err.Error()}
	case errors.Is(err, crm.ErrForbidden):
		return pingProblem{code: "insufficient_access",
			message: "Salesforce answered, but the Salesforce user who connected may not change Qwoty's settings.",
			fix:     "Give that user Customize Application and the Qwoty Admin permission set in Setup, or reconnect as a user who has them.", detail: err.Error()}
	case errors.Is(err, store.ErrRefreshRejected) || qwoty.ErrorCode(err) == qwoty.CodeOAuthFailed:
		return pingProblem{code: "refresh_rejected",
			message: "Salesforce no longer accepts Qwoty's access to this org: it was revoked, expired, or the org was refreshed.",
			fix:     "Reconnect the org and approve access when Salesforce asks.", detail: err.Error()}
	case qwoty.ErrorCode(err) == qwoty.CodeOrgDisconnected:
		return pingProblem{code: "no_oauth_token",
			message: "This connection was made with the command line (qwoty connection add), so the console holds no access to the org to test it.",
			fix:     "Reconnect the org here, signing in to Salesforce: cards keep working meanwhile, and the console can then test, rotate and disconnect it.", detail: err.Error()}
	case errors.As(err, &dnsErr):
		return pingProblem{code: "crm_unreachable",
			message: "Qwoty could not reach your org: the address " + host + " was not found.",
			fix:     "Check that this server can resolve internet addresses (its DNS, proxy or firewall). If the org's My Domain changed, reconnect the org.", detail: err.Error()}
	case errors.As(err, &timeout) && timeout.Timeout():
		return pingProblem{code: "crm_unreachable",
			message: "Qwoty could not reach your org at " + host + ": no answer in time.",
			fix:     "Check that this server may open outgoing HTTPS connections (a firewall or proxy may block them), then test again.", detail: err.Error()}
	case errors.As(err, &opErr):
		return pingProblem{code: "crm_unreachable",
			message: "Qwoty could not reach your org at " + host + ": the connection failed.",
			fix:     "Check that this server may open outgoing HTTPS connections (a firewall or proxy may block them), then test again.", detail: err.Error()}
	case errors.As(err, &apiErr) && apiErr.Status >= 500:
		return pingProblem{code: "crm_error",
			message: "Salesforce answered with a server error (HTTP " + strconv.Itoa(apiErr.Status) + ").",
			fix:     "Salesforce may be in maintenance: check status.salesforce.com and test again in a few minutes.", detail: err.Error()}
	case errors.As(err, &apiErr):
		return pingProblem{code: "crm_error",
			message: "Salesforce refused the request (HTTP " + strconv.Itoa(apiErr.Status) + ").",
			fix:     "Reconnect the org; if it still fails, give the technical detail below to support.", detail: err.Error()}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return pingProblem{code: "crm_unreachable",
			message: "Qwoty could not reach your org at " + host + ": no answer in time.",
			fix:     "Test again; if it keeps failing, check this server's outgoing connections.", detail: err.Error()}
	}
	return pingProblem{code: "crm_error", message: "The call to your org failed before Salesforce gave an answer Qwoty understands.",
		fix: "Test again; if it keeps failing, give the technical detail below to support.", detail: err.Error()}
}

// explainStep explains a failed step of the org's own ping report.
func explainStep(st salesforce.PingStep, appURL string) pingProblem {
	detail := st.Message
	if st.Code != "" {
		detail = st.Code + ": " + st.Message
	}
	p := pingProblem{code: "test_failed", detail: detail}
	switch st.Name {
	case "config":
		p.message = "The org holds no Qwoty secret, so it cannot sign requests to this server."
		p.fix = "Rotate the secret, which writes a new one into the org (or reconnect)."
	case "callout":
		p.message = "The org could not call this server at " + appURL + "."
		p.fix = "In Salesforce Setup → Named Credentials, Qwoty_API must point at " + appURL + ", and that address must be reachable from the internet (localhost is not). The Salesforce user who connected the org (the ping runs as them) also needs the Qwoty Admin permission set."
	case "signature":
		switch st.Code {
		case string(qwoty.CodeTimestampOutOfRange):
			p.message = "This server reached the org's request but its clock and Salesforce's differ by more than 5 minutes."
			p.fix = "Set this server's clock right (turn on NTP), then test again."
		case string(qwoty.CodeOrgNotConnected), string(qwoty.CodeOrgDisconnected):
			p.message = "This server does not know this org as connected."
			p.fix = "Reconnect the org."
		default:
			p.message = "This server refused the org's signature: the secret in the org is not the one this server holds."
			p.fix = "Rotate the secret: that writes this server's current secret into the org."
		}
	default:
		p.message = st.Message
		p.fix = "Test again; if it keeps failing, give the technical detail below to support."
	}
	return p
}

// pingView turns a ping's outcome into the report the console shows.
func pingView(r *salesforce.PingReport, err error, instanceURL, appURL string) templates.PingView {
	pv := templates.PingView{}
	if err != nil {
		p := explainCall(err, instanceURL)
		pv.Steps = append(pv.Steps, templates.PingStepView{Name: "token", Title: pingStepTitles["token"],
			Message: p.message, Fix: p.fix, Detail: p.detail})
		for _, name := range []string{"config", "callout", "signature"} {
			pv.Steps = append(pv.Steps, templates.PingStepView{Name: name, Title: pingStepTitles[name], Skipped: true, Message: "Not run."})
		}
		pv.Fix = p.fix
		return pv
	}
	pv.Steps = append(pv.Steps, templates.PingStepView{Name: "token", Title: pingStepTitles["token"], OK: true, Message: "Salesforce accepted Qwoty's access."})
	pv.OK, pv.RequestID = r.OK, r.RequestID
	for _, st := range r.Steps {
		sv := templates.PingStepView{Name: st.Name, Title: pingStepTitles[st.Name], OK: st.OK, Skipped: st.Code == "SKIPPED"}
		if sv.Title == "" {
			sv.Title = st.Name
		}
		switch {
		case sv.Skipped:
			sv.Message = "Not run."
		case st.OK:
			sv.Message = st.Message
		default:
			p := explainStep(st, appURL)
			sv.Message, sv.Fix, sv.Detail = p.message, p.fix, p.detail
			if pv.Fix == "" {
				pv.Fix = p.fix
			}
		}
		pv.Steps = append(pv.Steps, sv)
	}
	return pv
}

// checkOutcome turns a CRM call's error into the code and message the
// console keeps as the connection's last error ("" when it succeeded).
func checkOutcome(err error, instanceURL string) (code, message string) {
	if err == nil {
		return "", ""
	}
	p := explainCall(err, instanceURL)
	return p.code, strings.TrimSuffix(p.message, ".") + ". " + p.fix
}
