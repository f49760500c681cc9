package hubspot_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
)

// customDealProperties are an admin's custom deal properties: one of each
// kind a mapping meets.
var customDealProperties = []hstest.Property{
	{Name: "quote_number", Label: "Quote number", Type: "string", FieldType: "text", GroupName: "dealinformation"},
	{Name: "quote_created", Label: "Quote created", Type: "date", FieldType: "date", GroupName: "dealinformation"},
	{Name: "quote_total", Label: "Quote total", Type: "number", FieldType: "number", GroupName: "dealinformation", ShowCurrencySymbol: true},
	{Name: "seats", Label: "Seats", Type: "number", FieldType: "number", GroupName: "dealinformation"},
	{Name: "quote_state", Label: "Quote state", Type: "enumeration", FieldType: "radio", GroupName: "dealinformation",
		Options: []hstest.PropertyOption{{Label: "Open", Value: "open"}, {Label: "Won", Value: "won"}}},
	{Name: "modules", Label: "Modules", Type: "enumeration", FieldType: "checkbox", GroupName: "dealinformation",
		Options: []hstest.PropertyOption{{Label: "A", Value: "a"}, {Label: "B", Value: "b"}}},
	{Name: "contract_url", Label: "Contract", Type: "string", FieldType: "file", GroupName: "dealinformation"},
	{Name: "old_field", Label: "Old field", Type: "string", FieldType: "text", GroupName: "dealinformation"},
	{Name: "secret_field", Label: "Hidden", Type: "string", FieldType: "text", GroupName: "dealinformation", Hidden: true},
}

func withCustomProperties(t *testing.T) *syncEnv {
	e := newSyncEnv(t, hstest.Options{})
	for _, p := range customDealProperties {
		e.hs.PutProperty(hstest.DefaultPortalID, "deals", p)
	}
	if !e.hs.ArchiveProperty(hstest.DefaultPortalID, "deals", "old_field") {
		t.Fatal("no old_field to archive")
	}
	return e
}

func (e *syncEnv) fields(object string) map[string]qwoty.CRMField {
	e.t.Helper()
	fs, err := e.a.Fields(context.Background(), hubspotSession(e), e.budget, object)
	if err != nil {
		e.t.Fatalf("Fields(%s): %v", object, err)
	}
	out := map[string]qwoty.CRMField{}
	for _, f := range fs {
		out[f.Name] = f
	}
	return out
}

// Fields lists the deals' properties in one call, HubSpot's types
// translated: an archived or hidden property left out, a calculated or
// system one read-only, the stage a picklist of the pipeline's stages.
func TestFieldsOfDeals(t *testing.T) {
	e := withCustomProperties(t)
	fs := e.fields("deal")
	if n := e.hs.PropertyCalls("deals"); n != 1 {
		t.Errorf("%d property reads, want 1", n)
	}
	for name, want := range map[string]qwoty.CRMField{
		"dealname":           {Type: qwoty.TypeText, Writable: true},
		"description":        {Type: qwoty.TypeText, Writable: true},
		"amount":             {Type: qwoty.TypeCurrency, Writable: true},
		"closedate":          {Type: qwoty.TypeDateTime, Writable: true},
		"dealstage":          {Type: qwoty.TypePicklist, Writable: true, Options: hstest.DealStages},
		"hs_forecast_amount": {Type: qwoty.TypeCurrency},
		"createdate":         {Type: qwoty.TypeDateTime},
		"quote_number":       {Type: qwoty.TypeText, Writable: true, Custom: true},
		"quote_created":      {Type: qwoty.TypeDate, Writable: true, Custom: true},
		"quote_total":        {Type: qwoty.TypeCurrency, Writable: true, Custom: true},
		"seats":              {Type: qwoty.TypeNumber, Writable: true, Custom: true},
		"quote_state":        {Type: qwoty.TypePicklist, Writable: true, Custom: true, Options: []string{"open", "won"}},
		"modules":            {Type: qwoty.TypeOther, Writable: true, Custom: true},
		"contract_url":       {Type: qwoty.TypeOther, Writable: true, Custom: true},
	} {
		got, ok := fs[name]
		if !ok {
			t.Errorf("%s not listed", name)
			continue
		}
		if got.Type != want.Type || got.Writable != want.Writable || got.Custom != want.Custom || !slices.Equal(got.Options, want.Options) || got.Label == "" {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	for _, name := range []string{"old_field", "secret_field"} {
		if _, ok := fs[name]; ok {
			t.Errorf("%s listed; archived and hidden properties are left out", name)
		}
	}
}

func TestFieldsOfCompanies(t *testing.T) {
	e := newSyncEnv(t, hstest.Options{})
	fs := e.fields("customer")
	for name, want := range map[string]qwoty.FieldType{
		"name": qwoty.TypeText, "phone": qwoty.TypeText, "annualrevenue": qwoty.TypeCurrency,
		"industry": qwoty.TypePicklist, "hs_is_target_account": qwoty.TypeBoolean,
	} {
		if f := fs[name]; f.Type != want || !f.Writable || f.Custom {
			t.Errorf("%s = %+v, want a writable HubSpot %s", name, f, want)
		}
	}
	if _, ok := fs["hs_analytics_source_data_1"]; ok {
		t.Error("a hidden company property is listed")
	}
	if n := e.hs.PropertyCalls("companies"); n != 1 {
		t.Errorf("%d property reads, want 1", n)
	}
	if _, err := e.a.Fields(context.Background(), hubspotSession(e), e.budget, "contact"); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Errorf("Fields(contact): %v, want validation", err)
	}
}

// A connection made before mappings lacks the schema read scopes: Fields
// asks for a reconnection without calling HubSpot.
func TestFieldsWithoutTheirScopes(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(hubspot.DefaultScopes), func(s string) bool { return slices.Contains(hubspot.MappingScopes, s) })
	e := newSyncEnv(t, hstest.Options{App: hstest.App{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
		RequiredScopes: scopes}}, scopes...)
	_, err := e.a.Fields(context.Background(), hubspotSession(e), e.budget, "deal")
	if qwoty.ErrorCode(err) != qwoty.CodeSyncReconnect || !strings.Contains(err.Error(), "crm.schemas.deals.read") {
		t.Errorf("Fields: %v, want sync_reconnect naming the scope", err)
	}
	if n := e.hs.PropertyCalls("deals"); n != 0 {
		t.Errorf("%d property reads, want none", n)
	}
}

// The standard mappings pass against the emulator's real properties;
// custom ones are refused for a missing property, a type that cannot carry
// the value, a read-only property, a stage the pipeline lacks; a property
// archived later breaks its mapping.
func TestMappingsCheckedAgainstHubSpot(t *testing.T) {
	e := withCustomProperties(t)
	deal, customer := e.fields("deal"), e.fields("customer")
	list := func(m map[string]qwoty.CRMField) []qwoty.CRMField { return slices.Collect(maps.Values(m)) }
	fieldsOf := map[string][]qwoty.CRMField{"deal": list(deal), "customer": list(customer)}
	std := qwoty.StandardMappings(e.a.StandardField, e.sy.DefaultStages())
	var names []string
	for _, m := range std {
		names = append(names, m.QwotyField+"→"+m.CRMField)
		if err := qwoty.CheckMapping(m, fieldsOf[m.Object]); err != nil {
			t.Errorf("standard mapping %s → %s: %v", m.QwotyField, m.CRMField, err)
		}
	}
	if want := []string{"customer.name→name", "quote.total→amount", "quote.status→dealstage"}; !slices.Equal(names, want) {
		t.Errorf("standard mappings %v, want %v (no company email, no standard created date)", names, want)
	}
	push := func(key, field string) qwoty.Mapping {
		q, _ := qwoty.QwotyFieldByKey(key)
		return qwoty.Mapping{QwotyField: key, Object: q.Object, CRMField: field, Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	}
	for _, m := range []qwoty.Mapping{push("quote.created", "quote_created"), push("quote.number", "quote_number"),
		push("quote.total", "quote_total"), push("quote.created", "closedate")} {
		if err := qwoty.CheckMapping(m, fieldsOf["deal"]); err != nil {
			t.Errorf("%s → %s: %v", m.QwotyField, m.CRMField, err)
		}
	}
	badStage := std[2]
	badStage.ValueMap = map[string]string{string(qwoty.StatusAccepted): "negotiation"}
	for name, c := range map[string]struct {
		m    qwoty.Mapping
		want string
	}{
		"missing":      {push("quote.number", "no_such_property"), "has no field"},
		"archived":     {push("quote.number", "old_field"), "has no field"},
		"type":         {push("quote.created", "quote_number"), "cannot be written"},
		"text to date": {push("quote.number", "quote_created"), "cannot be written"},
		"read-only":    {push("quote.total", "hs_forecast_amount"), "read-only"},
		"multi-select": {push("quote.title", "modules"), "cannot be written"},
		"stage":        {badStage, "no value"},
	} {
		err := qwoty.CheckMapping(c.m, fieldsOf["deal"])
		if qwoty.ErrorCode(err) != qwoty.CodeValidation || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a validation error saying %q", name, err, c.want)
		}
	}

	e.hs.ArchiveProperty(hstest.DefaultPortalID, "deals", "quote_created")
	if why := qwoty.Recheck(push("quote.created", "quote_created"), list(e.fields("deal"))); !strings.Contains(why, "quote_created") {
		t.Errorf("recheck after the property was archived: %q, want it named", why)
	}
}

// The mapped fields go with the deal's update: a date as midnight UTC
// milliseconds, "" clearing; HubSpot refuses a property it does not have
// or a read-only one, failing that deal with its words.
func TestMappedFieldsPushed(t *testing.T) {
	e := withCustomProperties(t)
	id := e.deal(1)
	d := e.dealOf(id, quote("q1", qwoty.StatusSent, line("l1", "A", "Alpha", "1", "100", "0")))
	d.Fields = map[string]string{"quote_number": "Q-0042", "quote_created": "2026-11-29", "quote_state": "open", "dealname": "Renewal 2027"}
	r := e.pushOK(d)
	if r.Calls != 3 {
		t.Errorf("%d calls, want 3: the fields go with the deal's own update", r.Calls)
	}
	got := e.dealProps(id)
	// 2026-11-29T00:00:00Z.
	if got["quote_number"] != "Q-0042" || got["quote_created"] != "1795910400000" || got["quote_state"] != "open" ||
		got["dealname"] != "Renewal 2027" || got["amount"] != "100" || got["dealstage"] != "contractsent" {
		t.Errorf("deal = %v", got)
	}

	d.Fields = map[string]string{"quote_number": "", "quote_created": "2026-12-01", "quote_state": "won", "dealname": "Renewal 2027"}
	e.pushOK(d)
	if got := e.dealProps(id); got["quote_number"] != "" || got["quote_created"] != "1796083200000" || got["quote_state"] != "won" {
		t.Errorf("after the second push: %v, want quote_number cleared", got)
	}

	for field, want := range map[string]string{"old_field": "does not exist", "hs_forecast_amount": "read only"} {
		bad := d
		bad.Fields = map[string]string{field: "1"}
		r := e.push(bad)
		if err := r.Outcomes[0].Err; !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), want) {
			t.Errorf("mapped %s: %v, want rejected with %q", field, err, want)
		}
	}
}
