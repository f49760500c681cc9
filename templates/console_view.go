package templates

import (
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

// PingStepView is one step of a test.
type PingStepView struct {
	Name    string
	OK      bool
	Skipped bool
	Message string
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

func detailText(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	out := ""
	for _, k := range sortedKeys(d) {
		if out != "" {
			out += ", "
		}
		out += k + ": " + toString(d[k])
	}
	return out
}
