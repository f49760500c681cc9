package salesforce

import (
	"errors"
	"net"
	"strconv"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// An admin reads a failed Test connection to know what to do next (see
// crm.Problem): Salesforce's own answers are explained here, the rest by
// crm.ExplainCall.

// stepTitles name the ping's steps as an admin thinks of them.
var stepTitles = map[string]string{
	"token":     "Qwoty reaches your org",
	"config":    "The org holds Qwoty's settings",
	"callout":   "The org calls this server",
	"signature": "This server accepts the org's signature",
}

// explain explains why a call from this server to the org failed. Only an
// answer from Salesforce is called one.
func (a *Adapter) explain(instanceURL string, err error) crm.Problem {
	var apiErr *crm.APIError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrPackageNotInstalled):
		return crm.Problem{Code: qwoty.CodePackageNotInstalled,
			Message: "Salesforce answered, but the Qwoty package is not installed in this org.",
			Fix:     "Install the Qwoty package in the org (Reconnect shows the install links), then reconnect.", Detail: err.Error()}
	case errors.Is(err, crm.ErrForbidden):
		return crm.Problem{Code: qwoty.CodeInsufficientAccess,
			Message: "Salesforce answered, but the Salesforce user who connected may not change Qwoty's settings.",
			Fix:     "Give that user Customize Application and the Qwoty Admin permission set in Setup, or reconnect as a user who has them.", Detail: err.Error()}
	case qwoty.ErrorCode(err) == qwoty.CodeRefreshRejected:
		return crm.Problem{Code: qwoty.CodeRefreshRejected,
			Message: "Salesforce no longer accepts Qwoty's access to this org: it was revoked, expired, or the org was refreshed.",
			Fix:     "Reconnect the org and approve access when Salesforce asks.", Detail: err.Error()}
	case errors.As(err, &dnsErr):
		p := crm.ExplainCall(a.Info(), instanceURL, err)
		p.Fix = "Check that this server can resolve internet addresses (its DNS, proxy or firewall). If the org's My Domain changed, reconnect the org."
		return p
	case errors.As(err, &apiErr) && apiErr.Status >= 500:
		return crm.Problem{Code: qwoty.CodeCRMError,
			Message: "Salesforce answered with a server error (HTTP " + strconv.Itoa(apiErr.Status) + ").",
			Fix:     "Salesforce may be in maintenance: check status.salesforce.com and test again in a few minutes.", Detail: err.Error()}
	}
	return crm.ExplainCall(a.Info(), instanceURL, err)
}

// explainStep explains a failed step of the org's own ping report.
func explainStep(st PingStep, appURL string) crm.Problem {
	detail := st.Message
	if st.Code != "" {
		detail = st.Code + ": " + st.Message
	}
	p := crm.Problem{Code: qwoty.CodeTestFailed, Detail: detail}
	switch st.Name {
	case "config":
		p.Message = "The org holds no Qwoty secret, so it cannot sign requests to this server."
		p.Fix = "Rotate the secret, which writes a new one into the org (or reconnect)."
	case "callout":
		p.Message = "The org could not call this server at " + appURL + "."
		p.Fix = "In Salesforce Setup → Named Credentials, Qwoty_API must point at " + appURL + ", and that address must be reachable from the internet (localhost is not). The Salesforce user who connected the org (the ping runs as them) also needs the Qwoty Admin permission set."
	case "signature":
		switch qwoty.Code(st.Code) {
		case qwoty.CodeTimestampOutOfRange:
			p.Message = "This server reached the org's request but its clock and Salesforce's differ by more than 5 minutes."
			p.Fix = "Set this server's clock right (turn on NTP), then test again."
		case qwoty.CodeOrgNotConnected, qwoty.CodeOrgDisconnected:
			p.Message = "This server does not know this org as connected."
			p.Fix = "Reconnect the org."
		default:
			p.Message = "This server refused the org's signature: the secret in the org is not the one this server holds."
			p.Fix = "Rotate the secret: that writes this server's current secret into the org."
		}
	default:
		p.Message = st.Message
		p.Fix = "Test again; if it keeps failing, give the technical detail below to support."
	}
	return p
}

// pingReport turns a ping's outcome into the test's report: the token step
// is ours (the call reached the org), the others the org's own.
func (a *Adapter) pingReport(r *PingReport, err error, instanceURL, appURL string) *crm.TestReport {
	step := func(name string) crm.TestStep { return crm.TestStep{Name: name, Title: stepTitles[name]} }
	if err != nil {
		return crm.FailedReport(step("token"), a.explain(instanceURL, err), step("config"), step("callout"), step("signature"))
	}
	rep := &crm.TestReport{OK: r.OK, RequestID: r.RequestID}
	token := step("token")
	token.OK, token.Message = true, "Salesforce accepted Qwoty's access."
	rep.Steps = append(rep.Steps, token)
	for _, st := range r.Steps {
		sv := crm.TestStep{Name: st.Name, Title: stepTitles[st.Name], OK: st.OK, Skipped: st.Code == "SKIPPED"}
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
			sv.Message, sv.Fix, sv.Detail = p.Message, p.Fix, p.Detail
			if rep.Code == "" {
				rep.Code, rep.Message = p.Code, p.Kept()
			}
		}
		rep.Steps = append(rep.Steps, sv)
	}
	switch {
	case rep.OK:
		rep.Code, rep.Message = "", ""
	case rep.Code == "":
		rep.Code = qwoty.CodeTestFailed // the org said no without a failed step to explain
	}
	return rep
}
