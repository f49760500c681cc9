package sftest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// What a deal's making meets: Accounts matched by name and website,
// Accounts and Opportunities upserted by their Qwoty Ref, the org's
// stages.

func TestAccountNameEqualityIgnoresCaseAndLikeFindsPatterns(t *testing.T) {
	r := newREST(t, sftest.Org{})
	add := func(fields map[string]any) string {
		id, err := r.srv.Insert(sftest.DefaultOrgID, "Account", fields)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	obrien := add(map[string]any{"Name": "O'Brien & Sons", "Website": "https://www.OBrien.example/about"})
	pct := add(map[string]any{"Name": "100% Cotton", "Website": "cotton_shop.example"})
	add(map[string]any{"Name": "Other", "Website": "cottonxshop.example"})

	if got := ids(r.query(`SELECT Id FROM Account WHERE Name = 'o\'brien & SONS'`)); len(got) != 1 || got[0] != obrien {
		t.Errorf("Name = (other case) found %v; want [%s]: SOQL's = ignores case but on a case-sensitive unique field", got, obrien)
	}
	cases := []struct {
		pattern string
		want    []string
	}{
		{`'%obrien.EXAMPLE%'`, []string{obrien}},
		{`'%cotton\_shop%'`, []string{pct}},    // \_ is an underscore, not any character
		{`'100\%%'`, []string{pct}},            // \% is a percent sign
		{`'%cotton_shop%'`, []string{pct, ""}}, // _ is any one character: both shops
		{`'obrien%'`, nil},                     // anchored at both ends
	}
	for _, c := range cases {
		field := "Website"
		if strings.HasPrefix(c.pattern, "'100") {
			field = "Name"
		}
		got := ids(r.query("SELECT Id FROM Account WHERE " + field + " LIKE " + c.pattern + " ORDER BY CreatedDate, Id"))
		if len(got) != len(c.want) || len(c.want) > 0 && got[0] != c.want[0] {
			t.Errorf("%s LIKE %s = %v; want %d record(s), first %v", field, c.pattern, got, len(c.want), c.want)
		}
	}
	// \% and \_ are escapes of LIKE only.
	if status, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape(`SELECT Id FROM Account WHERE Name = '100\%'`), nil); status != 400 ||
		!strings.Contains(toJSON(body), "MALFORMED_QUERY") {
		t.Errorf(`= '100\%%' answered %d %v; want 400 MALFORMED_QUERY`, status, body)
	}
	if status, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape(`SELECT Id FROM Opportunity WHERE Amount LIKE '1%'`), nil); status != 400 ||
		!strings.Contains(toJSON(body), "INVALID_FIELD") {
		t.Errorf("LIKE on a currency field answered %d %v; want 400 INVALID_FIELD", status, body)
	}
}

func TestAccountAndOpportunityUpsertByQwotyRef(t *testing.T) {
	r := newREST(t, sftest.Org{})
	path := api + "/sobjects/Account/Qwoty__Ref__c/qwoty-customer-1"
	status, body, _ := r.do("PATCH", path, map[string]any{"Name": "Globex", "Website": "globex.example"})
	if status != 201 {
		t.Fatalf("first upsert = %d %v, want 201", status, body)
	}
	account := body.(map[string]any)["id"].(string)
	if status, body, _ = r.do("PATCH", path, map[string]any{"Name": "Globex"}); status != 200 || body.(map[string]any)["id"] != account {
		t.Fatalf("second upsert = %d %v, want 200 on %s", status, body, account)
	}
	if n := r.srv.CountByRef(sftest.DefaultOrgID, "Account", "qwoty-customer-1"); n != 1 {
		t.Fatalf("%d accounts carry the ref; want 1", n)
	}
	// The ref is unique: a second record with it is refused.
	_, err := r.srv.Insert(sftest.DefaultOrgID, "Account", map[string]any{"Name": "Copy", "Qwoty__Ref__c": "qwoty-customer-1"})
	if msg, ok := sftest.IsDMLError(err, "DUPLICATE_VALUE"); !ok || !strings.Contains(msg, account) {
		t.Fatalf("a second account with the ref: %v; want DUPLICATE_VALUE naming %s", err, account)
	}
	status, body, _ = r.do("POST", api+"/sobjects/Account", map[string]any{"Name": "Copy", "Qwoty__Ref__c": "qwoty-customer-1"})
	if status != 400 || !strings.Contains(toJSON(body), `"errorCode":"DUPLICATE_VALUE"`) || !strings.Contains(toJSON(body), `"fields":["Qwoty__Ref__c"]`) {
		t.Fatalf("POST of a second account with the ref = %d %v; want 400 DUPLICATE_VALUE on Qwoty__Ref__c", status, body)
	}
	// The ref is case-sensitive: another case is another record.
	if got := r.query("SELECT Id FROM Account WHERE Qwoty__Ref__c = 'QWOTY-CUSTOMER-1'"); len(got) != 0 {
		t.Fatalf("the ref in another case found %v; want none", got)
	}

	// An Opportunity needs its name, stage and close date.
	opp := api + "/sobjects/Opportunity/Qwoty__Ref__c/qwoty-quote-1"
	status, body, _ = r.do("PATCH", opp, map[string]any{"Name": "Q-1", "AccountId": account})
	if status != 400 || !strings.Contains(toJSON(body), "REQUIRED_FIELD_MISSING") || !strings.Contains(toJSON(body), "StageName") ||
		!strings.Contains(toJSON(body), "CloseDate") {
		t.Fatalf("an opportunity without stage and close date = %d %v; want 400 REQUIRED_FIELD_MISSING naming both", status, body)
	}
	status, body, _ = r.do("PATCH", opp, map[string]any{"Name": "Q-1", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2026-12-31"})
	if status != 201 {
		t.Fatalf("opportunity upsert = %d %v, want 201", status, body)
	}
	if got := r.query("SELECT Id, AccountId, CreatedDate FROM Opportunity WHERE Qwoty__Ref__c = 'qwoty-quote-1'"); len(got) != 1 ||
		got[0].(map[string]any)["AccountId"] != account || got[0].(map[string]any)["CreatedDate"] == nil {
		t.Fatalf("the opportunity by its ref: %v; want one, on %s, with its CreatedDate", got, account)
	}
}

// An org whose package predates deals has no Qwoty Ref on Account and
// Opportunity: queries naming it and upserts by it are refused.
func TestPackageWithoutDealFields(t *testing.T) {
	r := newREST(t, sftest.Org{NoDealFields: true})
	status, body, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Account WHERE Qwoty__Ref__c = 'x'"), nil)
	if status != 400 || !strings.Contains(toJSON(body), "INVALID_FIELD") || !strings.Contains(toJSON(body), "Qwoty__Ref__c") {
		t.Errorf("query by the missing ref = %d %v; want 400 INVALID_FIELD naming it", status, body)
	}
	status, body, _ = r.do("PATCH", api+"/sobjects/Opportunity/Qwoty__Ref__c/x", map[string]any{"Name": "x"})
	if status != 404 || !strings.Contains(toJSON(body), "NOT_FOUND") || !strings.Contains(toJSON(body), "Qwoty__Ref__c") {
		t.Errorf("upsert by the missing ref = %d %v; want 404 NOT_FOUND naming it", status, body)
	}
	// Sync's own fields are still there.
	r.query("SELECT Id FROM OpportunityLineItem WHERE Qwoty__Ref__c = 'x'")
}

func TestOpportunityStages(t *testing.T) {
	r := newREST(t, sftest.Org{})
	first := func() string {
		rows := r.query("SELECT ApiName FROM OpportunityStage WHERE IsActive = true AND IsClosed = false ORDER BY SortOrder LIMIT 1")
		if len(rows) != 1 {
			t.Fatalf("%d open stages", len(rows))
		}
		return rows[0].(map[string]any)["ApiName"].(string)
	}
	if got := first(); got != "Prospecting" {
		t.Fatalf("first open stage = %q; want Prospecting", got)
	}
	if got := r.query("SELECT ApiName FROM OpportunityStage WHERE IsClosed = true AND IsWon = true"); len(got) != 1 ||
		got[0].(map[string]any)["ApiName"] != "Closed Won" {
		t.Fatalf("won stages: %v; want Closed Won", got)
	}
	r.srv.SetStageActive(sftest.DefaultOrgID, "Prospecting", false)
	if got := first(); got != "Qualification" {
		t.Fatalf("first open stage once Prospecting is inactive = %q; want Qualification", got)
	}
	_, err := r.srv.Insert(sftest.DefaultOrgID, "Opportunity", map[string]any{"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-12-31"})
	if _, ok := sftest.IsDMLError(err, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"); !ok {
		t.Fatalf("a new opportunity in an inactive stage: %v; want INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", err)
	}
}
