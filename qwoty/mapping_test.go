package qwoty

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var dealFields = []CRMField{
	{Name: "Amount", Type: TypeCurrency, Writable: true},
	{Name: "StageName", Type: TypePicklist, Options: []string{"Prospecting", "Proposal", "Closed Won", "Closed Lost"}, Writable: true},
	{Name: "Description", Type: TypeText, Writable: true},
	{Name: "Probability", Type: TypeNumber, Writable: true},
	{Name: "ExpectedRevenue", Type: TypeCurrency, Writable: false},
	{Name: "Quote_Date__c", Type: TypeDate, Writable: true, Custom: true},
	{Name: "AccountId", Type: TypeOther, Writable: true},
}

// A mapping is refused, with the reason, when a field is missing on
// either side, read-only for a push, of a type that cannot carry the
// value, or when a picklist value does not exist.
func TestCheckMapping(t *testing.T) {
	ok := []Mapping{
		{QwotyField: "quote.total", Object: "deal", CRMField: "Amount", Direction: ToCRM, Policy: QwotyWins},
		{QwotyField: "quote.total", Object: "deal", CRMField: "Probability", Direction: ToCRM, Policy: QwotyWins},
		{QwotyField: "quote.created", Object: "deal", CRMField: "Quote_Date__c", Direction: ToCRM, Policy: QwotyWins},
		{QwotyField: "quote.number", Object: "deal", CRMField: "Description", Direction: ToCRM, Policy: QwotyWins},
		{QwotyField: "quote.status", Object: "deal", CRMField: "StageName", Direction: BothWays, Policy: LastWriteWins,
			ValueMap: map[string]string{"sent": "Proposal", "accepted": "Closed Won"}},
	}
	for _, m := range ok {
		if err := CheckMapping(m, dealFields); err != nil {
			t.Errorf("%s → %s refused: %v", m.QwotyField, m.CRMField, err)
		}
	}
	bad := []struct {
		m    Mapping
		want string
	}{
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "Gone__c", Direction: ToCRM, Policy: QwotyWins}, "has no field"},
		{Mapping{QwotyField: "quote.nope", Object: "deal", CRMField: "Amount", Direction: ToCRM, Policy: QwotyWins}, "Qwoty has no field"},
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "ExpectedRevenue", Direction: ToCRM, Policy: QwotyWins}, "read-only"},
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "Quote_Date__c", Direction: ToCRM, Policy: QwotyWins}, "cannot be written"},
		{Mapping{QwotyField: "quote.number", Object: "deal", CRMField: "AccountId", Direction: ToCRM, Policy: QwotyWins}, "cannot be written"},
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "Amount", Direction: BothWays, Policy: QwotyWins}, "never taken from the CRM"},
		{Mapping{QwotyField: "quote.total", Object: "customer", CRMField: "Amount", Direction: ToCRM, Policy: QwotyWins}, "belongs on"},
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "Amount", Direction: "sideways", Policy: QwotyWins}, "direction"},
		{Mapping{QwotyField: "quote.total", Object: "deal", CRMField: "Amount", Direction: ToCRM, Policy: "coin"}, "policy"},
		{Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "StageName", Direction: BothWays, Policy: LastWriteWins,
			ValueMap: map[string]string{"accepted": "Won"}}, "has no value"},
	}
	for _, c := range bad {
		err := CheckMapping(c.m, dealFields)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error saying %q", c.m, err, c.want)
		}
		if e, ok := err.(*Error); ok && e.Code != CodeValidation {
			t.Errorf("%+v: code %s", c.m, e.Code)
		}
	}
	// A field deleted later makes a saved mapping broken, with the reason.
	m := Mapping{QwotyField: "quote.created", Object: "deal", CRMField: "Quote_Date__c", Direction: ToCRM, Policy: QwotyWins}
	if r := Recheck(m, dealFields[:3]); !strings.Contains(r, "Quote_Date__c") {
		t.Errorf("recheck after the field went: %q", r)
	}
}

// Each policy, when both sides changed; one side's change always wins.
func TestMergeValues(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	older, newer := t0, t0.Add(time.Minute)
	cases := []struct {
		name         string
		base         string
		ours, theirs Change
		p            Policy
		want         Merge
	}{
		{"only Qwoty changed", "a", Change{"b", newer}, Change{"a", older}, CRMWins, Merge{Value: "b", Apply: SideCRM}},
		{"only the CRM changed", "a", Change{"a", newer}, Change{"c", older}, QwotyWins, Merge{Value: "c", Apply: SideQwoty}},
		{"same change both sides", "a", Change{"b", older}, Change{"b", newer}, Manual, Merge{Value: "b"}},
		{"crm wins", "a", Change{"b", newer}, Change{"c", older}, CRMWins, Merge{Value: "c", Apply: SideQwoty}},
		{"qwoty wins", "a", Change{"b", older}, Change{"c", newer}, QwotyWins, Merge{Value: "b", Apply: SideCRM}},
		{"last write: Qwoty later", "a", Change{"b", newer}, Change{"c", older}, LastWriteWins, Merge{Value: "b", Apply: SideCRM}},
		{"last write: CRM later", "a", Change{"b", older}, Change{"c", newer}, LastWriteWins, Merge{Value: "c", Apply: SideQwoty}},
		{"last write: tie goes to the CRM", "a", Change{"b", older}, Change{"c", older}, LastWriteWins, Merge{Value: "c", Apply: SideQwoty}},
		{"manual", "a", Change{"b", older}, Change{"c", newer}, Manual, Merge{Conflict: true}},
	}
	for _, c := range cases {
		if got := MergeValues(c.base, c.ours, c.theirs, c.p); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A stage never forces a transition the quote's rules refuse.
func TestMoveForStage(t *testing.T) {
	vm := map[string]string{"sent": "Proposal", "accepted": "Closed Won", "rejected": "Closed Lost"}
	if m := MoveForStage(StatusSent, vm, "closed won"); m.To != StatusAccepted || m.Conflict != "" {
		t.Errorf("sent → Closed Won: %+v", m)
	}
	if m := MoveForStage(StatusAccepted, vm, "Closed Lost"); m.Conflict == "" || m.To != StatusRejected {
		t.Errorf("accepted → Closed Lost must be a conflict: %+v", m)
	}
	if m := MoveForStage(StatusDraft, vm, "Closed Won"); m.Conflict == "" {
		t.Errorf("draft → accepted must be a conflict: %+v", m)
	}
	if m := MoveForStage(StatusSent, vm, "Negotiation"); m != (StageMove{}) {
		t.Errorf("an unmapped stage does nothing: %+v", m)
	}
	if m := MoveForStage(StatusSent, vm, "Proposal"); m != (StageMove{}) {
		t.Errorf("the same status does nothing: %+v", m)
	}
}

func TestStandardMappings(t *testing.T) {
	names := map[string]string{"customer.name": "Name", "quote.total": "Amount", "quote.status": "StageName"}
	ms := StandardMappings(func(k string) string { return names[k] }, map[Status]string{StatusAccepted: "Closed Won"})
	if len(ms) != 3 || ms[2].ValueMap["accepted"] != "Closed Won" || ms[0].Policy != CRMWins || ms[1].Policy != QwotyWins || ms[2].Policy != LastWriteWins {
		t.Fatalf("standard mappings: %+v", ms)
	}
}

func TestPushValue(t *testing.T) {
	q := &Quote{Number: "Q-00042", Title: "Gadgets", Status: StatusSent, CreatedAt: time.Date(2026, 11, 29, 23, 30, 0, 0, time.FixedZone("x", -5*3600))}
	q.Totals.Total = decimal.RequireFromString("1200.5")
	cases := []struct {
		m    Mapping
		want string
		ok   bool
	}{
		{Mapping{QwotyField: "quote.total", Object: "deal", Direction: ToCRM}, "1200.50", true},
		{Mapping{QwotyField: "quote.created", Object: "deal", Direction: ToCRM}, "2026-11-30", true},
		{Mapping{QwotyField: "quote.number", Object: "deal", Direction: BothWays}, "Q-00042", true},
		{Mapping{QwotyField: "quote.status", Object: "deal", Direction: BothWays, ValueMap: map[string]string{"sent": "Proposal"}}, "Proposal", true},
		{Mapping{QwotyField: "quote.status", Object: "deal", Direction: BothWays, ValueMap: map[string]string{"accepted": "Won"}}, "", false},
		{Mapping{QwotyField: "quote.title", Object: "deal", Direction: FromCRM}, "", false},
		{Mapping{QwotyField: "quote.title", Object: "deal", Direction: ToCRM, Broken: "gone"}, "", false},
		{Mapping{QwotyField: "customer.name", Object: "customer", Direction: ToCRM}, "", false},
	}
	for _, c := range cases {
		if got, ok := PushValue(c.m, q); got != c.want || ok != c.ok {
			t.Errorf("%s %s: %q %v, want %q %v", c.m.QwotyField, c.m.Direction, got, ok, c.want, c.ok)
		}
	}
}
