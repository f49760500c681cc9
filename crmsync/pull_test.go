package crmsync_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/testcrm"
	"github.com/qwoty/companion/crm/testcrm/tctest"
	"github.com/qwoty/companion/crmsync"
	"github.com/qwoty/companion/crmsync/crmsynctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Pulling, through the test CRM's Puller and its emulator's change
// listings: each kind of record, a record changed while a listing is read,
// a crash between pages, deletes, webhooks' duplicates and reordering,
// echoes of our own writes, and the budget shared with pushes.

var bg = context.Background()

// pullCRM starts the emulator with a record clock that tests move, and the
// test CRM's adapter on it.
func pullCRM(t *testing.T, opts tctest.Options) (*tctest.Server, crm.Adapter, *emulator.Clock) {
	t.Helper()
	clock := emulator.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	opts.RecordClock = clock.Now
	emu := tctest.New(t, opts)
	a := testcrm.NewAdapter(testcrm.Options{ClientID: tctest.DefaultClientID, ClientSecret: tctest.DefaultClientSecret,
		RedirectURL: tctest.DefaultRedirectURL, BaseURL: emu.URL})
	return emu, a, clock
}

// noEngine are options for a world whose test runs PullOnce itself.
func noEngine() crmsync.Options { o := crmsynctest.FastOptions(); o.Workers = -1; return o }

func pullOnce(t *testing.T, w *crmsynctest.World, a crm.Adapter) crmsync.PullReport {
	t.Helper()
	rep, err := crmsync.PullOnce(bg, w.DB, a, w.Conn, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func stream(rep crmsync.PullReport, name string) crmsync.StreamReport {
	for _, s := range rep.Streams {
		if s.Stream == name {
			return s
		}
	}
	return crmsync.StreamReport{}
}

// one reads a single value.
func one[T any](t *testing.T, w *crmsynctest.World, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := storetest.Pool(t, w.DB).QueryRow(bg, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func TestPullEachKind(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme Inc.", Email: "billing@acme.test", Street: "1 Main St", City: "Berlin",
		PostalCode: "10115", Country: "DE", Fields: map[string]string{"industry": "Tools"}})
	clock.Advance(time.Minute)
	emu.PutCompany(tctest.Company{ID: "c2", Name: "Beta GmbH"})
	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme - rollout", Amount: "1200.50", Currency: "eur", Stage: "proposal",
		CloseDate: "2026-06-30", CompanyID: "c1", Contacts: []tctest.Contact{
			{ID: "p1", Name: "Ann Buyer", Email: "Ann@Acme.test", Role: "buyer"},
			{ID: "p2", Name: "Bob Finance", Email: "bob@acme.test"},
			{ID: "p3", Name: "No Mail"}}})
	emu.PutDeal(tctest.DealRecord{ID: "d2", Name: "Beta - pilot", CompanyID: "c2"})
	clock.Advance(time.Minute)
	emu.PutProduct(tctest.Product{ID: "pr1", SKU: "A-1", Name: "Anvil", Active: true, Prices: map[string]string{"EUR": "10.00", "USD": "12.50"}})
	emu.PutProduct(tctest.Product{ID: "pr2", SKU: "B-2", Name: "Bucket", Active: false, Prices: map[string]string{"EUR": "3.20"}})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())

	rep := pullOnce(t, w, a)
	for _, name := range []string{crm.KindCustomer, crm.KindDeal, crm.KindProduct} {
		if s := stream(rep, name); !s.Complete || s.Applied != 2 || s.Err != nil {
			t.Fatalf("stream %s: %+v", name, s)
		}
	}
	if rep.Calls != 3 {
		t.Fatalf("a pull of three one-page listings made %d calls", rep.Calls)
	}
	conn := w.Conn.ID
	if got := one[string](t, w, `SELECT name || '|' || email || '|' || city || '|' || country || '|' || (fields->>'industry')
		FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'`, conn); got != "Acme Inc.|billing@acme.test|Berlin|DE|Tools" {
		t.Fatalf("customer c1: %s", got)
	}
	if got := one[string](t, w, `SELECT name || '|' || round(amount, 2)::text || '|' || currency || '|' || stage || '|' || close_date::text || '|' || account_crm_id
		FROM crm_deals WHERE connection_id = $1 AND crm_id = 'd1'`, conn); got != "Acme - rollout|1200.50|EUR|proposal|2026-06-30|c1" {
		t.Fatalf("deal d1: %s", got)
	}
	if got := one[string](t, w, `SELECT string_agg(dc.email || ':' || c.name || ':' || dc.role, ',' ORDER BY dc.email)
		FROM crm_deal_contacts dc JOIN crm_contacts c USING (connection_id, email) WHERE dc.connection_id = $1 AND dc.deal_crm_id = 'd1'`, conn); got != "ann@acme.test:Ann Buyer:buyer,bob@acme.test:Bob Finance:" {
		t.Fatalf("deal d1's contacts (with an email, by email): %s", got)
	}
	if got := one[string](t, w, `SELECT string_agg(p.sku || ':' || p.active || ':' || pr.currency || '=' || round(pr.unit_price, 2)::text, ',' ORDER BY p.sku, pr.currency)
		FROM catalog_products p JOIN catalog_prices pr ON pr.connection_id = p.connection_id AND pr.product_crm_id = p.crm_id
		WHERE p.connection_id = $1`, conn); got != "A-1:true:EUR=10.00,A-1:true:USD=12.50,B-2:false:EUR=3.20" {
		t.Fatalf("catalogue: %s", got)
	}
	// The mark is the CRM's time of the newest record, never ours.
	cur, err := w.DB.PullCursorOf(bg, conn, crm.KindProduct)
	if err != nil || !cur.HWM.Equal(clock.Now()) || cur.Listing {
		t.Fatalf("product cursor: %+v, %v (want the mark %s)", cur, err, clock.Now())
	}

	// The next poll re-reads the overlap and applies nothing.
	rep = pullOnce(t, w, a)
	if s := stream(rep, crm.KindProduct); s.Applied != 0 || s.Skipped != 2 || !s.Complete {
		t.Fatalf("a second poll without changes: %+v", s)
	}
}

// sixProducts lists products p1..p6 an hour apart.
func sixProducts(emu *tctest.Server, clock *emulator.Clock) {
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		emu.PutProduct(tctest.Product{ID: id, SKU: strings.ToUpper(id), Name: id + " v1", Active: true, Prices: map[string]string{"EUR": "1.00"}})
		clock.Advance(time.Hour)
	}
}

func productNames(t *testing.T, w *crmsynctest.World) string {
	return one[string](t, w, `SELECT coalesce(string_agg(name, ',' ORDER BY crm_id), '') FROM catalog_products WHERE connection_id = $1`, w.Conn.ID)
}

// A record changed while its listing is read is not missed: it is read by
// the end of the next poll at the latest, and so is every other. The same
// scenario with an offset cursor (the emulator's OffsetPaging) misses one,
// which is the mistake the test is there to catch.
func TestPullChangedMidListing(t *testing.T) {
	for _, offset := range []bool{false, true} {
		name := "keyset"
		if offset {
			name = "offset paging misses one"
		}
		t.Run(name, func(t *testing.T) {
			emu, a, clock := pullCRM(t, tctest.Options{PageSize: 2})
			emu.OffsetPaging(offset)
			sixProducts(emu, clock)
			w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
			changed := false
			emu.OnPage(func(object string, page int) {
				if object != tctest.Products || page != 1 || changed {
					return
				}
				// Between the first page and the second: p1 (read already)
				// and p4 (not yet) change.
				changed = true
				emu.PutProduct(tctest.Product{ID: "p1", SKU: "P1", Name: "p1 v2", Active: true})
				clock.Advance(time.Second)
				emu.PutProduct(tctest.Product{ID: "p4", SKU: "P4", Name: "p4 v2", Active: true})
			})
			pullOnce(t, w, a)
			clock.Advance(time.Minute)
			pullOnce(t, w, a) // the next poll
			got, want := productNames(t, w), "p1 v2,p2 v1,p3 v1,p4 v2,p5 v1,p6 v1"
			if offset {
				if got == want {
					t.Fatalf("offset paging missed nothing (%s): the scenario does not test what it should", got)
				}
				t.Logf("offset paging left: %s", got)
				return
			}
			if got != want {
				t.Fatalf("after a listing with changes between its pages and the next poll: %s, want %s", got, want)
			}
		})
	}
}

// A listing stopped between pages (the process died, the CRM failed)
// resumes at its stored cursor: the records before it are not read again.
func TestPullResumesAtCursor(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{PageSize: 2})
	sixProducts(emu, clock)
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	emu.OnPage(func(object string, page int) {
		if object == tctest.Products && page == 2 {
			if err := emu.Inject(emulator.Fault{Route: "GET /api/changes/{object}", Status: 500, Times: 1}); err != nil {
				t.Error(err)
			}
		}
	})
	rep := pullOnce(t, w, a)
	s := stream(rep, crm.KindProduct)
	if s.Err == nil || s.Complete || s.Pages != 2 || s.Applied != 4 {
		t.Fatalf("the listing that failed on its third page: %+v", s)
	}
	cur, err := w.DB.PullCursorOf(bg, w.Conn.ID, crm.KindProduct)
	if err != nil || !cur.Listing || cur.Cursor == "" || cur.LastError == "" {
		t.Fatalf("the cursor after the failure: %+v, %v", cur, err)
	}
	h, err := w.DB.SyncHealthOf(bg, w.Admin.WorkspaceID, w.Conn.ID)
	if err != nil || h.Pull.ErrorStream != crm.KindProduct || h.Pull.Error == "" {
		t.Fatalf("health after the failure: %+v, %v", h.Pull, err)
	}
	emu.OnPage(nil)
	asked := len(emu.Cursors(tctest.Products))

	rep = pullOnce(t, w, a)
	s = stream(rep, crm.KindProduct)
	if !s.Complete || s.Pages != 1 || s.Applied != 2 {
		t.Fatalf("the resumed listing: %+v", s)
	}
	if got := emu.Cursors(tctest.Products)[asked]; got != cur.Cursor {
		t.Fatalf("the resumed listing asked for cursor %q, not the stored %q", got, cur.Cursor)
	}
	if n := emu.Served(tctest.Products); n != 6 {
		t.Fatalf("the CRM served %d product records for 6 (records read again)", n)
	}
	if got := productNames(t, w); got != "p1 v1,p2 v1,p3 v1,p4 v1,p5 v1,p6 v1" {
		t.Fatalf("products: %s", got)
	}
	if h, _ := w.DB.SyncHealthOf(bg, w.Admin.WorkspaceID, w.Conn.ID); h.Pull.Error != "" || h.Pull.CompleteAt.IsZero() {
		t.Fatalf("health after the resumed listing: %+v", h.Pull)
	}
}

// A record deleted in the CRM is marked in Qwoty, never deleted; restored,
// it is live again.
func TestPullDeleteMarks(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme"})
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "Acme - rollout", CompanyID: "c1"})
	emu.PutProduct(tctest.Product{ID: "p1", SKU: "P1", Name: "Anvil", Active: true, Prices: map[string]string{"EUR": "5"}})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	pullOnce(t, w, a)

	clock.Advance(time.Hour)
	emu.Delete(tctest.Companies, "c1")
	emu.Delete(tctest.Deals, "d1")
	emu.Delete(tctest.Products, "p1")
	rep := pullOnce(t, w, a)
	for _, name := range []string{crm.KindCustomer, crm.KindDeal, crm.KindProduct} {
		if s := stream(rep, name); s.Deleted != 1 {
			t.Fatalf("stream %s after the deletes: %+v", name, s)
		}
	}
	conn := w.Conn.ID
	if got := one[string](t, w, `SELECT (SELECT count(*) FILTER (WHERE crm_deleted_at IS NOT NULL) || '/' || count(*) FROM customers WHERE connection_id = $1)
		|| ',' || (SELECT count(*) FILTER (WHERE crm_deleted_at IS NOT NULL) || '/' || count(*) FROM crm_deals WHERE connection_id = $1)
		|| ',' || (SELECT count(*) FILTER (WHERE crm_deleted_at IS NOT NULL) || '/' || count(*) FROM catalog_products WHERE connection_id = $1)`, conn); got != "1/1,1/1,1/1" {
		t.Fatalf("deleted/kept customers, deals, products: %s", got)
	}
	if name := one[string](t, w, `SELECT name FROM crm_deals WHERE connection_id = $1 AND crm_id = 'd1'`, conn); name != "Acme - rollout" {
		t.Fatalf("a deleted deal's copy lost its data: %q", name)
	}

	clock.Advance(time.Hour)
	emu.PutProduct(tctest.Product{ID: "p1", SKU: "P1", Name: "Anvil", Active: true, Prices: map[string]string{"EUR": "5"}})
	pullOnce(t, w, a)
	if n := one[int](t, w, `SELECT count(*) FROM catalog_products WHERE connection_id = $1 AND crm_deleted_at IS NULL`, conn); n != 1 {
		t.Fatal("a product restored in the CRM is still marked deleted")
	}
}

// waitPulls waits until no pull job is queued or running.
func waitPulls(t *testing.T, w *crmsynctest.World) {
	t.Helper()
	w.WaitFor("the pull jobs", 10*time.Second, func() bool {
		return one[int](t, w, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND state IN ('available', 'running', 'retryable', 'pending')`) == 0
	})
}

// A webhook's deliveries, repeated and out of order, fetch the record and
// apply its current state once; the connection's first poll was queued
// when it was connected.
func TestPullWebhooksApplyOnce(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "v1"})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	conn := w.Conn.ID
	deal := func() string {
		return one[string](t, w, `SELECT coalesce((SELECT name FROM crm_deals WHERE connection_id = $1 AND crm_id = 'd1'), '')`, conn)
	}
	w.WaitFor("the first poll", 10*time.Second, func() bool { return deal() == "v1" })
	waitPulls(t, w)

	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "v2"}) // event e1
	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: "d1", Name: "v3"}) // event e2
	take := func(ids ...string) int {
		var evs []store.WebhookEvent
		for _, id := range ids {
			evs = append(evs, store.WebhookEvent{ID: id, Kind: crm.KindDeal, RecordID: "d1"})
		}
		n, err := w.DB.TakeWebhook(bg, string(testcrm.Provider), conn, evs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// e2 arrives first, then e1 late with a redelivery of e2.
	if n := take("e2"); n != 1 {
		t.Fatalf("first delivery took %d events", n)
	}
	w.WaitFor("the fetch", 10*time.Second, func() bool { return deal() == "v3" })
	waitPulls(t, w)
	// A fetch of the same records in the same second is one job (River's
	// uniqueness); the late event comes later, and is fetched.
	time.Sleep(1100 * time.Millisecond)
	if n := take("e1", "e2"); n != 1 {
		t.Fatalf("the late event and a redelivery took %d events, want 1", n)
	}
	if n := take("e2", "e1"); n != 0 {
		t.Fatalf("a third delivery took %d events", n)
	}
	w.WaitFor("the late event's fetch", 10*time.Second, func() bool { return emu.FetchCalls() == 2 })
	waitPulls(t, w)
	if got := deal(); got != "v3" {
		t.Fatalf("after the late event the deal is %q, not the CRM's latest", got)
	}
	if got := one[string](t, w, `SELECT string_agg(message, ' / ' ORDER BY id) FROM sync_log
		WHERE connection_id = $1 AND direction = 'pull' AND crm_object = 'deal' AND crm_id = 'd1'`, conn); strings.Count(got, "1 applied") != 1 ||
		strings.Count(got, "1 skipped") != 1 {
		t.Fatalf("the fetches' log rows: %s (want the change applied once)", got)
	}
	if n := one[int](t, w, `SELECT count(*) FROM webhook_deliveries WHERE connection_id = $1`, conn); n != 2 {
		t.Fatalf("%d deliveries kept, want 2", n)
	}
}

// Qwoty's own write coming back is stored and counted as an echo; a
// person's edit after it is not one.
func TestPullEcho(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutDeal(tctest.DealRecord{ID: deal, Name: "Acme", Amount: "0", Stage: "qualification"})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, crmsynctest.FastOptions())
	waitPulls(t, w)
	clock.Advance(time.Minute)
	q := w.Quote(deal, crmsynctest.Line{SKU: "A-1", Quantity: 2, Price: "50"})
	w.WaitState(q, qwoty.SyncSynced, 10*time.Second)

	rep := pullOnce(t, w, a)
	if s := stream(rep, crm.KindDeal); s.Applied != 1 || s.Echoes != 1 {
		t.Fatalf("the deal our push wrote, pulled: %+v", s)
	}
	if got := one[string](t, w, `SELECT round(amount, 2)::text || '|' || echo FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, w.Conn.ID, deal); got != "100.00|true" {
		t.Fatalf("the echo's copy: %s", got)
	}
	clock.Advance(time.Minute)
	emu.PutDeal(tctest.DealRecord{ID: deal, Name: "Acme", Amount: "100.00", Stage: "negotiation"})
	rep = pullOnce(t, w, a)
	if s := stream(rep, crm.KindDeal); s.Applied != 1 || s.Echoes != 0 {
		t.Fatalf("a person's edit, pulled: %+v", s)
	}
	if e := one[bool](t, w, `SELECT echo FROM crm_deals WHERE connection_id = $1 AND crm_id = $2`, w.Conn.ID, deal); e {
		t.Fatal("a person's edit is stored as an echo")
	}
}

// Pulls take from the connection's budget, the pushes' one: a spent budget
// snoozes the poll (no attempt used, no failure), and nothing is called.
func TestPullWaitsForTheBudget(t *testing.T) {
	emu, a, _ := pullCRM(t, tctest.Options{})
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme"})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	if err := w.DB.BlockBudget(bg, w.Conn.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	w.Start(crmsynctest.FastOptions())
	w.WaitFor("the poll to snooze", 10*time.Second, func() bool {
		return one[int](t, w, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND state = 'scheduled'
			AND scheduled_at > now() + interval '50 minutes'`) == 1
	})
	if errs := one[int](t, w, `SELECT count(*) FROM river_job WHERE kind = 'sync_pull' AND (state <> 'scheduled' OR coalesce(array_length(errors, 1), 0) > 0)`); errs != 0 {
		t.Fatal("a poll waiting for the budget failed or left errors")
	}
	if n := emu.ListCalls(tctest.Companies); n != 0 {
		t.Fatalf("%d listing calls with a spent budget", n)
	}
	if h, _ := w.DB.SyncHealthOf(bg, w.Admin.WorkspaceID, w.Conn.ID); h.Pull.Error != "" {
		t.Fatalf("a budget's wait is a stream's error: %q", h.Pull.Error)
	}
}

// Every connection is polled every PullEvery; a disconnected one is not.
func TestPullPolls(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme"})
	opt := crmsynctest.FastOptions()
	opt.PullEvery = 500 * time.Millisecond
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, opt)
	w.WaitFor("three polls", 10*time.Second, func() bool { return emu.ListCalls(tctest.Companies) >= 3 })
	clock.Advance(time.Minute)
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme renamed"})
	w.WaitFor("the rename", 10*time.Second, func() bool {
		return one[string](t, w, `SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'`, w.Conn.ID) == "Acme renamed"
	})
	waitPulls(t, w)
	// Rows for the two polls that stored something (the log's row is
	// written when the poll's run ends).
	logged := func() int {
		return one[int](t, w, `SELECT count(*) FROM sync_log WHERE connection_id = $1 AND direction = 'pull' AND crm_object = 'customer'
			AND outcome = 'synced' AND message LIKE '1 applied%'`, w.Conn.ID)
	}
	w.WaitFor("the rename's log row", 5*time.Second, func() bool { return logged() >= 2 })
	time.Sleep(time.Second) // more polls, which store nothing
	if n := logged(); n != 2 {
		t.Fatalf("%d pull rows that applied a customer, want 2 (polls that stored nothing write none)", n)
	}
	if n := one[int](t, w, `SELECT count(*) FROM sync_log WHERE connection_id = $1 AND direction = 'pull'`, w.Conn.ID); n != 2 {
		t.Fatalf("%d pull rows in all, want 2", n)
	}

	if err := w.DB.Disconnect(bg, w.Conn.ID, w.Admin.Email); err != nil {
		t.Fatal(err)
	}
	waitPulls(t, w)
	before := emu.ListCalls(tctest.Companies)
	time.Sleep(1500 * time.Millisecond)
	if n := emu.ListCalls(tctest.Companies); n != before {
		t.Fatalf("a disconnected connection was polled %d times", n-before)
	}
}

// A poll that meets a refused grant alerts admins once, as a push does.
func TestPullRefusedGrantAlerts(t *testing.T) {
	emu, a, _ := pullCRM(t, tctest.Options{})
	w := crmsynctest.New(t, a, tctest.DefaultRedirectURL, noEngine())
	emu.ExpireAccessTokens()
	emu.RevokeAll()
	w.Start(crmsynctest.FastOptions())
	w.WaitFor("the connection alert", 10*time.Second, func() bool { return w.Alerts.Sent.Load() == 1 })
	if al := w.Alerts.Last.Load(); al.Kind != "connection" {
		t.Fatalf("alert kind %q, want connection", al.Kind)
	}
}

// An admin's "Sync now" pressed while a poll runs is folded into it (a
// poll is unique while one is queued or running): the poll then goes
// round once more, so a change made after its last page is read now, not
// at the next poll (here: never, the poll interval being an hour).
func TestPullSyncNowDuringPoll(t *testing.T) {
	emu, a, clock := pullCRM(t, tctest.Options{})
	emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme"})
	opt := crmsynctest.FastOptions()
	opt.PullEvery = time.Hour
	var once sync.Once
	var w *crmsynctest.World
	ready := make(chan struct{})
	emu.OnPage(func(object string, page int) {
		<-ready
		if object != tctest.Products {
			return
		}
		// The poll's last listing is being read: the customers' listing
		// is done. A person renames the customer and an admin presses
		// Sync now.
		once.Do(func() {
			clock.Advance(time.Minute)
			go func() {
				emu.PutCompany(tctest.Company{ID: "c1", Name: "Acme renamed"})
				if _, err := w.DB.SyncNow(bg, w.Admin.WorkspaceID, w.Conn.ID, w.Admin.Email); err != nil {
					t.Error(err)
				}
			}()
			time.Sleep(200 * time.Millisecond)
		})
	})
	w = crmsynctest.New(t, a, tctest.DefaultRedirectURL, opt)
	close(ready)
	w.WaitFor("the rename", 10*time.Second, func() bool {
		return one[string](t, w, `SELECT coalesce((SELECT name FROM customers WHERE connection_id = $1 AND crm_account_id = 'c1'), '')`,
			w.Conn.ID) == "Acme renamed"
	})
}
