package sftest

import (
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Deals made by Qwoty (docs/sync-salesforce.md, "Deals made from Qwoty"):
// what the emulator holds for an integration that finds or makes an
// Account and makes an Opportunity on it.
//
//   - Account.Website (url, 255; assumed) and Name are matched by SOQL:
//     = on Name ignores case (SOQL reference, "Comparison Operators"),
//     LIKE '%domain%' on Website too (assumed: LIKE filters a URL field as
//     text and ignores case as = does; data_soql.go).
//   - Account and Opportunity carry the package's Qwoty__Ref__c, of the
//     package version that makes deals (Org.NoDealFields hides it: a
//     query naming it is refused with INVALID_FIELD, an upsert by it with
//     404 NOT_FOUND). It is an External ID, unique and case-sensitive, as
//     every Qwoty Ref: a second record with a value is refused with
//     DUPLICATE_VALUE, and an upsert by it updates the one record it
//     names.
//   - Opportunity needs Name, StageName (a value of the stage picklist)
//     and CloseDate (REQUIRED_FIELD_MISSING otherwise).
//   - OpportunityStage lists the stage picklist's values with what they
//     mean (object reference, OpportunityStage): read-only, a new org's
//     default sales process in its order. A stage's ApiName is the value
//     StageName takes, and an inactive stage is refused on a new
//     opportunity as a restricted picklist's unknown value (both
//     assumed).
//   - CreatedDate is set on insert; several matches are ordered by it.

// dealRefField is Account's and Opportunity's Qwoty__Ref__c: a Qwoty Ref
// as refField, of the package version that makes deals.
func dealRefField() *field {
	f := refField()
	f.Deals = true
	return f
}

// createdDate is a record's CreatedDate, set when it is inserted.
func createdDate() *field { return readOnly(&field{Name: "CreatedDate", Type: tDateTime}) }

func init() {
	o := &object{Name: "OpportunityStage", Label: "Opportunity Stage", Prefix: "01J", fields: []*field{
		idField(), readOnly(text("ApiName", 255, false, false, false)), readOnly(text("MasterLabel", 255, false, false, false)),
		readOnly(flag("IsActive", false, false)), readOnly(flag("IsClosed", false, false)), readOnly(flag("IsWon", false, false)),
		readOnly(&field{Name: "SortOrder", Type: tInt}), readOnly(&field{Name: "DefaultProbability", Type: tPercent}),
	}}
	o.fields = append(o.fields, readOnly(&field{Name: "SystemModstamp", Type: tDateTime}),
		readOnly(&field{Name: "LastModifiedById", Type: tRef, Ref: "User"}), readOnly(flag("IsDeleted", false, false)))
	schema[strings.ToLower(o.Name)] = o
}

// stageProbabilities are the default sales process's probabilities, by
// stage, in opportunityStages' order.
var stageProbabilities = []int64{10, 10, 20, 50, 60, 70, 75, 90, 100, 0}

// seedStages gives a new org its OpportunityStage records: the values of
// the stage picklist, active, "Closed Won" and "Closed Lost" closed.
func (d *orgDB) seedStages() {
	o := lookupObject("OpportunityStage")
	for i, name := range opportunityStages {
		id := d.data.newID(o)
		closed := strings.HasPrefix(name, "Closed ")
		rec := Record{"Id": id, "ApiName": name, "MasterLabel": name, "IsActive": true, "IsClosed": closed,
			"IsWon": name == "Closed Won", "SortOrder": decimal.NewFromInt(int64(i + 1)),
			"DefaultProbability": decimal.NewFromInt(stageProbabilities[i]), "IsDeleted": false}
		d.stamp(rec)
		d.data.table(o)[id] = rec
	}
}

// SetStageActive turns a stage of the org's sales process on or off, as
// an admin does in Setup (Opportunity → Fields → Stage): an inactive
// stage stays on the records that have it.
func (s *Server) SetStageActive(orgID, stage string, active bool) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	tx := d.data.clone()
	for _, r := range tx.all(lookupObject("OpportunityStage")) {
		if r.String("ApiName") == stage {
			r["IsActive"] = active
			d.stamp(r)
		}
	}
	d.data = tx
}

// activeStages are the stages a new opportunity may take.
func (t *tables) activeStages() []string {
	var out []string
	for _, r := range t.all(lookupObject("OpportunityStage")) {
		if r.Bool("IsActive") {
			out = append(out, r.String("ApiName"))
		}
	}
	return out
}

// stageRule refuses a stage that is not an active one of the org's (a
// restricted picklist's inactive value cannot be set).
func (t *tables) stageRule(old, rec Record) *dmlError {
	stage := rec.String("StageName")
	if stage == "" || old != nil && old.String("StageName") == stage || slices.Contains(t.activeStages(), stage) {
		return nil
	}
	return dmlErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Stage: bad value for restricted picklist field: "+stage, "StageName")
}
