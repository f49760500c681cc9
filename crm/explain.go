package crm

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/qwoty/companion/qwoty"
)

// An admin reads a failed check of a connection (a test, a config write) to
// know what to do next: each failure says in plain words what happened and
// what fixes it; the raw error (resolver addresses, the CRM's own codes) is
// kept for a disclosure and the logs. What is the same for every CRM (the
// session's own failures, the network) is explained here; each adapter
// explains its CRM's answers first and hands the rest to ExplainCall.

// Problem is a failed check explained.
type Problem struct {
	// Code is what the connection keeps as last_error_code.
	Code    qwoty.Code
	Message string // what happened, in plain words
	Fix     string // what to do
	Detail  string // the raw error, for a disclosure and support
}

// Kept is the problem as the connection keeps it (last_error): what
// happened, then what to do.
func (p Problem) Kept() string { return strings.TrimSuffix(p.Message, ".") + ". " + p.Fix }

// Err is the problem as an error: its code, its message, its fix as the
// hint, and cause underneath (errors.Is still sees it).
func (p Problem) Err(cause error) *qwoty.Error {
	return &qwoty.Error{Code: p.Code, Message: p.Message, Hint: p.Fix, Err: cause}
}

// ExplainCall explains why a call from this server to a CRM account failed,
// as far as it is the same for every CRM: the session could not get a token
// (refused refresh, no OAuth token), the CRM refused the call (an APIError
// or OAuthError: ExplainAnswer), or the network failed (no address, no
// answer in time, no connection). Anything else is a crm_error, "failed
// before the CRM gave an answer Qwoty understands". An adapter explains
// what its CRM says in its own way before calling this. instanceURL names
// the host in the message.
func ExplainCall(info Info, instanceURL string, err error) Problem {
	host := instanceURL
	if u, perr := url.Parse(instanceURL); perr == nil && u.Host != "" {
		host = u.Host
	}
	acct := info.Account
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var timeout interface{ Timeout() bool }
	var apiErr *APIError
	var oauthErr *OAuthError
	switch code := qwoty.ErrorCode(err); {
	case code == qwoty.CodeRefreshRejected:
		return Problem{Code: qwoty.CodeRefreshRejected,
			Message: info.Name + " no longer accepts Qwoty's access to this " + acct + ": it was revoked or expired.",
			Fix:     "Reconnect the " + acct + " and approve access when " + info.Name + " asks.", Detail: err.Error()}
	case code == qwoty.CodeNoOAuthToken:
		can := "test and disconnect it"
		if info.Rotates {
			can = "test, rotate and disconnect it"
		}
		return Problem{Code: qwoty.CodeNoOAuthToken,
			Message: "This connection was made with the command line (qwoty connection add), so the console holds no access to the " + acct + " to test it.",
			Fix:     "Reconnect the " + acct + " here, signing in to " + info.Name + ": cards keep working meanwhile, and the console can then " + can + ".", Detail: err.Error()}
	case errors.As(err, &apiErr):
		return ExplainAnswer(info, apiErr.Status, err)
	case errors.As(err, &oauthErr) && oauthErr.Status != 0:
		return ExplainAnswer(info, oauthErr.Status, err)
	case errors.As(err, &dnsErr):
		return Problem{Code: qwoty.CodeCRMUnreachable,
			Message: "Qwoty could not reach your " + acct + ": the address " + host + " was not found.",
			Fix:     "Check that this server can resolve internet addresses (its DNS, proxy or firewall). If the " + acct + "'s address changed, reconnect the " + acct + ".", Detail: err.Error()}
	case errors.As(err, &timeout) && timeout.Timeout():
		return Problem{Code: qwoty.CodeCRMUnreachable,
			Message: "Qwoty could not reach your " + acct + " at " + host + ": no answer in time.",
			Fix:     "Check that this server may open outgoing HTTPS connections (a firewall or proxy may block them), then test again.", Detail: err.Error()}
	case errors.As(err, &opErr):
		return Problem{Code: qwoty.CodeCRMUnreachable,
			Message: "Qwoty could not reach your " + acct + " at " + host + ": the connection failed.",
			Fix:     "Check that this server may open outgoing HTTPS connections (a firewall or proxy may block them), then test again.", Detail: err.Error()}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return Problem{Code: qwoty.CodeCRMUnreachable,
			Message: "Qwoty could not reach your " + acct + " at " + host + ": no answer in time.",
			Fix:     "Test again; if it keeps failing, check this server's outgoing connections.", Detail: err.Error()}
	}
	return Problem{Code: qwoty.CodeCRMError, Message: "The call to your " + acct + " failed before " + info.Name + " gave an answer Qwoty understands.",
		Fix: "Test again; if it keeps failing, give the technical detail below to support.", Detail: err.Error()}
}

// ExplainAnswer explains an error answer of the CRM's API (its HTTP
// status): a crm_error, the CRM's fault for a 5xx.
func ExplainAnswer(info Info, status int, err error) Problem {
	if status >= 500 {
		return Problem{Code: qwoty.CodeCRMError, Message: info.Name + " answered with a server error (HTTP " + strconv.Itoa(status) + ").",
			Fix: info.Name + " may be in maintenance: test again in a few minutes.", Detail: err.Error()}
	}
	return Problem{Code: qwoty.CodeCRMError, Message: info.Name + " refused the request (HTTP " + strconv.Itoa(status) + ").",
		Fix: "Reconnect the " + info.Account + "; if it still fails, give the technical detail below to support.", Detail: err.Error()}
}

// FailedReport is the report of a test that could not run: its first step
// says why (p), the others are skipped.
func FailedReport(first TestStep, p Problem, skipped ...TestStep) *TestReport {
	first.OK, first.Message, first.Fix, first.Detail = false, p.Message, p.Fix, p.Detail
	r := &TestReport{Steps: []TestStep{first}, Code: p.Code, Message: p.Kept()}
	for _, st := range skipped {
		st.OK, st.Skipped, st.Message = false, true, "Not run."
		r.Steps = append(r.Steps, st)
	}
	return r
}

// Fail records a failed step on r: the report is not OK and, when it is the
// first failure, its code and message are the report's.
func (r *TestReport) Fail(st TestStep, p Problem) {
	st.OK, st.Message, st.Fix, st.Detail = false, p.Message, p.Fix, p.Detail
	r.Steps = append(r.Steps, st)
	r.OK = false
	if r.Code == "" {
		r.Code, r.Message = p.Code, p.Kept()
	}
}
