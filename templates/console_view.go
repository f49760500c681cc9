package templates

import (
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
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

// CRMCard is one CRM on the Integrations page: what the CRM is (its
// adapter's Info) and the workspace's connection of it.
type CRMCard struct {
	crm.Info
	Conn *qwoty.Connection
	// Other is set when another CRM is the workspace's active connection.
	Other *qwoty.Connection
	// Sync is the connection's sync, nil when it has none to show.
	Sync *SyncHealthView
	// Runs are its back-fill and "Sync now", nil when it does not sync.
	Runs *SyncRunsView
}

// SyncHealthView is a connection's sync on Integrations: its health with
// the reason, and its outbox counted.
type SyncHealthView struct {
	Health qwoty.Health
	// Reason says what is wrong and what to do ("" when healthy); Detail
	// is the CRM's latest message behind it, when there is one.
	Reason, Detail string
	// Reconnect is set when connecting the CRM again is the fix (a
	// connection in error, or made before sync: "reconnect to enable sync").
	Reconnect bool
	// Pending counts the records waiting to be pushed (in flight included).
	Pending, Failed, Synced int
	OldestPending           time.Time
	LastSyncedAt            time.Time
	LastErrorCode           qwoty.Code
	LastError               string
}

// Installs says whether connecting the CRM starts on its install page.
func (c CRMCard) Installs() bool { return c.Guide.Package != "" }

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
	// Account is what the tested CRM calls an account ("org").
	Account   string
	OK        bool
	Steps     []PingStepView
	Fix       string
	RequestID string
}

// PingStepView is one step of a test: in plain words, with the fix and
// the technical detail of a failure.
type PingStepView struct {
	Name    string // the step's name (token, config, callout, signature)
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
	CRM  crm.Info
	Conn *qwoty.Connection
}

// InstallView is a CRM's install page ("Install the Salesforce
// Integration"): what to install in the account, then the sign-in.
type InstallView struct {
	ConsolePage
	CRM   crm.Info
	Conn  *qwoty.Connection
	Other *qwoty.Connection
	// PackageMissing is set when the last attempt found no package.
	PackageMissing bool
}

// SyncLogView is a connection's sync log: a page of entries, newest
// first, under a filter.
type SyncLogView struct {
	ConsolePage
	CRM  crm.Info
	Conn *qwoty.Connection
	// The filter as the query wrote it ("" for any); Filtered is set when
	// any is.
	Outcome, Record, Object, Direction, Run, From, To string
	Filtered                                          bool
	Entries                                           []store.SyncLogEntry
	// Failed are the records whose push failed for good now; Retry marks
	// the entries that offer Retry (each such record's newest failed entry
	// on the page). Both are empty unless CanRetry (admins).
	Failed   map[string]bool
	Retry    map[int64]bool
	CanRetry bool
	// Older and Newer are the next pages' addresses ("" when there is
	// none), Newest the first page's on any other; Paged is set on any
	// page but the first. Export is the CSV of the filter's rows.
	Older, Newer, Newest, Export string
	Paged                        bool
}

// SyncSettingsView is a connection's sync settings form. The Slack
// webhook is a secret: the form says whether one is set, never what it is.
type SyncSettingsView struct {
	ConsolePage
	CRMName  string
	Provider qwoty.Provider
	Triggers []string
	// The form's fields as text: as saved, or as typed when refused.
	CoalesceSeconds, SharePercent, AlertEmails string
	SlackSet                                   bool
	// Plans are the CRM's plans when the admin says which (crm.Info's
	// Plans); Plan and Seats are what was said, as text.
	Plans       []crm.Link
	Plan, Seats string
	// DealStatus and AccountMatch are when a quote without a CRM record
	// makes its deal and how its customer's account is found
	// (docs/deals.md), as text: as saved, or as chosen when refused.
	DealStatus, AccountMatch string
}

// UsersView is Settings → Users.
type UsersView struct {
	ConsolePage
	Users []qwoty.User
	// Invitations are the open invitations (admins only).
	Invitations []store.Invitation
	Now         time.Time
}

// InvitationView is the page an invitation's link opens.
type InvitationView struct {
	Token      string
	Invitation store.Invitation
	Name       string
	Error      string
}

// AuditView is Settings → Audit log.
type AuditView struct {
	ConsolePage
	Entries []store.AuditEntry
	// Accounts is what each CRM calls an account ("org", "portal").
	Accounts map[qwoty.Provider]string
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

// checkProblem words the code a failed check of a connection leaves in the
// audit log, with the CRM's name and its word for an account as the check
// recorded them (entries from before they were recorded are Salesforce's).
func checkProblem(code qwoty.Code, name, account string) string {
	switch code {
	case qwoty.CodePackageNotInstalled:
		return "the Qwoty package is not installed in the " + account
	case qwoty.CodeInsufficientAccess:
		return "the " + name + " user may not change Qwoty's settings"
	case qwoty.CodeRefreshRejected:
		return name + " no longer accepts Qwoty's access"
	case qwoty.CodeNoOAuthToken:
		return "the connection was made with the command line"
	case qwoty.CodeCRMUnreachable:
		return "Qwoty could not reach the " + account
	case qwoty.CodeCRMError:
		return name + " answered with an error"
	case qwoty.CodeTestFailed:
		return "a step of the " + account + "'s round trip failed"
	}
	return string(code)
}

// auditText says what an audit entry records, for a person reading the log.
func auditText(e store.AuditEntry, accounts map[qwoty.Provider]string) string {
	d := func(k string) string { return toString(e.Detail[k]) }
	crm := func() string {
		if p := qwoty.Provider(d("provider")); p != "" {
			return p.Title()
		}
		return "The CRM"
	}
	accountOf := func() string { return orDefault(accounts[qwoty.Provider(d("provider"))], "account") }
	failed := func(what string) string {
		if ok, _ := e.Detail["ok"].(bool); ok {
			return what + ": passed"
		}
		name, account := crm(), accountOf()
		if a := d("account"); a != "" {
			account = a
		}
		return what + ": failed, " + checkProblem(qwoty.Code(d("code")), name, account)
	}
	switch e.Action {
	case "connection.added":
		return crm() + " account " + d("externalId") + " connected with the command line (a new secret was issued)"
	case "connection.connected":
		out := crm() + " " + accountOf() + " " + d("externalId") + " connected"
		if u := d("crmUser"); u != "" {
			out += " as " + u
		}
		return out
	case "connection.config_written":
		return failed("Secret and app URL written into the " + orDefault(d("account"), "org"))
	case "connection.tested":
		return failed("Connection tested")
	case "connection.secret_rotated":
		return "Secret rotated; the previous one kept working for " + graceText(e.Detail["graceSeconds"])
	case "connection.disconnected":
		return "Connection disconnected; its quotes are kept"
	case "connection.token_refresh_failed":
		return crm() + " refused to renew Qwoty's access: the connection must be reconnected"
	case "user.first_admin_created":
		return "First admin " + d("email") + " created"
	case "user.invited":
		return "User " + d("email") + " invited as " + d("role")
	case "user.invitation_resent":
		return "Invitation to " + d("email") + " sent again"
	case "user.invitation_revoked":
		return "Invitation to " + d("email") + " revoked"
	case "user.invitation_accepted":
		return "User " + d("email") + " joined as " + d("role") + " (invitation accepted)"
	case "user.created":
		return "User " + d("email") + " added as " + d("role")
	case "quote.status_changed":
		return "Quote " + d("quote") + " moved from " + d("from") + " to " + d("to")
	case "order.created":
		return "Order " + d("order") + " made: quote " + d("quote") + ", revision " + d("revision") + ", was accepted"
	case "order.status_changed":
		return "Order " + d("order") + " moved from " + d("from") + " to " + d("to")
	case "quote.sent_to_customer":
		out := "Quote " + d("quote") + ", revision " + d("revision") + ", emailed to the customer"
		if n := d("recipients"); n != "" && n != "1" {
			out += " (" + n + " recipients)"
		}
		return out
	case "quote.status_from_crm":
		return "Quote " + d("quote") + " moved from " + d("from") + " to " + d("to") + " by its CRM stage " + d("stage")
	case "quote.title_from_crm":
		return "Quote " + d("quote") + " renamed from the CRM: " + d("to")
	case "quote.revised":
		return "Quote " + d("quote") + " revised: revision " + d("revision") + " is a draft (it was " + d("from") + ")"
	case "workspace.quote_defaults_set":
		return "Quote defaults changed: valid " + d("valid_days") + " days, rounding " + d("rounding")
	case "quote.primary_set":
		return "Quote " + d("quote") + " made the primary quote of its record"
	case "quote.deleted":
		return "Quote " + d("quote") + " deleted (its CRM copy is marked deleted)"
	case "sync.retried":
		if r := d("record"); r != "" {
			return "Sync retried for record " + r
		}
		return "Sync retried for every failed record (" + d("records") + ")"
	case "sync.settings_changed":
		return "Sync settings changed"
	case "quote.deal_created":
		out := "Deal " + d("record") + " made in the CRM for quote " + d("quote")
		if a := d("account"); a != "" {
			out += ", on account " + a + " (" + accountActionText(d("accountAction")) + ")"
		}
		return out
	case "deal.retried":
		return "The CRM deal of a quote without one retried"
	}
	return e.Action
}

// accountActionText says how a deal's account was found (docs/deals.md).
func accountActionText(a string) string {
	switch a {
	case store.AccountLinked:
		return "the customer's"
	case store.AccountMatched:
		return "matched"
	case crm.ActionCreated:
		return "made for the customer"
	case crm.ActionAdopted:
		return "made by an earlier attempt"
	}
	return a
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
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
	{"member", "member: sees integrations and users, runs Test connection, reads and exports the sync log"},
	{"viewer", "viewer: sees integrations (sync's health) and users; can change or test nothing"},
	{"admin", "admin: also connects and disconnects CRMs, changes sync settings, retries sync, invites users, reads the audit log"},
}

// QuoteDefaultsView is the quote defaults page, its values as typed (or
// stored).
type QuoteDefaultsView struct {
	ConsolePage
	ValidDays string
	Rounding  string
	Terms     string
}

// roundingLabel is a rounding policy as the console words it.
func roundingLabel(r qwoty.Rounding) string {
	switch r {
	case qwoty.RoundLineHalfUp:
		return "Each line, halves up"
	case qwoty.RoundLineHalfEven:
		return "Each line, halves to even"
	case qwoty.RoundDocumentHalfUp:
		return "The document's totals, halves up"
	case qwoty.RoundDocumentHalfEven:
		return "The document's totals, halves to even"
	}
	return string(r)
}
