package store_test

import (
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// titleWorld is a quote on deal 006T whose title a custom mapping pulls
// from the deal's Title__c, with a base: both sides held "Base" after the
// last sync.
type titleWorld struct {
	t  *testing.T
	db *store.DB
	c  *qwoty.Connection
	s  store.Scope
	q  *qwoty.Quote
	m  qwoty.Mapping
}

func newTitleWorld(t *testing.T, policy qwoty.Policy) *titleWorld {
	t.Helper()
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	w := &titleWorld{t: t, db: db, c: c, s: store.Scope{WorkspaceID: c.WorkspaceID, ConnectionID: c.ID, RecordID: "006T"}}
	var err error
	if w.q, err = db.CreateQuote(ctx, w.s, store.NewQuote{Currency: "USD", Title: "Base"}); err != nil {
		t.Fatal(err)
	}
	if w.m, err = db.SaveMapping(ctx, c.WorkspaceID, c.ID, qwoty.Mapping{QwotyField: "quote.title", Object: "deal",
		CRMField: "Title__c", Direction: qwoty.BothWays, Policy: policy}); err != nil {
		t.Fatal(err)
	}
	// The deal as the CRM held it at the last sync, and the base a push
	// would have recorded.
	w.pull("Base", time.Now().Add(-2*time.Hour))
	if err := db.SetBases(ctx, c.ID, []store.Base{{Object: "deal", CRMID: "006T", MappingID: w.m.ID, Value: "Base"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// pull stores the deal with Title__c = title, modified in the CRM at.
func (w *titleWorld) pull(title string, at time.Time) store.PullApplied {
	w.t.Helper()
	got, err := w.db.StorePulled(ctx, w.c.WorkspaceID, w.c.ID, []crm.Pulled{{Kind: crm.KindDeal, ID: "006T", Modified: at,
		Deal: &crm.PulledDeal{Name: "Deal T", Stage: "Prospecting"}, Fields: map[string]string{"Title__c": title}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// edit gives the quote a new title in Qwoty.
func (w *titleWorld) edit(title string) {
	w.t.Helper()
	q, err := w.db.UpdateQuote(ctx, w.s, w.q.ID, w.q.Version, "rep", func(q *qwoty.Quote) error {
		q.Title = title
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.q = q
}

func (w *titleWorld) title() string {
	w.t.Helper()
	q, err := w.db.GetQuote(ctx, w.s, w.q.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return q.Title
}

func (w *titleWorld) base() string {
	w.t.Helper()
	b, err := w.db.BaseOf(ctx, w.c.ID, "deal", "006T")
	if err != nil {
		w.t.Fatal(err)
	}
	return b[w.m.ID]
}

// exec runs sql with the connection's id as $1.
func (w *titleWorld) exec(sql string) {
	w.t.Helper()
	if _, err := w.db.Pool().Exec(ctx, sql, w.c.ID); err != nil {
		w.t.Fatal(err)
	}
}

// pushQueued reports whether the record waits for a push.
func (w *titleWorld) pushQueued() bool {
	w.t.Helper()
	var pending bool
	err := w.db.Pool().QueryRow(ctx, `SELECT coalesce(bool_or(state = 'pending' AND desired_seq > synced_seq), false) FROM sync_records
		WHERE connection_id = $1 AND crm_record_id = '006T'`, w.c.ID).Scan(&pending)
	if err != nil {
		w.t.Fatal(err)
	}
	return pending
}

// A quote's title mapped onto a custom deal field: a change made on one
// side only is taken whatever the policy; a change made on both sides goes
// by the mapping's policy; manual review opens a conflict that the
// console's pick resolves.
func TestPulledTitleByPolicy(t *testing.T) {
	later, earlier := time.Now().Add(time.Hour), time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		policy qwoty.Policy
		at     time.Time // the CRM's change
		want   string
		pushed bool // Qwoty's title is pushed back
	}{
		{"crm wins", qwoty.CRMWins, earlier, "Theirs", false},
		{"qwoty wins", qwoty.QwotyWins, later, "Ours", true},
		{"last write wins, the CRM's later", qwoty.LastWriteWins, later, "Theirs", false},
		{"last write wins, Qwoty's later", qwoty.LastWriteWins, earlier, "Ours", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTitleWorld(t, tc.policy)
			w.edit("Ours")
			w.exec(`DELETE FROM sync_records WHERE connection_id = $1`) // the edit's own push
			got := w.pull("Theirs", tc.at)
			if w.title() != tc.want || w.pushQueued() != tc.pushed || got.Conflicts != 0 {
				t.Fatalf("title %q, push queued %v, %+v; want %q, push %v, no conflict", w.title(), w.pushQueued(), got, tc.want, tc.pushed)
			}
			wantBase := "Base"
			if tc.want == "Theirs" {
				wantBase = "Theirs"
			}
			if w.base() != wantBase {
				t.Errorf("base %q, want %q", w.base(), wantBase)
			}
		})
	}

	t.Run("one side changed", func(t *testing.T) {
		w := newTitleWorld(t, qwoty.QwotyWins)
		if got := w.pull("Renamed in the CRM", earlier); w.title() != "Renamed in the CRM" || got.Taken != 1 {
			t.Fatalf("title %q, %+v; want the CRM's change taken: Qwoty's did not change", w.title(), got)
		}
	})

	t.Run("manual", func(t *testing.T) {
		w := newTitleWorld(t, qwoty.Manual)
		w.edit("Ours")
		if got := w.pull("Theirs", later); got.Conflicts != 1 || w.title() != "Ours" {
			t.Fatalf("%+v, title %q; want a conflict and the title left", got, w.title())
		}
		open, err := w.db.Conflicts(ctx, w.c.WorkspaceID, w.c.ID, true, 10)
		if err != nil || len(open) != 1 || open[0].QwotyValue != "Ours" || open[0].CRMValue != "Theirs" || open[0].Base != "Base" ||
			open[0].Field != "Quote title" || open[0].QuoteID != w.q.ID {
			t.Fatalf("conflicts %+v, %v", open, err)
		}
		if _, err := w.db.ResolveConflict(ctx, w.c.WorkspaceID, w.c.ID, open[0].ID, qwoty.SideCRM, "admin"); err != nil {
			t.Fatal(err)
		}
		if w.title() != "Theirs" || w.base() != "Theirs" {
			t.Fatalf("after taking the CRM's: title %q, base %q", w.title(), w.base())
		}
		// The same value read again is no change.
		if got := w.pull("Theirs", later.Add(time.Minute)); got.Conflicts != 0 || w.title() != "Theirs" {
			t.Fatalf("read again: %+v, title %q", got, w.title())
		}
	})

	t.Run("manual, Qwoty's kept", func(t *testing.T) {
		w := newTitleWorld(t, qwoty.Manual)
		w.edit("Ours")
		w.exec(`DELETE FROM sync_records WHERE connection_id = $1`)
		w.pull("Theirs", later)
		open, _ := w.db.Conflicts(ctx, w.c.WorkspaceID, w.c.ID, true, 10)
		if len(open) != 1 {
			t.Fatalf("conflicts %+v", open)
		}
		if _, err := w.db.ResolveConflict(ctx, w.c.WorkspaceID, w.c.ID, open[0].ID, qwoty.SideQwoty, "admin"); err != nil {
			t.Fatal(err)
		}
		if w.title() != "Ours" || !w.pushQueued() {
			t.Fatalf("after keeping Qwoty's: title %q, push queued %v", w.title(), w.pushQueued())
		}
	})

	// The value Qwoty last wrote, read back by a poll that cannot tell
	// Qwoty's writes from a person's, is no edit: Qwoty's later change
	// stands, with no conflict even under manual review.
	t.Run("echo", func(t *testing.T) {
		w := newTitleWorld(t, qwoty.Manual)
		w.edit("Ours")
		w.exec(`DELETE FROM sync_records WHERE connection_id = $1`) // the edit's own push, already done
		if got := w.pull("Base", later); got.Conflicts != 0 || got.Taken != 0 || w.title() != "Ours" || w.pushQueued() {
			t.Fatalf("%+v, title %q, push queued %v; want the echo ignored, nothing written", got, w.title(), w.pushQueued())
		}
	})
}

// A customer's name and email mapped onto custom account fields: a custom
// mapping is read before the standard one of the same value; the CRM wins
// by default; manual review opens a conflict the console resolves.
func TestPulledCustomerMapped(t *testing.T) {
	db := storetest.New(t)
	c := addOrg(t, db, "A", "00D00000000000AAAA")
	save := func(m qwoty.Mapping) qwoty.Mapping {
		t.Helper()
		m, err := db.SaveMapping(ctx, c.WorkspaceID, c.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	save(qwoty.Mapping{QwotyField: "customer.name", Object: "customer", CRMField: "Name", Direction: qwoty.BothWays, Policy: qwoty.CRMWins, Standard: true})
	save(qwoty.Mapping{QwotyField: "customer.name", Object: "customer", CRMField: "Legal_Name__c", Direction: qwoty.FromCRM, Policy: qwoty.CRMWins})
	email := save(qwoty.Mapping{QwotyField: "customer.email", Object: "customer", CRMField: "Billing_Email__c", Direction: qwoty.FromCRM, Policy: qwoty.Manual})
	at := time.Now()
	pull := func(legal, mail string) store.PullApplied {
		t.Helper()
		at = at.Add(time.Minute)
		got, err := db.StorePulled(ctx, c.WorkspaceID, c.ID, []crm.Pulled{{Kind: crm.KindCustomer, ID: "001A", Modified: at,
			Customer: &crm.PulledCustomer{Name: "Acme"}, Fields: map[string]string{"Name": "Acme", "Legal_Name__c": legal, "Billing_Email__c": mail}}})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	customer := func() (string, string) {
		t.Helper()
		var name, mail string
		if err := db.Pool().QueryRow(ctx, `SELECT name, email FROM customers WHERE connection_id = $1 AND crm_account_id = '001A'`, c.ID).Scan(&name, &mail); err != nil {
			t.Fatal(err)
		}
		return name, mail
	}
	if got := pull("Acme SAS", "billing@acme.example"); got.Applied != 1 || got.Taken != 2 {
		t.Fatalf("first pull %+v", got)
	}
	if n, m := customer(); n != "Acme SAS" || m != "billing@acme.example" {
		t.Fatalf("customer %q <%s>; want the mapped fields' values", n, m)
	}
	pull("Acme Group SAS", "billing@acme.example")
	if n, _ := customer(); n != "Acme Group SAS" {
		t.Fatalf("name %q after the CRM changed it", n)
	}
	// Qwoty's copy of the email changed (a correction made in Qwoty) and
	// the CRM's too: under manual review, a conflict.
	if _, err := db.Pool().Exec(ctx, `UPDATE customers SET email = 'ap@acme.example' WHERE connection_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := pull("Acme Group SAS", "finance@acme.example"); got.Conflicts != 1 {
		t.Fatalf("both emails changed: %+v; want a conflict", got)
	}
	if _, m := customer(); m != "ap@acme.example" {
		t.Fatalf("email %q: a conflict must leave Qwoty's value", m)
	}
	open, err := db.Conflicts(ctx, c.WorkspaceID, c.ID, true, 10)
	if err != nil || len(open) != 1 || open[0].MappingID != email.ID || open[0].Object != "customer" || open[0].CRMValue != "finance@acme.example" {
		t.Fatalf("conflicts %+v, %v", open, err)
	}
	if _, err := db.ResolveConflict(ctx, c.WorkspaceID, c.ID, open[0].ID, qwoty.SideCRM, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, m := customer(); m != "finance@acme.example" {
		t.Fatalf("email %q after taking the CRM's", m)
	}
	if got := pull("Acme Group SAS", "finance@acme.example"); got.Conflicts != 0 {
		t.Fatalf("the same email read again: %+v", got)
	}
}
