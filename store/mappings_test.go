package store_test

import (
	"errors"
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Mappings are kept per connection: the preset is given once, a CRM field
// is mapped once, another workspace's connection sees none of them, and a
// standard mapping can be changed but not removed.
func TestMappingsScopedAndPreset(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	preset := qwoty.StandardMappings(func(k string) string {
		return map[string]string{"customer.name": "Name", "quote.total": "Amount", "quote.status": "StageName"}[k]
	}, map[qwoty.Status]string{qwoty.StatusAccepted: "Closed Won"})
	for range 2 {
		if err := db.PresetMappings(ctx, a.WorkspaceID, a.ID, preset); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := db.Mappings(ctx, a.WorkspaceID, a.ID)
	if err != nil || len(ms) != 3 || ms[2].ValueMap["accepted"] != "Closed Won" {
		t.Fatalf("preset twice: %+v, %v", ms, err)
	}
	custom := qwoty.Mapping{QwotyField: "quote.number", Object: "deal", CRMField: "Quote_Number__c", Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	saved, err := db.SaveMapping(ctx, a.WorkspaceID, a.ID, custom)
	if err != nil || saved.ID == "" {
		t.Fatalf("save: %+v, %v", saved, err)
	}
	if _, err := db.SaveMapping(ctx, a.WorkspaceID, a.ID, custom); qwoty.ErrorCode(err) != qwoty.CodeValidation {
		t.Fatalf("the same CRM field twice: %v", err)
	}
	// Another workspace can neither see nor change nor delete it.
	if ms, _ := db.Mappings(ctx, b.WorkspaceID, a.ID); len(ms) != 0 {
		t.Fatalf("workspace B sees A's mappings: %+v", ms)
	}
	saved.Policy = qwoty.Manual
	if _, err := db.SaveMapping(ctx, b.WorkspaceID, a.ID, saved); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("B changes A's mapping: %v", err)
	}
	if err := db.DeleteMapping(ctx, b.WorkspaceID, a.ID, saved.ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("B deletes A's mapping: %v", err)
	}
	if err := db.DeleteMapping(ctx, a.WorkspaceID, a.ID, ms[0].ID); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("a standard mapping deleted: %v", err)
	}
	if err := db.DeleteMapping(ctx, a.WorkspaceID, a.ID, saved.ID); err != nil {
		t.Fatal(err)
	}
}

// A manual conflict waits with both values; the same record and mapping
// keep one open conflict; the admin's pick resolves it once.
func TestConflictsOpenAndResolve(t *testing.T) {
	db := storetest.New(t)
	a := addOrg(t, db, "A", "00D00000000000AAAA")
	b := addOrg(t, db, "B", "00D00000000000BBBB")
	m, err := db.SaveMapping(ctx, a.WorkspaceID, a.ID, qwoty.Mapping{QwotyField: "quote.title", Object: "deal", CRMField: "Name",
		Direction: qwoty.BothWays, Policy: qwoty.Manual})
	if err != nil {
		t.Fatal(err)
	}
	c := struct{ first, second string }{}
	for i, v := range []string{"CRM title 1", "CRM title 2"} {
		id, err := db.OpenConflict(ctx, a.WorkspaceID, a.ID, storeConflict(m.ID, v))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.first = id
		} else {
			c.second = id
		}
	}
	if c.first != c.second {
		t.Fatalf("two open conflicts for one record and mapping: %s, %s", c.first, c.second)
	}
	open, err := db.Conflicts(ctx, a.WorkspaceID, a.ID, true, 10)
	if err != nil || len(open) != 1 || open[0].CRMValue != "CRM title 2" || open[0].QwotyValue != "Qwoty title" {
		t.Fatalf("open conflicts: %+v, %v", open, err)
	}
	if _, err := db.ResolveConflict(ctx, b.WorkspaceID, a.ID, c.first, qwoty.SideCRM, "eve@b.example"); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("B resolves A's conflict: %v", err)
	}
	got, err := db.ResolveConflict(ctx, a.WorkspaceID, a.ID, c.first, qwoty.SideCRM, "ann@a.example")
	if err != nil || got.Chosen != qwoty.SideCRM || got.CRMValue != "CRM title 2" {
		t.Fatalf("resolve: %+v, %v", got, err)
	}
	if _, err := db.ResolveConflict(ctx, a.WorkspaceID, a.ID, c.first, qwoty.SideQwoty, "ann@a.example"); !errors.Is(err, qwoty.ErrNotFound) {
		t.Fatalf("resolved twice: %v", err)
	}
	if open, _ := db.Conflicts(ctx, a.WorkspaceID, a.ID, true, 10); len(open) != 0 {
		t.Fatalf("still open: %+v", open)
	}
}

func storeConflict(mappingID, crmValue string) store.Conflict {
	return store.Conflict{Object: "deal", CRMID: "006A", MappingID: mappingID, Field: "Quote title", Base: "Old title",
		QwotyValue: "Qwoty title", CRMValue: crmValue, Reason: "both sides changed"}
}
