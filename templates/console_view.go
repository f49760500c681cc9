package templates

import (
	"strconv"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// ConsolePage is what every console page shares: who is logged in, the
// form token, and a one-line notice or error to show at the top.
type ConsolePage struct {
	User   *qwoty.User
	CSRF   string
	Notice string
	Error  *ErrorView
}

// CanManage reports whether the user may change integrations and users.
func (p ConsolePage) CanManage() bool { return p.User != nil && p.User.Role.CanManageIntegrations() }

// CanTest reports whether the user may run Test connection: admins and
// members, not viewers.
func (p ConsolePage) CanTest() bool {
	return p.User != nil && (p.User.Role.CanManageIntegrations() || p.User.Role == qwoty.RoleMember)
}

// CRMCard is one CRM on the Integrations page.
type CRMCard struct {
	Provider  qwoty.Provider
	Name      string
	Available bool   // the server is configured for it
	Why       string // why it is not available
	Conn      *qwoty.Connection
	// Other is set when another CRM is the workspace's active connection.
	Other *qwoty.Connection
}

// Health is the card's health.
func (c CRMCard) Health() qwoty.Health {
	if c.Conn == nil {
		return qwoty.HealthNotConnected
	}
	return c.Conn.Health()
}

// IntegrationsView is Settings → Integrations.
type IntegrationsView struct {
	ConsolePage
	Cards []CRMCard
	// Ping is the last "Test connection" report to show, if any.
	Ping *PingView
}

// PingView is the outcome of Test connection, step by step.
type PingView struct {
	OK        bool
	Steps     []PingStepView
	Fix       string
	RequestID string
}

// PingStepView is one step of a test: in plain words, with the fix and
// the technical detail of a failure.
type PingStepView struct {
	Name    string // token, config, callout, signature
	Title   string
	OK      bool
	Skipped bool
	Message string
	Fix     string
	Detail  string
}

// DisconnectView asks an admin to confirm a disconnection.
type DisconnectView struct {
	ConsolePage
	Provider qwoty.Provider
	Name     string
	Conn     *qwoty.Connection
}

// InstallView is the "Install the Salesforce Integration" page.
type InstallView struct {
	ConsolePage
	ProductionURL string
	SandboxURL    string
	Configured    bool // the OAuth app is configured on this server
	Conn          *qwoty.Connection
	Other         *qwoty.Connection
	// PackageMissing is set when the last attempt found no package.
	PackageMissing bool
}

// UsersView is Settings → Users.
type UsersView struct {
	ConsolePage
	Users []qwoty.User
}

// AuditView is Settings → Audit log.
type AuditView struct {
	ConsolePage
	Entries []store.AuditEntry
}

// LoginView is the login page.
type LoginView struct {
	Email   string
	Error   string
	NoUsers bool
	// SetupURL is the way to the first-run page, development only.
	SetupURL string
}

// SetupView is the first-run page that creates the first admin.
type SetupView struct {
	Token     string
	Email     string
	Name      string
	Workspace string
	Error     string
}

func when(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func healthLabel(h qwoty.Health) string {
	switch h {
	case qwoty.HealthHealthy:
		return "Connected"
	case qwoty.HealthWarning:
		return "Warning"
	case qwoty.HealthError:
		return "Error"
	}
	return "Not connected"
}

// checkProblems word the codes a failed check leaves in the audit log.
var checkProblems = map[string]string{
	"package_not_installed": "the Qwoty package is not installed in the org",
	"insufficient_access":   "the Salesforce user may not change Qwoty's settings",
	"refresh_rejected":      "Salesforce no longer accepts Qwoty's access",
	"no_oauth_token":        "the connection was made with the command line",
	"crm_unreachable":       "Qwoty could not reach the org",
	"crm_error":             "Salesforce answered with an error",
	"test_failed":           "a step of the org's round trip failed",
}

// auditText says what an audit entry records, for a person reading the log.
func auditText(e store.AuditEntry) string {
	d := func(k string) string { return toString(e.Detail[k]) }
	crm := func() string {
		if p := qwoty.Provider(d("provider")); p != "" {
			return p.Title()
		}
		return "The CRM"
	}
	failed := func(what string) string {
		if ok, _ := e.Detail["ok"].(bool); ok {
			return what + ": passed"
		}
		why := checkProblems[d("code")]
		if why == "" {
			why = d("code")
		}
		return what + ": failed, " + why
	}
	switch e.Action {
	case "connection.added":
		return crm() + " account " + d("externalId") + " connected with the command line (a new secret was issued)"
	case "connection.connected":
		out := crm() + " org " + d("externalId") + " connected"
		if u := d("crmUser"); u != "" {
			out += " as " + u
		}
		return out
	case "connection.config_written":
		return failed("Secret and app URL written into the org")
	case "connection.tested":
		return failed("Connection tested")
	case "connection.secret_rotated":
		return "Secret rotated; the previous one kept working for " + graceText(e.Detail["graceSeconds"])
	case "connection.disconnected":
		return "Connection disconnected; its quotes are kept"
	case "connection.token_refresh_failed":
		return "Salesforce refused to renew Qwoty's access: the org must be reconnected"
	case "user.first_admin_created":
		return "First admin " + d("email") + " created"
	case "user.created":
		return "User " + d("email") + " added as " + d("role")
	case "quote.status_changed":
		return "Quote " + d("quote") + " moved from " + d("from") + " to " + d("to")
	}
	return e.Action
}

func graceText(v any) string {
	n, ok := v.(float64)
	if !ok || n <= 0 {
		return "a grace period"
	}
	if int(n)%60 == 0 {
		m := int(n) / 60
		if m == 1 {
			return "1 minute"
		}
		return strconv.Itoa(m) + " minutes"
	}
	return strconv.Itoa(int(n)) + " seconds"
}

// roleDescriptions say what each role can do, as the role checks in
// console/auth.go allow it.
var roleDescriptions = []struct{ Role, Text string }{
	{"member", "member: sees integrations and users, and can run Test connection"},
	{"viewer", "viewer: sees integrations and users; can change or test nothing"},
	{"admin", "admin: also connects, rotates and disconnects CRMs, adds users, reads the audit log"},
}
