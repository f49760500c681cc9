package sftest_test

import (
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/salesforce/sftest"
)

// What a pull reads: stamps, OR groups and dateTime literals, child
// sub-queries, QueryAll and the recycle bin.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newPullREST(t *testing.T) (*rest, *clock) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	org := sftest.Org{ID: sftest.DefaultOrgID, Users: []sftest.User{{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Admin: true}}}
	srv := sftest.New(t, sftest.Options{Orgs: []sftest.Org{org}, Now: c.now})
	return &rest{t: t, srv: srv, token: srv.AccessToken(sftest.DefaultAdminID)}, c
}

func (r *rest) queryAll(q string) []any {
	r.t.Helper()
	status, v, _ := r.do("GET", api+"/queryAll/?q="+url.QueryEscape(q), nil)
	if status != 200 {
		r.t.Fatalf("queryAll %s: %d %v", q, status, v)
	}
	return v.(map[string]any)["records"].([]any)
}

func ids(rows []any) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.(map[string]any)["Id"].(string))
	}
	return out
}

func TestSystemModstampKeysetAndDateTime(t *testing.T) {
	r, c := newPullREST(t)
	a, _ := r.srv.Insert(sftest.DefaultOrgID, "Account", map[string]any{"Name": "A"})
	b, _ := r.srv.Insert(sftest.DefaultOrgID, "Account", map[string]any{"Name": "B"})
	c.add(1500 * time.Millisecond)
	if err := r.srv.Update(sftest.DefaultOrgID, "Account", a, map[string]any{"Phone": "1"}); err != nil {
		t.Fatal(err)
	}
	rows := r.query("SELECT Id, SystemModstamp, LastModifiedById FROM Account ORDER BY SystemModstamp, Id")
	if got := ids(rows); len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("order = %v, want [%s %s]", got, b, a)
	}
	first := rows[0].(map[string]any)
	if first["SystemModstamp"] != "2026-03-01T12:00:00.000+0000" || first["LastModifiedById"] != sftest.HandUser {
		t.Errorf("row = %v", first)
	}
	// After (12:00:00.000, b): a only; milliseconds are compared.
	got := ids(r.query("SELECT Id FROM Account WHERE (SystemModstamp > 2026-03-01T12:00:00Z OR (SystemModstamp = 2026-03-01T12:00:00.000Z AND Id > '" + b + "')) ORDER BY SystemModstamp, Id"))
	if len(got) != 1 || got[0] != a {
		t.Errorf("keyset page = %v, want [%s]", got, a)
	}
	if got := ids(r.query("SELECT Id FROM Account WHERE SystemModstamp >= 2026-03-01T12:00:01.500Z")); len(got) != 1 {
		t.Errorf("stamp at or after 12:00:01.500 = %v", got)
	}
	// AND and OR without parentheses are refused, as Salesforce does.
	if status, _, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Account WHERE Name = 'A' AND Phone = '1' OR Name = 'B'"), nil); status != 400 {
		t.Errorf("AND and OR mixed: %d, want 400", status)
	}
	// A dateTime in quotes is refused, as Salesforce does.
	if status, _, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id FROM Account WHERE SystemModstamp > '2026-03-01T12:00:00Z'"), nil); status != 400 {
		t.Errorf("quoted dateTime: %d, want 400", status)
	}
}

func TestContactRolesSubQuery(t *testing.T) {
	r, _ := newPullREST(t)
	acc, _ := r.srv.Insert(sftest.DefaultOrgID, "Account", map[string]any{"Name": "A"})
	con, _ := r.srv.Insert(sftest.DefaultOrgID, "Contact", map[string]any{"FirstName": "Ann", "LastName": "Lee", "Email": "ann@a.example", "AccountId": acc})
	with := r.opportunity(map[string]any{"Name": "with", "AccountId": acc})
	without := r.opportunity(map[string]any{"Name": "without"})
	if _, err := r.srv.Insert(sftest.DefaultOrgID, "OpportunityContactRole", map[string]any{"OpportunityId": with, "ContactId": con, "Role": "Buyer"}); err != nil {
		t.Fatal(err)
	}
	rows := r.query("SELECT Id, (SELECT Role, Contact.Name, Contact.Email FROM OpportunityContactRoles) FROM Opportunity ORDER BY Name")
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows {
		m := row.(map[string]any)
		roles := m["OpportunityContactRoles"]
		switch m["Id"] {
		case without:
			if roles != nil {
				t.Errorf("no roles: %v, want null", roles)
			}
		case with:
			recs := roles.(map[string]any)["records"].([]any)
			role := recs[0].(map[string]any)
			contact := role["Contact"].(map[string]any)
			if len(recs) != 1 || role["Role"] != "Buyer" || contact["Name"] != "Ann Lee" || contact["Email"] != "ann@a.example" {
				t.Errorf("roles = %v", roles)
			}
		}
	}
	if status, _, _ := r.do("GET", api+"/query/?q="+url.QueryEscape("SELECT Id, (SELECT Id FROM Nope) FROM Opportunity"), nil); status != 400 {
		t.Errorf("unknown child relationship: %d, want 400", status)
	}
}

// Query leaves deleted records out; QueryAll returns them, IsDeleted true,
// for 15 days after their deletion.
func TestQueryAllAndTheRecycleBin(t *testing.T) {
	r, c := newPullREST(t)
	p, _ := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": "P"})
	c.add(time.Minute)
	if err := r.srv.Delete(sftest.DefaultOrgID, "Product2", p); err != nil {
		t.Fatal(err)
	}
	if got := r.query("SELECT Id FROM Product2"); len(got) != 0 {
		t.Errorf("query returns a deleted record: %v", got)
	}
	rows := r.queryAll("SELECT Id, IsDeleted, SystemModstamp FROM Product2 WHERE SystemModstamp >= 2026-03-01T12:01:00Z")
	if len(rows) != 1 || rows[0].(map[string]any)["IsDeleted"] != true {
		t.Fatalf("queryAll = %v, want the deleted record", rows)
	}
	c.add(sftest.RecycleBinRetention + time.Second)
	r.token = r.srv.AccessToken(sftest.DefaultAdminID)
	if got := r.queryAll("SELECT Id FROM Product2"); len(got) != 0 {
		t.Errorf("queryAll after 15 days = %v, want nothing", got)
	}
}

// The hook runs before each query, and a change it makes is in the
// answer.
func TestBeforeQueryHook(t *testing.T) {
	r, _ := newPullREST(t)
	p, _ := r.srv.Insert(sftest.DefaultOrgID, "Product2", map[string]any{"Name": "old"})
	var seen []int
	r.srv.BeforeQuery(sftest.DefaultOrgID, func(n int) {
		seen = append(seen, n)
		if n == 2 {
			_ = r.srv.Update(sftest.DefaultOrgID, "Product2", p, map[string]any{"Name": "new"})
		}
	})
	r.query("SELECT Name FROM Product2")
	rows := r.queryAll("SELECT Name FROM Product2")
	if len(seen) != 2 || rows[0].(map[string]any)["Name"] != "new" {
		t.Errorf("hook calls %v, answer %v", seen, rows)
	}
}
