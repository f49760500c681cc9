package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
)

// The describe of opportunities and accounts for field mappings, and the
// push of mapped fields, against the emulator's describe and DML rules.

// describer is an adapter on e's emulator, as crm.Describer.
func (e *syncEnv) describer() crm.Describer {
	return salesforce.NewAdapter(salesforce.Options{ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
		RedirectURL: sftest.DefaultCallbackURL, LoginURL: e.emu.URL, HTTP: &http.Client{Transport: hook{e}}})
}

func (e *syncEnv) fields(object string) map[string]qwoty.CRMField {
	e.t.Helper()
	fs, err := e.describer().Fields(context.Background(), e.sess, e.budget, object)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]qwoty.CRMField{}
	for _, f := range fs {
		out[f.Name] = f
	}
	return out
}

func TestDescribeTranslatesOpportunityFields(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	// The package's own field on an opportunity (Qwoty__Ref__c, of the
	// version that makes deals) is sync's, never mapped.
	taken := e.budget.Taken["daily"]
	fs := e.fields("deal")
	if got := e.budget.Taken["daily"] - taken; got != 1 {
		t.Errorf("the describe took %v from the daily budget; want 1", got)
	}
	want := map[string]qwoty.CRMField{
		"Name":                    {Type: qwoty.TypeText, Writable: true},
		"Amount":                  {Type: qwoty.TypeCurrency, Writable: true},
		"CloseDate":               {Type: qwoty.TypeDate, Writable: true},
		"AccountId":               {Type: qwoty.TypeOther, Writable: true},
		"Id":                      {Type: qwoty.TypeOther},
		"HasOpportunityLineItem":  {Type: qwoty.TypeBoolean},
		"SystemModstamp":          {Type: qwoty.TypeDateTime},
		"Quote_Number__c":         {Type: qwoty.TypeText, Writable: true, Custom: true},
		"Valid_Until__c":          {Type: qwoty.TypeDate, Writable: true, Custom: true},
		"Discount_Approved__c":    {Type: qwoty.TypeBoolean, Writable: true, Custom: true},
		"Win_Score__c":            {Type: qwoty.TypeNumber, Writable: true, Custom: true},
		"Contract_Value__c":       {Type: qwoty.TypeCurrency, Writable: true, Custom: true},
		"Products_Of_Interest__c": {Type: qwoty.TypeOther, Writable: true, Custom: true},
		// A formula keeps its type and is read-only: it may be pulled,
		// never pushed.
		"Margin__c": {Type: qwoty.TypeNumber, Custom: true},
	}
	for name, w := range want {
		f, ok := fs[name]
		if !ok {
			t.Errorf("no field %s", name)
			continue
		}
		if f.Type != w.Type || f.Writable != w.Writable || f.Custom != w.Custom {
			t.Errorf("%s = %s writable %v custom %v; want %s writable %v custom %v", name, f.Type, f.Writable, f.Custom, w.Type, w.Writable, w.Custom)
		}
	}
	if _, ok := fs["Qwoty__Ref__c"]; ok {
		t.Error("sync's own Qwoty__Ref__c is offered for mapping")
	}
	stage := fs["StageName"]
	if stage.Type != qwoty.TypePicklist || len(stage.Options) != 10 || !slices.Contains(stage.Options, "Closed Won") {
		t.Errorf("StageName = %+v; want a picklist of the sales process's 10 stages", stage)
	}
	if got := fs["Region__c"].Options; !slices.Equal(got, []string{"EMEA", "Americas", "APAC"}) {
		t.Errorf("Region__c options %v; want the active values only", got)
	}
	if fs["Margin__c"].Label != "Margin" {
		t.Errorf("label %q", fs["Margin__c"].Label)
	}
}

func TestDescribeAccountAndStandardFields(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	fs := e.fields("customer")
	if f := fs["Name"]; f.Type != qwoty.TypeText || !f.Writable {
		t.Errorf("Account.Name = %+v", f)
	}
	if f := fs["Billing_Email__c"]; f.Type != qwoty.TypeEmail || !f.Custom {
		t.Errorf("Account.Billing_Email__c = %+v", f)
	}
	if _, ok := fs["Email"]; ok {
		t.Error("an Account has no standard Email field")
	}
	d := e.describer()
	for key, want := range map[string]string{"customer.name": "Name", "customer.email": "", "quote.total": "Amount",
		"quote.status": "StageName", "quote.created": ""} {
		if got := d.StandardField(key); got != want {
			t.Errorf("StandardField(%s) = %q; want %q", key, got, want)
		}
	}
	if _, err := d.Fields(context.Background(), e.sess, e.budget, "contact"); err == nil {
		t.Error("an object that is not mapped was described")
	}
}

// The standard mappings pass the check against the org's describe; a
// missing field, a type that cannot hold the value, a read-only field and
// a stage the picklist lacks are refused.
func TestMappingsCheckedAgainstTheDescribe(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	d := e.describer()
	objects := map[string][]qwoty.CRMField{}
	for _, o := range []string{"deal", "customer"} {
		fs, err := d.Fields(context.Background(), e.sess, e.budget, o)
		if err != nil {
			t.Fatal(err)
		}
		objects[o] = fs
	}
	stages := salesforce.NewAdapter(salesforce.Options{}).Sync().DefaultStages()
	std := qwoty.StandardMappings(d.StandardField, stages)
	if len(std) != 3 {
		t.Fatalf("%d standard mappings; want name, total and status (no account email, no created date)", len(std))
	}
	for _, m := range std {
		if err := qwoty.CheckMapping(m, objects[m.Object]); err != nil {
			t.Errorf("standard mapping %s → %s: %v", m.QwotyField, m.CRMField, err)
		}
	}
	push := func(key, field string) qwoty.Mapping {
		q, _ := qwoty.QwotyFieldByKey(key)
		return qwoty.Mapping{QwotyField: key, Object: q.Object, CRMField: field, Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	}
	ok := []qwoty.Mapping{push("quote.number", "Quote_Number__c"), push("quote.created", "Valid_Until__c"),
		push("quote.total", "Contract_Value__c"), push("quote.total", "Win_Score__c"), push("customer.email", "Billing_Email__c")}
	for _, m := range ok {
		if err := qwoty.CheckMapping(m, objects[m.Object]); err != nil {
			t.Errorf("%s → %s refused: %v", m.QwotyField, m.CRMField, err)
		}
	}
	status := push("quote.status", "StageName")
	status.ValueMap = map[string]string{"accepted": "Won"}
	bad := map[string]qwoty.Mapping{
		"no field":  push("quote.number", "Gone__c"),
		"has no":    status,
		"read-only": push("quote.total", "Margin__c"),
		"cannot be": push("quote.created", "Win_Score__c"),
	}
	for why, m := range bad {
		err := qwoty.CheckMapping(m, objects[m.Object])
		var qe *qwoty.Error
		if !errors.As(err, &qe) || !strings.Contains(qe.Message, why) {
			t.Errorf("%s → %s: %v; want refused (%q)", m.QwotyField, m.CRMField, err, why)
		}
	}
	// A field deleted in Salesforce breaks its mapping on the next check.
	if err := e.emu.RemoveField(org, "Opportunity", "Quote_Number__c"); err != nil {
		t.Fatal(err)
	}
	fs, err := d.Fields(context.Background(), e.sess, e.budget, "deal")
	if err != nil {
		t.Fatal(err)
	}
	if why := qwoty.Recheck(push("quote.number", "Quote_Number__c"), fs); !strings.Contains(why, "no field") {
		t.Errorf("recheck after the field's deletion: %q", why)
	}
}

// Mapped fields go on the opportunity with the deal's update, converted
// to the fields' JSON types; "" clears a field; unchanged values are not
// written again; a value Salesforce refuses fails the deal with its words.
func TestMappedFieldsArePushed(t *testing.T) {
	e := newSyncEnv(t, sftest.Org{})
	opp := e.opportunity("Acme - mapped")
	d := deal(opp, "Proposal/Price Quote", 0, quote("q1", qwoty.StatusSent))
	d.Fields = map[string]string{"Quote_Number__c": "Q-0042", "Valid_Until__c": "2027-01-31", "Discount_Approved__c": "true",
		"Win_Score__c": "87.5", "Region__c": "EMEA", "Amount": "999"}
	r := e.pushOK(d)
	o := e.emu.Record(org, "Opportunity", opp)
	if o.String("Quote_Number__c") != "Q-0042" || o.String("Valid_Until__c") != "2027-01-31" || !o.Bool("Discount_Approved__c") ||
		!o.Decimal("Win_Score__c").Equal(dec("87.5")) || o.String("Region__c") != "EMEA" {
		t.Fatalf("opportunity %v; want the mapped values", o)
	}
	if !o.Decimal("Amount").Equal(dec("0")) {
		t.Errorf("Amount %s: a mapping onto Amount is sync's own rule (the primary quote's total), not the mapped text", o.Decimal("Amount"))
	}
	if !strings.Contains(actions(r.Outcomes[0].Written), "Opportunity:updated") {
		t.Errorf("written %s", actions(r.Outcomes[0].Written))
	}
	if again := e.pushOK(d); len(again.Outcomes[0].Written) != 0 {
		t.Errorf("unchanged mapped values written again: %s", actions(again.Outcomes[0].Written))
	}

	d.Fields["Quote_Number__c"] = ""
	d.Fields["Discount_Approved__c"] = "false"
	e.pushOK(d)
	o = e.emu.Record(org, "Opportunity", opp)
	if o["Quote_Number__c"] != nil || o.Bool("Discount_Approved__c") {
		t.Errorf("opportunity %v; want Quote_Number__c cleared and the checkbox off", o)
	}

	d.Fields = map[string]string{"Win_Score__c": "high"}
	if err := e.push(d).Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("a number field given %q: %v; want rejected", "high", err)
	}
	d.Fields = map[string]string{"Margin__c": "12"}
	if err := e.push(d).Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "INVALID_FIELD_FOR_INSERT_UPDATE") {
		t.Errorf("a formula field pushed: %v; want Salesforce's refusal", err)
	}
	if err := e.emu.RemoveField(org, "Opportunity", "Region__c"); err != nil {
		t.Fatal(err)
	}
	d.Fields = map[string]string{"Region__c": "APAC"}
	if err := e.push(d).Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "INVALID_FIELD") {
		t.Errorf("a deleted field pushed: %v; want Salesforce's refusal", err)
	}
}
