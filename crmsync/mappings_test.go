package crmsync_test

import (
	"testing"
	"time"

	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
)

// The admin's mappings go with the push: a custom field gets the quote's
// value, a broken mapping writes nothing, and the status mapping's value
// map is the stage map.
func TestMappedFieldsArePushed(t *testing.T) {
	emu, a := testCRM(t, tctest.Options{}, 0)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	save := func(m qwoty.Mapping) {
		t.Helper()
		if _, err := w.DB.SaveMapping(ctx, w.Conn.WorkspaceID, w.Conn.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	save(qwoty.Mapping{QwotyField: "quote.number", Object: "deal", CRMField: "quote_number", Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins})
	save(qwoty.Mapping{QwotyField: "quote.status", Object: "deal", CRMField: "stage", Direction: qwoty.BothWays, Policy: qwoty.LastWriteWins,
		Standard: true, ValueMap: map[string]string{"sent": "negotiation"}})
	broken := qwoty.Mapping{QwotyField: "quote.created", Object: "deal", CRMField: "quote_date", Direction: qwoty.ToCRM, Policy: qwoty.QwotyWins}
	save(broken)
	ms, err := w.DB.Mappings(ctx, w.Conn.WorkspaceID, w.Conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.CRMField == "quote_date" {
			if err := w.DB.MarkMapping(ctx, w.Conn.ID, m.ID, "the CRM's deal has no field quote_date"); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := w.Quote(deal, crmsynctest.Line{SKU: "A-1", Quantity: 1, Price: "10"})
	q = w.WaitState(q, qwoty.SyncSynced, 10*time.Second)
	d, _ := emu.Synced(deal)
	if d.Fields["quote_number"] != q.Number {
		t.Fatalf("the mapped field: %+v, want quote_number = %s", d.Fields, q.Number)
	}
	if _, ok := d.Fields["quote_date"]; ok {
		t.Fatalf("a broken mapping was pushed: %+v", d.Fields)
	}
	w.Edit(q, func(q *qwoty.Quote) error { return q.Transition(qwoty.StatusSent) })
	w.WaitFor("the mapped stage", 10*time.Second, func() bool { d, _ := emu.Synced(deal); return d.Stage == "negotiation" })
}
