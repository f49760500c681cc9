package sftest_test

import (
	"testing"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// describeField returns the describe of one field, nil when it is absent.
func (r *rest) describeField(object, name string) map[string]any {
	r.t.Helper()
	status, v, _ := r.do("GET", api+"/sobjects/"+object+"/describe", nil)
	if status != 200 {
		r.t.Fatalf("describe %s: %d %v", object, status, v)
	}
	for _, f := range v.(map[string]any)["fields"].([]any) {
		if m := f.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

func TestDescribeListsStandardAndCustomFields(t *testing.T) {
	r := newREST(t, sftest.Org{})
	stage := r.describeField("Opportunity", "StageName")
	if stage == nil || stage["type"] != "picklist" || stage["updateable"] != true || stage["custom"] != false {
		t.Fatalf("StageName: %v", stage)
	}
	if n := len(stage["picklistValues"].([]any)); n != 10 {
		t.Fatalf("StageName has %d values, want the default sales process's 10", n)
	}
	margin := r.describeField("Opportunity", "Margin__c")
	if margin == nil || margin["calculated"] != true || margin["updateable"] != false || margin["custom"] != true || margin["type"] != "percent" {
		t.Fatalf("Margin__c: %v", margin)
	}
	region := r.describeField("Opportunity", "Region__c")
	var inactive []string
	for _, v := range region["picklistValues"].([]any) {
		if m := v.(map[string]any); m["active"] == false {
			inactive = append(inactive, m["value"].(string))
		}
	}
	if len(inactive) != 1 || inactive[0] != "LATAM" {
		t.Fatalf("Region__c inactive values: %v", inactive)
	}
	if f := r.describeField("Account", "Billing_Email__c"); f == nil || f["type"] != "email" {
		t.Fatalf("Account.Billing_Email__c: %v", f)
	}
	if status, _, _ := r.do("GET", api+"/sobjects/Nope__c/describe", nil); status != 404 {
		t.Fatalf("describe of an unknown object: %d", status)
	}
}

func TestAddAndRemoveCustomField(t *testing.T) {
	r := newREST(t, sftest.Org{})
	id := r.opportunity(nil)
	if err := r.srv.AddField(sftest.DefaultOrgID, "Opportunity", sftest.CustomField{Name: "Deal_Size__c", Type: "int"}); err != nil {
		t.Fatal(err)
	}
	if f := r.describeField("Opportunity", "Deal_Size__c"); f == nil || f["type"] != "int" || f["updateable"] != true {
		t.Fatalf("added field: %v", f)
	}
	if status, v, _ := r.do("PATCH", api+"/sobjects/Opportunity/"+id, map[string]any{"Deal_Size__c": 12}); status != 204 {
		t.Fatalf("update of the added field: %d %v", status, v)
	}
	if got := r.srv.Record(sftest.DefaultOrgID, "Opportunity", id).Decimal("Deal_Size__c"); got.IntPart() != 12 {
		t.Fatalf("Deal_Size__c = %s", got)
	}
	if err := r.srv.RemoveField(sftest.DefaultOrgID, "Opportunity", "Deal_Size__c"); err != nil {
		t.Fatal(err)
	}
	if f := r.describeField("Opportunity", "Deal_Size__c"); f != nil {
		t.Fatalf("removed field still described: %v", f)
	}
	if err := r.srv.RemoveField(sftest.DefaultOrgID, "Opportunity", "StageName"); err == nil {
		t.Fatal("a standard field was deleted")
	}
	status, v, _ := r.do("PATCH", api+"/sobjects/Opportunity/"+id, map[string]any{"Deal_Size__c": 13})
	if status != 400 || errorCode(v) != "INVALID_FIELD" {
		t.Fatalf("update of a removed field: %d %v", status, v)
	}
}

func TestUpdateOfAFormulaFieldIsRefused(t *testing.T) {
	r := newREST(t, sftest.Org{})
	id := r.opportunity(nil)
	status, v, _ := r.do("PATCH", api+"/sobjects/Opportunity/"+id, map[string]any{"Margin__c": 12})
	if status != 400 || errorCode(v) != "INVALID_FIELD_FOR_INSERT_UPDATE" {
		t.Fatalf("update of a formula: %d %v", status, v)
	}
	status, v, _ = r.do("PATCH", api+"/sobjects/Opportunity/"+id, map[string]any{"Region__c": "LATAM"})
	if status != 400 || errorCode(v) != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" {
		t.Fatalf("an inactive picklist value: %d %v", status, v)
	}
}

// errorCode is the first error's code of a REST error answer.
func errorCode(v any) string {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return ""
	}
	c, _ := list[0].(map[string]any)["errorCode"].(string)
	return c
}
