package pipedrive_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
)

// Field mappings against the emulator: the Fields API v2 translated into
// Qwoty's field types, mappings checked against them, and mapped values
// pushed with the deal's update.

func describe(t *testing.T, e *syncEnv, object string) map[string]qwoty.CRMField {
	t.Helper()
	fs, err := pipedrive.NewAdapter(pipedrive.Options{}).Fields(context.Background(), e.s, e.budget, object)
	if err != nil {
		t.Fatalf("fields of %s: %v", object, err)
	}
	out := map[string]qwoty.CRMField{}
	for _, f := range fs {
		out[f.Name] = f
	}
	return out
}

func TestDescribeDealFields(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	fs := describe(t, e, "deal")
	for name, want := range map[string]qwoty.CRMField{
		"title":          {Name: "title", Label: "Title", Type: qwoty.TypeText, Writable: true},
		"value":          {Name: "value", Label: "Value", Type: qwoty.TypeCurrency, Writable: true},
		"weighted_value": {Name: "weighted_value", Label: "Weighted value", Type: qwoty.TypeCurrency},
		"add_time":       {Name: "add_time", Label: "Deal created", Type: qwoty.TypeDate},
		"owner_id":       {Name: "owner_id", Label: "Owner", Type: qwoty.TypeOther, Writable: true},
		"status":         {Name: "status", Label: "Status", Type: qwoty.TypePicklist, Writable: true, Options: []string{"open", "won", "lost"}},
		"stage_id": {Name: "stage_id", Label: "Stage (or status: open, won, lost)", Type: qwoty.TypePicklist, Writable: true,
			Options: []string{"open", "won", "lost", "stage:1", "stage:2", "stage:3", "stage:4", "stage:5"}},
		pdtest.FieldPlan: {Name: pdtest.FieldPlan, Label: "Plan", Type: qwoty.TypePicklist, Writable: true, Custom: true,
			Options: []string{"Basic", "Pro", "Enterprise"}},
		pdtest.FieldQuoteNumber: {Name: pdtest.FieldQuoteNumber, Label: "Quote number", Type: qwoty.TypeText, Writable: true, Custom: true},
		pdtest.FieldQuotedTotal: {Name: pdtest.FieldQuotedTotal, Label: "Quoted total", Type: qwoty.TypeCurrency, Writable: true, Custom: true},
		pdtest.FieldSeats:       {Name: pdtest.FieldSeats, Label: "Seats", Type: qwoty.TypeNumber, Writable: true, Custom: true},
		pdtest.FieldValidUntil:  {Name: pdtest.FieldValidUntil, Label: "Quote valid until", Type: qwoty.TypeDate, Writable: true, Custom: true},
		pdtest.FieldTags:        {Name: pdtest.FieldTags, Label: "Tags", Type: qwoty.TypeOther, Writable: true, Custom: true},
	} {
		got, ok := fs[name]
		if !ok || got.Label != want.Label || got.Type != want.Type || got.Writable != want.Writable || got.Custom != want.Custom ||
			!slices.Equal(got.Options, want.Options) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	// One page of fields and one of stages, each taken from the budget
	// with its cost before the call.
	if r := e.pd.TokensByRoute(); r["GET /api/v2/dealFields"] != 10 || r["GET /api/v2/stages"] != 5 {
		t.Errorf("tokens by route %v", r)
	}
	if e.budget.Taken["daily"] != 15 || e.budget.Taken["burst"] != 2 {
		t.Errorf("budget taken %v, want 15 tokens and 2 requests", e.budget.Taken)
	}

	org := describe(t, e, "customer")
	if f := org["name"]; f.Type != qwoty.TypeText || !f.Writable || f.Custom {
		t.Errorf("organization name %+v", f)
	}
	if f := org[pdtest.FieldSegment]; f.Type != qwoty.TypePicklist || !f.Custom || !slices.Equal(f.Options, []string{"SMB", "Enterprise"}) {
		t.Errorf("segment %+v", f)
	}
	if f := org["address"]; f.Type != qwoty.TypeOther {
		t.Errorf("address %+v", f)
	}
	if _, err := pipedrive.NewAdapter(pipedrive.Options{}).Fields(context.Background(), e.s, e.budget, "product"); err == nil {
		t.Error("product fields were described")
	}
}

// The standard mappings fit Pipedrive's fields; a missing field, a
// read-only one, a type that cannot hold the value and a stage Pipedrive
// does not have are refused.
func TestMappingsAgainstPipedrive(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	a := pipedrive.NewAdapter(pipedrive.Options{})
	deal, org := describe(t, e, "deal"), describe(t, e, "customer")
	fields := map[string][]qwoty.CRMField{}
	for _, f := range deal {
		fields["deal"] = append(fields["deal"], f)
	}
	for _, f := range org {
		fields["customer"] = append(fields["customer"], f)
	}
	std := qwoty.StandardMappings(a.StandardField, map[qwoty.Status]string{qwoty.StatusAccepted: "won", qwoty.StatusRejected: "lost", qwoty.StatusSent: "stage:3"})
	var names []string
	for _, m := range std {
		names = append(names, m.QwotyField+"→"+m.CRMField)
		if err := qwoty.CheckMapping(m, fields[m.Object]); err != nil {
			t.Errorf("standard mapping %s → %s: %v", m.QwotyField, m.CRMField, err)
		}
	}
	if want := []string{"customer.name→name", "quote.total→value", "quote.status→stage_id"}; !slices.Equal(names, want) {
		t.Errorf("standard mappings %v, want %v (organizations have no email)", names, want)
	}
	m := func(q, f string) qwoty.Mapping {
		o := "deal"
		if strings.HasPrefix(q, "customer.") {
			o = "customer"
		}
		return qwoty.Mapping{QwotyField: q, Object: o, CRMField: f, Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	}
	if err := qwoty.CheckMapping(m("quote.number", pdtest.FieldQuoteNumber), fields["deal"]); err != nil {
		t.Errorf("quote number → a text field: %v", err)
	}
	if err := qwoty.CheckMapping(m("quote.total", pdtest.FieldQuotedTotal), fields["deal"]); err != nil {
		t.Errorf("total → a monetary field: %v", err)
	}
	status := std[2]
	status.ValueMap = map[string]string{string(qwoty.StatusSent): "stage:99"}
	for name, c := range map[string]struct {
		m    qwoty.Mapping
		want string
	}{
		"type mismatch": {m("quote.number", pdtest.FieldSeats), "cannot be written"},
		"read-only":     {m("quote.total", "weighted_value"), "read-only"},
		"set":           {m("quote.title", pdtest.FieldTags), "cannot be written"},
		"missing":       {m("quote.number", strings.Repeat("0", 40)), "has no field"},
		"no such stage": {status, "has no value"},
	} {
		if err := qwoty.CheckMapping(c.m, fields[c.m.Object]); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// A field deleted in Pipedrive breaks the mapping made on it.
	e.pd.DeleteField(company, pdtest.DealFields, pdtest.FieldQuoteNumber)
	var after []qwoty.CRMField
	for _, f := range describe(t, e, "deal") {
		after = append(after, f)
	}
	if why := qwoty.Recheck(m("quote.number", pdtest.FieldQuoteNumber), after); !strings.Contains(why, "no field") {
		t.Errorf("recheck after the field was deleted: %q", why)
	}
}

func TestPushMappedFields(t *testing.T) {
	e := newSyncEnv(t, pdtest.Options{})
	q := pquote("q1", line(1, "A-1", "A", "2", "600.25", "0"))
	d := dealOf(pdtest.DefaultDealID, q, "")
	d.Fields = map[string]string{pdtest.FieldQuoteNumber: "Q-0042", pdtest.FieldPlan: "Pro", pdtest.FieldQuotedTotal: "1200.50",
		pdtest.FieldValidUntil: "2026-12-31", pdtest.FieldSeats: "25", "stage_id": "stage:3"}
	e.pushOK(t, d)
	got := e.pd.DealCustomFields(company, pdtest.DefaultDealID)
	money, _ := got[pdtest.FieldQuotedTotal].(map[string]any)
	if got[pdtest.FieldQuoteNumber] != "Q-0042" || got[pdtest.FieldPlan] != json.Number("12") || got[pdtest.FieldValidUntil] != "2026-12-31" ||
		got[pdtest.FieldSeats] != json.Number("25") || money["value"] != json.Number("1200.5") || money["currency"] != "EUR" {
		t.Fatalf("custom fields %v", got)
	}
	if pd, _ := e.pd.Deal(company, pdtest.DefaultDealID); pd.StageID != 3 {
		t.Fatalf("stage %d, want 3", pd.StageID)
	}
	fieldReads := e.pd.TokensByRoute()["GET /api/v2/dealFields"]

	// An unchanged push writes nothing; "" clears a field.
	before := e.pd.APICalls("/api/v2/deals/3")
	e.pushOK(t, d)
	if n := e.pd.APICalls("/api/v2/deals/3"); n != before {
		t.Fatalf("an unchanged push updated the deal (%d calls)", n-before)
	}
	d.Fields[pdtest.FieldQuoteNumber] = ""
	e.pushOK(t, d)
	if _, ok := e.pd.DealCustomFields(company, pdtest.DefaultDealID)[pdtest.FieldQuoteNumber]; ok {
		t.Fatal("an empty value did not clear the field")
	}
	// The pushes that wrote read the deal fields once each; the unchanged
	// one did not read them.
	if n := e.pd.TokensByRoute()["GET /api/v2/dealFields"]; n != fieldReads*2 || fieldReads != 10 {
		t.Errorf("deal fields read for %d tokens after two writing pushes (first %d)", n, fieldReads)
	}

	// A value the field cannot take, or a field gone from Pipedrive, fails
	// that deal alone, before its update is sent.
	for name, f := range map[string]map[string]string{
		"no such option": {pdtest.FieldPlan: "Gold"},
		"not a number":   {pdtest.FieldSeats: "many"},
		"gone":           {strings.Repeat("ab", 20): "x"},
		"not writable":   {"weighted_value": "5"},
	} {
		d2 := dealOf(pdtest.DefaultDealID, q, "")
		d2.Fields = f
		before := e.pd.APICalls("/api/v2/deals/3")
		r := e.push(d2)
		if err := r.Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
		if e.pd.APICalls("/api/v2/deals/3") != before {
			t.Errorf("%s: the deal was updated", name)
		}
	}
}
