package templates

import (
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// MappingsView is a connection's field mappings page.
type MappingsView struct {
	ConsolePage
	CRMName  string
	Provider qwoty.Provider
	Mappings []qwoty.Mapping
	// Fields are the CRM's fields by object ("deal", "customer"), for the
	// form; Describes is false for a CRM that does not list its fields,
	// FieldsError says why they could not be read now.
	Fields      map[string][]qwoty.CRMField
	Describes   bool
	FieldsError string
	// Form is the add form as typed (after a refusal) or empty; when
	// Editing is set it is that mapping's form instead.
	Form    MappingForm
	Editing *qwoty.Mapping
}

// MappingForm is the add form's fields as text.
type MappingForm struct {
	QwotyField, CRMField, Direction, Policy, ValueMap string
}

// MappingObjects are the CRM objects mappings go on, in the form's order.
var MappingObjects = []struct{ Key, Label string }{{"deal", "Deal fields"}, {"customer", "Customer (account) fields"}}

func qwotyFieldLabel(key string) string {
	if f, ok := qwoty.QwotyFieldByKey(key); ok {
		return f.Label
	}
	return key
}

func directionLabel(d qwoty.Direction) string {
	switch d {
	case qwoty.ToCRM:
		return "Qwoty → CRM"
	case qwoty.FromCRM:
		return "CRM → Qwoty"
	case qwoty.BothWays:
		return "Both ways"
	}
	return string(d)
}

func policyLabel(p qwoty.Policy) string {
	switch p {
	case qwoty.CRMWins:
		return "CRM wins"
	case qwoty.QwotyWins:
		return "Qwoty wins"
	case qwoty.LastWriteWins:
		return "Last write wins"
	case qwoty.Manual:
		return "Manual review"
	}
	return string(p)
}

func fieldOption(object string, f qwoty.CRMField) string { return object + ":" + f.Name }

func fieldOptionLabel(f qwoty.CRMField) string {
	l := f.Label
	if l == "" || l == f.Name {
		l = f.Name
	} else {
		l += " (" + f.Name + ")"
	}
	l += " · " + string(f.Type)
	if !f.Writable {
		l += ", read-only"
	}
	return l
}

func mappingPath(p qwoty.Provider, rest string) string { return crmPath(p, "mappings") + rest }

// ConflictsView is a connection's open conflicts page.
type ConflictsView struct {
	ConsolePage
	CRMName  string
	Provider qwoty.Provider
	Open     []store.Conflict
	Now      time.Time
}

func conflictAge(v ConflictsView, c store.Conflict) string { return qwoty.Ago(v.Now, c.DetectedAt) }

// FormOf is m as the form shows it.
func FormOf(m qwoty.Mapping) MappingForm {
	f := MappingForm{QwotyField: m.QwotyField, CRMField: m.Object + ":" + m.CRMField, Direction: string(m.Direction), Policy: string(m.Policy)}
	for _, st := range qwoty.Statuses {
		if v := m.ValueMap[string(st)]; v != "" {
			f.ValueMap += string(st) + " = " + v + "\n"
		}
	}
	for k, v := range m.ValueMap {
		if _, ok := qwoty.ParseStatus(k); !ok {
			f.ValueMap += k + " = " + v + "\n"
		}
	}
	return f
}

func mappingFormAction(v MappingsView) string {
	if v.Editing != nil {
		return mappingPath(v.Provider, "/"+v.Editing.ID)
	}
	return mappingPath(v.Provider, "")
}

// mappable leaves out the fields no mapping can carry (references,
// compound addresses, formulas of no simple type).
func mappable(fs []qwoty.CRMField) []qwoty.CRMField {
	out := make([]qwoty.CRMField, 0, len(fs))
	for _, f := range fs {
		if f.Type != qwoty.TypeOther {
			out = append(out, f)
		}
	}
	return out
}
