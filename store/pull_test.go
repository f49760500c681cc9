package store_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/store/storetest"
)

// A listing's pages are stored with its cursor; the mark moves only when
// the listing is complete, to the newest CRM time it saw. An older version
// never overwrites a newer one, the same version again is skipped, a
// delete marks without deleting, and a deal's contacts are upserted by
// email.
func TestPullPagesMarkAndOrder(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	amt := decimal.RequireFromString("1200.50")
	deal := func(id, stage string, mod time.Time, emails ...string) crm.Pulled {
		d := &crm.PulledDeal{Name: "Deal " + id, Amount: &amt, Currency: "usd", Stage: stage, CloseDate: "2026-12-31", AccountID: "001A"}
		for _, e := range emails {
			d.Contacts = append(d.Contacts, crm.PulledContact{ID: "003" + e, Name: e, Email: e})
		}
		return crm.Pulled{Kind: crm.KindDeal, ID: id, Modified: mod, Deal: d}
	}
	got, err := db.StorePullPage(ctx, c.WorkspaceID, c.ID, "deal", time.Time{},
		[]crm.Pulled{deal("006A", "Prospecting", t0, "Ann@Example.com", "bob@example.com"), deal("006B", "Closed Won", t0.Add(time.Minute))}, "page2")
	if err != nil || got.Applied != 2 {
		t.Fatalf("page 1: %+v, %v", got, err)
	}
	cur, err := db.PullCursorOf(ctx, c.ID, "deal")
	if err != nil || !cur.Listing || cur.Cursor != "page2" || !cur.HWM.IsZero() || !cur.Max.Equal(t0.Add(time.Minute)) {
		t.Fatalf("cursor mid-listing: %+v, %v (the mark must not move before the listing is complete)", cur, err)
	}
	// Page 2: 006A again at an older time (a late page of an overlap) is
	// skipped; at a newer one it applies, with one contact fewer.
	got, err = db.StorePullPage(ctx, c.WorkspaceID, c.ID, "deal", time.Time{},
		[]crm.Pulled{deal("006B", "Prospecting", t0), deal("006A", "Negotiation", t0.Add(2*time.Minute), "ann@example.com")}, "")
	if err != nil || got.Applied != 1 || got.Skipped != 1 {
		t.Fatalf("page 2: %+v, %v", got, err)
	}
	cur, _ = db.PullCursorOf(ctx, c.ID, "deal")
	if cur.Listing || !cur.HWM.Equal(t0.Add(2*time.Minute)) || cur.Records != 3 {
		t.Fatalf("cursor after the listing: %+v", cur)
	}
	var stageA, stageB, cur2 string
	var contacts int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT stage FROM crm_deals WHERE crm_id = '006A'), (SELECT stage FROM crm_deals WHERE crm_id = '006B'),
		(SELECT currency FROM crm_deals WHERE crm_id = '006A'), (SELECT count(*) FROM crm_deal_contacts WHERE deal_crm_id = '006A')`).Scan(&stageA, &stageB, &cur2, &contacts); err != nil {
		t.Fatal(err)
	}
	if stageA != "Negotiation" || stageB != "Closed Won" || cur2 != "USD" || contacts != 1 {
		t.Fatalf("deals: A %q B %q currency %q contacts %d", stageA, stageB, cur2, contacts)
	}
	// Deleted in the CRM: marked, kept; the same delete again is skipped.
	del := crm.Pulled{Kind: crm.KindDeal, ID: "006B", Modified: t0.Add(3 * time.Minute), Deleted: true}
	if got, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{del, del}); err != nil || got.Deleted != 1 || got.Skipped != 1 {
		t.Fatalf("delete: %+v, %v", got, err)
	}
	var name string
	var deletedAt *time.Time
	if err := db.Pool().QueryRow(ctx, `SELECT name, crm_deleted_at FROM crm_deals WHERE crm_id = '006B'`).Scan(&name, &deletedAt); err != nil || name != "Deal 006B" || deletedAt == nil {
		t.Fatalf("deleted deal: %q %v %v", name, deletedAt, err)
	}
	// Products carry their prices; a price record of its own applies too.
	prod := crm.Pulled{Kind: crm.KindProduct, ID: "01tA", Modified: t0, Product: &crm.PulledProduct{SKU: "GC-1", Name: "Gadget", Active: true,
		Prices: []crm.PulledPrice{{Currency: "EUR", UnitPrice: decimal.NewFromInt(10), Active: true}}}}
	price := crm.Pulled{Kind: crm.KindPrice, ID: "01uA", Modified: t0.Add(time.Minute), Price: &crm.PulledPrice{ProductID: "01tA", Currency: "usd", UnitPrice: decimal.NewFromInt(12), EntryID: "01uA", Active: true}}
	if got, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{prod, price}); err != nil || got.Applied != 2 {
		t.Fatalf("catalogue: %+v, %v", got, err)
	}
	var prices int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM catalog_prices WHERE connection_id = $1 AND product_crm_id = '01tA'`, c.ID).Scan(&prices); err != nil || prices != 2 {
		t.Fatalf("prices %d, %v", prices, err)
	}
}
