package qwoty

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Field mappings and conflicts: which Qwoty value goes to (or comes from)
// which CRM field, which way, and who wins when both sides changed. These
// are the domain's rules; the store keeps the mappings, each CRM's adapter
// describes its fields (CRMField), and the sync engine applies them.

// FieldType is the kind of value a field carries, on either side.
type FieldType string

// Field types. A CRM's own types are translated into these by its adapter
// (Salesforce "string" and "textarea" are text, HubSpot "enumeration" and
// Salesforce "picklist" are picklist, ...).
const (
	TypeText     FieldType = "text"
	TypeEmail    FieldType = "email"
	TypePicklist FieldType = "picklist"
	TypeNumber   FieldType = "number"
	TypeCurrency FieldType = "currency"
	TypeDate     FieldType = "date"
	TypeDateTime FieldType = "datetime"
	TypeBoolean  FieldType = "boolean"
	// TypeOther is a CRM type no mapping can carry (a reference, a
	// formula, a compound address).
	TypeOther FieldType = "other"
)

// Direction is which way a mapping carries values.
type Direction string

// Directions.
const (
	ToCRM    Direction = "push" // Qwoty → CRM
	FromCRM  Direction = "pull" // CRM → Qwoty
	BothWays Direction = "both"
)

// Pushes reports whether d writes to the CRM.
func (d Direction) Pushes() bool { return d == ToCRM || d == BothWays }

// Pulls reports whether d reads from the CRM.
func (d Direction) Pulls() bool { return d == FromCRM || d == BothWays }

// Policy is who wins when both sides changed a mapped value since the last
// sync.
type Policy string

// Conflict policies.
const (
	CRMWins       Policy = "crm_wins"
	QwotyWins     Policy = "qwoty_wins"
	LastWriteWins Policy = "last_write_wins"
	// Manual keeps both values and asks an admin to pick one.
	Manual Policy = "manual"
)

// Policies lists the policies in the order the console offers them.
var Policies = []Policy{CRMWins, QwotyWins, LastWriteWins, Manual}

// ParsePolicy returns the policy named s.
func ParsePolicy(s string) (Policy, bool) {
	p := Policy(s)
	return p, slices.Contains(Policies, p)
}

// QwotyField is a value of Qwoty's that a mapping can carry.
type QwotyField struct {
	Key   string // "customer.name"
	Label string
	// Object is the CRM object it maps onto: "customer" (an account) or
	// "deal" (the record the quote is made on).
	Object string
	Type   FieldType
	// Ways are the directions it may go: a quote's total is computed by
	// Qwoty and never taken from the CRM.
	Ways Direction
	// Policy is the default conflict policy.
	Policy Policy
}

// QwotyFields are the values mappings can carry. The product's
// documentation presets the first five as standard mappings.
var QwotyFields = []QwotyField{
	{Key: "customer.name", Label: "Customer name", Object: "customer", Type: TypeText, Ways: BothWays, Policy: CRMWins},
	{Key: "customer.email", Label: "Customer email", Object: "customer", Type: TypeEmail, Ways: BothWays, Policy: CRMWins},
	{Key: "quote.total", Label: "Quote total", Object: "deal", Type: TypeCurrency, Ways: ToCRM, Policy: QwotyWins},
	{Key: "quote.status", Label: "Quote status", Object: "deal", Type: TypePicklist, Ways: BothWays, Policy: LastWriteWins},
	{Key: "quote.created", Label: "Quote created date", Object: "deal", Type: TypeDate, Ways: ToCRM, Policy: QwotyWins},
	{Key: "quote.number", Label: "Quote number", Object: "deal", Type: TypeText, Ways: ToCRM, Policy: QwotyWins},
	{Key: "quote.title", Label: "Quote title", Object: "deal", Type: TypeText, Ways: BothWays, Policy: QwotyWins},
}

// QwotyFieldByKey returns the field named key.
func QwotyFieldByKey(key string) (QwotyField, bool) {
	for _, f := range QwotyFields {
		if f.Key == key {
			return f, true
		}
	}
	return QwotyField{}, false
}

// CRMField is a field of a CRM object as its adapter describes it (the
// Salesforce describe, HubSpot's properties, Pipedrive's deal and
// organization fields).
type CRMField struct {
	Name  string // the API name
	Label string
	Type  FieldType
	// Options are a picklist's values.
	Options []string
	// Writable is false for a read-only field (a formula, a system field).
	Writable bool
	// Custom is set for a field the customer added.
	Custom bool
}

// Mapping is one mapping of a connection.
type Mapping struct {
	ID         string
	QwotyField string // a QwotyField's Key
	Object     string // "customer" or "deal"
	CRMField   string // the CRM field's API name
	Direction  Direction
	Policy     Policy
	// ValueMap maps Qwoty's values to the CRM's for a picklist (a quote
	// status to a stage); pulled values are mapped back through it.
	ValueMap map[string]string
	// Standard is set for the preset mappings.
	Standard bool
	// Broken is why the mapping stopped working (its field deleted in the
	// CRM, a picklist value gone), "" while it works.
	Broken string
}

// fits says whether a value of type from can be written into a field of
// type to without loss.
func fits(from, to FieldType) bool {
	switch from {
	case to:
		return true
	case TypeEmail:
		return to == TypeText
	case TypeCurrency:
		return to == TypeNumber
	case TypeNumber:
		return to == TypeCurrency
	case TypeDate:
		return to == TypeDateTime
	case TypePicklist:
		return to == TypeText
	}
	return false
}

// CheckMapping checks m against the CRM's fields of its object: the Qwoty
// field must exist and allow m's direction, the CRM field must exist, be
// writable when m pushes, and carry the value's type each way m goes; a
// picklist mapping must map every value it can carry. The error says why,
// for the admin (code validation, Field set to the part at fault).
func CheckMapping(m Mapping, fields []CRMField) error {
	q, ok := QwotyFieldByKey(m.QwotyField)
	if !ok {
		return invalid("qwoty_field", "Pick one of Qwoty's fields from the list.", "Qwoty has no field %s", echo(m.QwotyField))
	}
	if m.Object != q.Object {
		return invalid("object", "Map it onto the "+q.Object+" object.", "%s belongs on the CRM's %s, not its %s", q.Label, q.Object, echo(m.Object))
	}
	switch m.Direction {
	case ToCRM, FromCRM, BothWays:
	default:
		return invalid("direction", "Choose push, pull or both.", "direction %s is not one", echo(string(m.Direction)))
	}
	if m.Direction.Pulls() && !q.Ways.Pulls() {
		return invalid("direction", "Choose push: Qwoty computes this value.", "%s is never taken from the CRM", q.Label)
	}
	if _, ok := ParsePolicy(string(m.Policy)); !ok {
		return invalid("policy", "Choose CRM wins, Qwoty wins, last write wins or manual review.", "policy %s is not one", echo(string(m.Policy)))
	}
	i := slices.IndexFunc(fields, func(f CRMField) bool { return f.Name == m.CRMField })
	if i < 0 {
		return invalid("crm_field", "Pick a field that exists in the CRM, or create it there first.",
			"the CRM's %s has no field %s", m.Object, echo(m.CRMField))
	}
	f := fields[i]
	if m.Direction.Pushes() && !f.Writable {
		return invalid("crm_field", "Pick a writable field, or map it one way, from the CRM.", "the CRM's field %s is read-only", f.Name)
	}
	if m.Direction.Pushes() && !fits(q.Type, f.Type) {
		return invalid("crm_field", "Pick a field of a type that can hold it.", "%s (%s) cannot be written into %s (%s)", q.Label, q.Type, f.Name, f.Type)
	}
	if m.Direction.Pulls() && !fits(f.Type, q.Type) {
		return invalid("crm_field", "Pick a field of a type that can hold it.", "%s (%s) cannot be read into %s (%s)", f.Name, f.Type, q.Label, q.Type)
	}
	if q.Type == TypePicklist && m.QwotyField == "quote.status" {
		for _, st := range Statuses {
			v, ok := m.ValueMap[string(st)]
			if !ok || v == "" {
				continue // a status left unmapped leaves the field as it is
			}
			if f.Type == TypePicklist && !slices.Contains(f.Options, v) {
				return invalid("value_map", "Pick one of the field's values.", "%s has no value %s (for %s)", f.Name, echo(v), st.Label())
			}
		}
	}
	return nil
}

// Recheck says why a saved mapping no longer works against the CRM's
// fields as they are now ("" when it still does): its field was deleted,
// became read-only, changed type, or lost a picklist value.
func Recheck(m Mapping, fields []CRMField) string {
	if err := CheckMapping(m, fields); err != nil {
		return err.(*Error).Message
	}
	return ""
}

// Side is where a value came from.
type Side string

// Sides of a conflict.
const (
	SideQwoty Side = "qwoty"
	SideCRM   Side = "crm"
)

// Change is one side's value of a mapped field and when it was written.
type Change struct {
	Value string
	At    time.Time
}

// Merge is the outcome of a three-way merge of one mapped value.
type Merge struct {
	// Value is the value both sides should hold; Apply says which side
	// must be written (SideQwoty: take the CRM's value into Qwoty; SideCRM:
	// push Qwoty's to the CRM; "" nothing to do).
	Value string
	Apply Side
	// Conflict is set when the policy is Manual and both sides changed to
	// different values: nothing is applied until an admin picks one.
	Conflict bool
}

// MergeValues merges a mapped value against base, what both sides held at
// the last sync: a side that did not change takes the other's change; when
// both changed to different values, policy decides (last write wins by the
// times given, the CRM's on a tie: it is the system of record).
func MergeValues(base string, ours, theirs Change, policy Policy) Merge {
	oursChanged, theirsChanged := ours.Value != base, theirs.Value != base
	switch {
	case ours.Value == theirs.Value:
		return Merge{Value: ours.Value}
	case !theirsChanged:
		return Merge{Value: ours.Value, Apply: SideCRM}
	case !oursChanged:
		return Merge{Value: theirs.Value, Apply: SideQwoty}
	}
	switch policy {
	case QwotyWins:
		return Merge{Value: ours.Value, Apply: SideCRM}
	case LastWriteWins:
		if ours.At.After(theirs.At) {
			return Merge{Value: ours.Value, Apply: SideCRM}
		}
		return Merge{Value: theirs.Value, Apply: SideQwoty}
	case Manual:
		return Merge{Conflict: true}
	default: // CRMWins
		return Merge{Value: theirs.Value, Apply: SideQwoty}
	}
}

// StatusFromStage is the quote status a CRM stage maps back to through a
// status mapping's value map (the first status mapped to it, in the
// lifecycle's order), and whether one does.
func StatusFromStage(valueMap map[string]string, stage string) (Status, bool) {
	for _, st := range Statuses {
		if v := valueMap[string(st)]; v != "" && strings.EqualFold(v, stage) {
			return st, true
		}
	}
	return "", false
}

// StageMove is what a stage pulled from the CRM does to a quote's status.
type StageMove struct {
	To Status
	// Conflict is why the move is not made ("" when it is, or when there
	// is nothing to do): the quote's rules refuse the transition, so it is
	// shown to an admin instead of forced.
	Conflict string
}

// MoveForStage decides what a pulled stage does to a quote in status
// from: nothing when the stage maps to no status or to the one it has; a
// move when the lifecycle allows it; otherwise a conflict, never a forced
// change (an accepted quote stays accepted).
func MoveForStage(from Status, valueMap map[string]string, stage string) StageMove {
	to, ok := StatusFromStage(valueMap, stage)
	if !ok || to == from {
		return StageMove{}
	}
	if !from.CanMoveTo(to) {
		return StageMove{To: to, Conflict: fmt.Sprintf("the CRM's stage %q means %s, but a %s quote cannot become %s",
			stage, to.Label(), strings.ToLower(from.Label()), strings.ToLower(to.Label()))}
	}
	return StageMove{To: to}
}

// StandardMappings are the preset mappings of a new connection: customer
// name and email with the account's, the total into the deal's amount,
// the status with its stage (through stages), the created date into a
// date field. A CRM names its own fields (amount, stage, ...): fieldOf
// returns the field for a Qwoty key, "" when the CRM has none (the mapping
// is left out).
func StandardMappings(fieldOf func(key string) string, stages map[Status]string) []Mapping {
	var out []Mapping
	for _, q := range QwotyFields[:5] {
		name := fieldOf(q.Key)
		if name == "" {
			continue
		}
		m := Mapping{QwotyField: q.Key, Object: q.Object, CRMField: name, Direction: q.Ways, Policy: q.Policy, Standard: true}
		if q.Key == "quote.status" {
			m.ValueMap = map[string]string{}
			for st, v := range stages {
				m.ValueMap[string(st)] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// PushValue is the value mapping m writes on the CRM's deal for quote q
// (the record's primary quote), as text for the field's type: a total
// with two decimals (the CRMs' currency scale, rounded as ForCRM does), a date as YYYY-MM-DD, a
// status through the value map. It is false when m writes nothing: it
// does not push, it is broken, it is not a deal's, or the status has no
// value in its map (the field is left as it is).
func PushValue(m Mapping, q *Quote) (string, bool) {
	if !m.Direction.Pushes() || m.Broken != "" || m.Object != "deal" || q == nil {
		return "", false
	}
	switch m.QwotyField {
	case "quote.total":
		return ForCRM(q.Totals, nil, q.Currency, q.Rounding, SalesforceScale).Total.StringFixed(SalesforceScale), true
	case "quote.status":
		v := m.ValueMap[string(q.Status)]
		return v, v != ""
	case "quote.created":
		return q.CreatedAt.UTC().Format(time.DateOnly), true
	case "quote.number":
		return q.Number, true
	case "quote.title":
		return q.Title, true
	}
	return "", false
}

// pulledKeys are the Qwoty values a pull takes from a CRM field of the
// mapping's own (the status follows the deal's stage, which every CRM's
// pull reads anyway).
var pulledKeys = []string{"customer.name", "customer.email", "quote.title"}

// PullsField reports whether a pull takes m's value from its CRM field:
// m works, pulls, and carries a customer's name or email or a quote's
// title.
func PullsField(m Mapping) bool {
	return m.Broken == "" && m.Direction.Pulls() && slices.Contains(pulledKeys, m.QwotyField)
}

// PulledFields are the CRM fields ms read, by object ("customer",
// "deal"), each once, in the mappings' order: what a pull asks its CRM
// for besides the fields it always reads.
func PulledFields(ms []Mapping) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		if PullsField(m) && !slices.Contains(out[m.Object], m.CRMField) {
			out[m.Object] = append(out[m.Object], m.CRMField)
		}
	}
	return out
}
