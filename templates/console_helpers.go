package templates

import (
	"fmt"

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
