package console

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// Every sync page and action answers each role as docs/admin-guide.md
// says: viewers see health only (Integrations), members read and export
// the log, only admins retry, change settings or invite.
func TestSyncRolesPerRoute(t *testing.T) {
	e := newSyncEnv(t, "")
	member, viewer := e.user(t, "member"), e.user(t, "viewer")
	base := e.url() + "/settings/integrations/testcrm/"
	for _, r := range []struct {
		method, path       string
		admin, mem, viewer int
	}{
		{"GET", "sync-log", 200, 200, 403},
		{"GET", "sync-log/export.csv", 200, 200, 403},
		{"POST", "sync-log/retry", 200, 403, 403}, // the admin is sent back to the log
		{"GET", "sync-settings", 200, 403, 403},
		{"POST", "sync-settings", 0, 403, 403},
		{"POST", "/settings/invitations", 0, 403, 403},
	} {
		for _, who := range []struct {
			name string
			b    *webtest.Browser
			want int
		}{{"admin", e.b, r.admin}, {"member", member, r.mem}, {"viewer", viewer, r.viewer}} {
			if who.want == 0 {
				continue
			}
			u := base + r.path
			if strings.HasPrefix(r.path, "/") {
				u = e.url() + r.path
			}
			if r.method == "GET" {
				who.b.Get(u)
			} else {
				who.b.Get(e.url() + "/settings/users") // a page with the session's token
				who.b.Post(u, url.Values{"csrf": {who.b.CSRF()}, "all": {"true"}, "email": {"x@acme.example"}, "role": {"viewer"}})
			}
			if who.b.Last.StatusCode != who.want {
				t.Errorf("%s %s as %s: %d, want %d", r.method, r.path, who.name, who.b.Last.StatusCode, who.want)
			}
			if who.want == 403 && !strings.Contains(string(who.b.Body), "forbidden") {
				t.Errorf("%s %s as %s: the refusal has no catalogue code:\n%s", r.method, r.path, who.name, who.b.Body)
			}
		}
	}
	// Integrations: the viewer sees sync's health, without the log's link;
	// the member gets the log's link, not the settings'.
	viewer.Get(e.url() + "/settings/integrations")
	member.Get(e.url() + "/settings/integrations")
	if v, m := string(viewer.Body), string(member.Body); !strings.Contains(v, `id="sync-testcrm"`) || strings.Contains(v, `id="sync-log-testcrm"`) ||
		!strings.Contains(m, `id="sync-log-testcrm"`) || strings.Contains(m, `id="sync-settings-testcrm"`) {
		t.Fatalf("Integrations per role:\nviewer %v\nmember %v", strings.Contains(v, `id="sync-log-testcrm"`), strings.Contains(m, `id="sync-settings-testcrm"`))
	}
}

// The export is the filter's rows as RFC 4180 CSV, cells a spreadsheet
// would run as formulas defused; bad filters are 400 filter_invalid; a
// filter over the cap is refused before anything is sent.
func TestSyncLogExport(t *testing.T) {
	e := newSyncEnv(t, "")
	pool := storetest.Pool(t, e.db)
	ctx := context.Background()
	for _, msg := range []string{`=HYPERLINK("http://evil.example","x")`, "+1 then, \"quoted\"\nand a new line", "-2", "@SUM(A1)", "plain"} {
		if _, err := pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, crm_object, outcome, message)
			VALUES ($1, $2, 'r-1', 'deal', 'failed', $3)`, e.conn.WorkspaceID, e.conn.ID, msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, outcome) VALUES ($1, $2, '=cmd', 'synced')`,
		e.conn.WorkspaceID, e.conn.ID); err != nil {
		t.Fatal(err)
	}
	exp := e.url() + "/settings/integrations/testcrm/sync-log/export.csv"
	e.b.Get(exp + "?outcome=failed")
	if ct := e.b.Last.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(e.b.Last.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export headers: %q %q", ct, e.b.Last.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(string(e.b.Body))).ReadAll()
	if err != nil || len(recs) != 6 || strings.Join(recs[0], ",") != strings.Join(logCSVHeader, ",") {
		t.Fatalf("export: %d records, %v\n%s", len(recs), err, e.b.Body)
	}
	got := map[string]bool{}
	for _, r := range recs[1:] {
		got[r[8]] = true
		if r[6] != "failed" {
			t.Fatalf("an unfiltered row: %v", r)
		}
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.example","x")`, "'+1 then, \"quoted\"\nand a new line", "'-2", "'@SUM(A1)", "plain"} {
		if !got[want] {
			t.Fatalf("export lacks the message %q: %v", want, got)
		}
	}
	e.b.Get(exp + "?record=%3Dcmd")
	if recs, _ := csv.NewReader(strings.NewReader(string(e.b.Body))).ReadAll(); len(recs) != 2 || recs[1][3] != "'=cmd" {
		t.Fatalf("a record id starting with =: %v", recs)
	}
	for _, q := range []string{"outcome=lost", "direction=sideways", "from=2026-13-01", "from=2026-03-02&to=2026-03-01", "run=abc", "before=-1", "before=1&after=2"} {
		e.b.Get(exp+"?"+q).Want(http.StatusBadRequest, "", "filter_invalid")
		e.b.Get(e.url()+"/settings/integrations/testcrm/sync-log?"+q).Want(http.StatusBadRequest, "", "filter_invalid")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sync_log (workspace_id, connection_id, crm_record_id, outcome)
		SELECT $1, $2, 'bulk', 'synced' FROM generate_series(1, $3::int)`, e.conn.WorkspaceID, e.conn.ID, exportMaxRows); err != nil {
		t.Fatal(err)
	}
	e.b.Get(exp).Want(http.StatusUnprocessableEntity, "", "export_too_large")
	e.b.Get(exp + "?record=bulk") // exactly the cap: sent
	if n := strings.Count(string(e.b.Body), "\n"); e.b.Last.StatusCode != 200 || n != exportMaxRows+1 {
		t.Fatalf("an export of exactly the cap: %d, %d lines", e.b.Last.StatusCode, n)
	}
}

// mailbox is the console's Mailer in tests: it keeps what was sent.
type mailbox struct {
	mu   sync.Mutex
	sent []notify.Invitation
	fail error
}

func (m *mailbox) SendInvitation(_ context.Context, inv notify.Invitation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, inv)
	return nil
}

func (m *mailbox) last(t *testing.T) notify.Invitation {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no invitation was sent")
	}
	return m.sent[len(m.sent)-1]
}

var invitationRow = regexp.MustCompile(`<tr id="invitation-([0-9a-f-]{36})" data-email="([^"]+)">`)

// An invitation works once, for 7 days, until revoked or resent; the
// invitee chooses name and password and is signed in with the role; an
// email that has an account is refused; wrong links are throttled.
func TestInvitations(t *testing.T) {
	mail := &mailbox{}
	a := newAppWith(t, "", func(_ string, d *Deps) { d.Mail = mail })
	admin := a.setupAdmin(t)
	invite := func(email, role string) {
		t.Helper()
		admin.Get(a.url() + "/settings/users")
		admin.Post(a.url()+"/settings/invitations", url.Values{"csrf": {admin.CSRF()}, "email": {email}, "role": {role}})
	}
	invite("bob@acme.example", "member")
	admin.Want(200, "/settings/users", "The invitation is sent", `data-email="bob@acme.example"`)
	inv := mail.last(t)
	if inv.To != "bob@acme.example" || inv.Role != "member" || !strings.HasPrefix(inv.Link, a.url()+"/invitation?token=") ||
		inv.Expires.Sub(a.clock.Now()) != store.InvitationTTL {
		t.Fatalf("the email: %+v", inv)
	}
	// An address with an account is refused.
	invite(adminEmail, "viewer")
	admin.Want(http.StatusConflict, "", "already_member", "already a member")

	// The invitee's page, a wrong password, then the account.
	bob := webtest.NewBrowser(t)
	bob.Get(inv.Link).Want(200, "/invitation", "Join", "invited you as member")
	token, _ := url.ParseQuery(strings.SplitN(inv.Link, "?", 2)[1])
	form := url.Values{"token": {token.Get("token")}, "name": {"Bob Builder"}, "password": {"short"}, "password2": {"short"}}
	bob.Post(a.url()+"/invitation", form).Want(http.StatusUnprocessableEntity, "", `id="invitation-error"`)
	form.Set("password", "purple lantern ferry boat")
	form.Set("password2", "purple lantern ferry boat")
	bob.Post(a.url()+"/invitation", form).Want(200, "/settings/integrations", "bob@acme.example · member", "Welcome to Qwoty")
	// Used: the link works no more.
	webtest.NewBrowser(t).Get(inv.Link).Want(http.StatusGone, "", "invitation_invalid", "was used already")
	webtest.NewBrowser(t).Post(a.url()+"/invitation", form).Want(http.StatusGone, "", "invitation_invalid")
	// And the member logs in with the password they chose.
	webtest.NewBrowser(t).Post(a.url()+"/login", url.Values{"email": {"bob@acme.example"}, "password": {"purple lantern ferry boat"}}).
		Want(200, "/settings/integrations")

	// Revoked.
	invite("carol@acme.example", "viewer")
	carol := mail.last(t)
	m := invitationRow.FindStringSubmatch(string(admin.Body))
	if m == nil || m[2] != "carol@acme.example" {
		t.Fatalf("the pending invitation is not listed:\n%s", admin.Body)
	}
	admin.Post(a.url()+"/settings/invitations/"+m[1]+"/revoke", url.Values{"csrf": {admin.CSRF()}}).Want(200, "/settings/users", "revoked")
	webtest.NewBrowser(t).Get(carol.Link).Want(http.StatusGone, "", "was revoked")

	// Resent: the old link dies, the new one works.
	invite("dan@acme.example", "admin")
	old := mail.last(t)
	m = invitationRow.FindStringSubmatch(string(admin.Body))
	admin.Post(a.url()+"/settings/invitations/"+m[1]+"/resend", url.Values{"csrf": {admin.CSRF()}}).Want(200, "/settings/users", "The invitation is sent")
	fresh := mail.last(t)
	if fresh.Link == old.Link {
		t.Fatal("Resend sent the same link")
	}
	webtest.NewBrowser(t).Get(old.Link).Want(http.StatusGone, "", "invitation_invalid")
	webtest.NewBrowser(t).Get(fresh.Link).Want(200, "/invitation", "invited you as admin")

	// Expired after 7 days.
	a.clock.Add(store.InvitationTTL + time.Second)
	webtest.NewBrowser(t).Get(fresh.Link).Want(http.StatusGone, "", "expired")

	// Wrong links from one address: a few, then the address waits.
	stranger := webtest.NewBrowser(t)
	for i := range 10 {
		stranger.Get(a.url() + "/invitation?token=guess" + strings.Repeat("x", i))
		if stranger.Last.StatusCode == http.StatusTooManyRequests {
			if i <= pairFree-1 {
				t.Fatalf("refused after %d wrong links", i)
			}
			if !strings.Contains(string(stranger.Body), "rate_limited") {
				t.Fatalf("the refusal: %s", stranger.Body)
			}
			return
		}
	}
	t.Fatal("10 wrong invitation links from one address were all checked")
}
