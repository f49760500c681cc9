package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/qwoty/companion/qwoty"
)

// crmPath is the console's path of an action on a CRM's connection
// (/settings/integrations/{provider}/{action}).
func crmPath(p qwoty.Provider, action string) string {
	return "/settings/integrations/" + string(p) + "/" + action
}

func toString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func stepClass(s PingStepView) string {
	switch {
	case s.Skipped:
		return "step-skipped"
	case s.OK:
		return "step-ok"
	}
	return "step-failed"
}

func stepStatus(s PingStepView) string {
	switch {
	case s.Skipped:
		return "not run"
	case s.OK:
		return "passed"
	}
	return "failed"
}

func syncHealthLabel(h qwoty.Health) string {
	switch h {
	case qwoty.HealthWarning:
		return "Warning"
	case qwoty.HealthError:
		return "Error"
	}
	return "Healthy"
}

// syncOutcomeOptions are the sync log's outcome filter, in the order a
// push goes.
var syncOutcomeOptions = []string{"synced", "retrying", "waiting", "failed", "skipped"}

func outcomeLabel(o string) string {
	switch o {
	case "synced":
		return "Synced"
	case "retrying":
		return "Retrying"
	case "waiting":
		return "Waiting"
	case "failed":
		return "Failed"
	case "skipped":
		return "Skipped"
	}
	return o
}

func failedCount(n int) string {
	if n == 1 {
		return "1 record failed"
	}
	return strconv.Itoa(n) + " records failed"
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// writtenText is what a push wrote, as the log keeps it (JSON), indented
// for reading; "" when it wrote nothing.
func writtenText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "[]" || string(raw) == "null" {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return string(raw)
	}
	return out.String()
}

// triggerOptions are the sync triggers as the settings form words them.
var triggerOptions = []struct{ Value, Label string }{
	{"created", "a quote is made"},
	{"status", "a quote's status changes (at once)"},
	{"primary", "the record's primary quote changes (at once)"},
	{"edit", "anything else changes: title, lines, a deletion"},
	{"archive", "a quote is sent: its PDF is filed on the record"},
	{"order", "a quote is accepted: its order is made in the CRM, and kept up to date"},
}

// accountMatchOptions are the ways to find a customer's account in the
// CRM (qwoty.AccountMatch) as the settings form words them.
var accountMatchOptions = []struct{ Value, Label string }{
	{string(qwoty.MatchByName), "its name (exact, any case)"},
	{string(qwoty.MatchByDomain), "its web domain (a customer without one: by name)"},
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
