package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web/webtest"
)

// loginApp is a server behind a trusted proxy at 127.0.0.1, so a test
// chooses each request's client address with X-Forwarded-For, and with one
// admin account.
type loginApp struct {
	*testApp
	delays  chan time.Duration // the soft slowdowns asked for, when recorded
	timeout time.Duration      // of each login (default 30 s)
}

func newLoginApp(t *testing.T, hasher *password.Hasher) *loginApp {
	t.Helper()
	a := newAppWith(t, "", func(_ string, d *Deps) {
		d.Config.TrustedProxies = []string{"127.0.0.1/32"}
		d.Hasher = hasher
	})
	ctx := context.Background()
	token, err := a.db.NewSetupToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := a.con.hasher.Hash(ctx, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.CreateFirstAdmin(ctx, token, "Acme", store.NewUser{Email: adminEmail, Name: "Ada", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	return &loginApp{testApp: a}
}

// recordDelays makes the account's soft slowdown return at once, recording
// how long it would have been.
func (a *loginApp) recordDelays() {
	a.delays = make(chan time.Duration, 1000)
	a.con.sleep = func(_ context.Context, d time.Duration) bool { a.delays <- d; return true }
}

// login posts the login form from client address from.
func (a *loginApp) login(t *testing.T, from, email, pw string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url()+"/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", from)
	timeout := a.timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (r response) wantLogin(t *testing.T, status int, contains string) {
	t.Helper()
	if r.status != status || !strings.Contains(string(r.body), contains) {
		t.Fatalf("login answered %d, want %d with %q\n%s", r.status, status, contains, r.body)
	}
}

func retryAfterOf(t *testing.T, r response) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds (status %d)", r.header.Get("Retry-After"), r.status)
	}
	return time.Duration(n) * time.Second
}

func TestLoginOwnerOnAFreshAddressLogsInAfterFiftyFailuresFromAnother(t *testing.T) {
	a := newLoginApp(t, nil)
	a.recordDelays()
	const attacker, owner = "198.51.100.7", "203.0.113.20"

	// 50 wrong passwords from one address, each sent as soon as the
	// throttle allows (the test clock jumps over each Retry-After).
	refusals := 0
	for failures := 0; failures < 50; {
		r := a.login(t, attacker, adminEmail, fmt.Sprintf("guess number %d", failures))
		switch r.status {
		case http.StatusUnauthorized:
			failures++
		case http.StatusTooManyRequests:
			r.wantLogin(t, 429, "wait")
			refusals++
			a.clock.Add(retryAfterOf(t, r))
		default:
			t.Fatalf("attempt %d: status %d\n%s", failures, r.status, r.body)
		}
	}
	if refusals < 40 {
		t.Fatalf("the attacker was refused %d times over 50 failures, want a wait before nearly each one past the first 5", refusals)
	}
	// The attacker's address must wait even with the right password...
	a.login(t, attacker, adminEmail, adminPassword).wantLogin(t, 429, "Too many failed")
	// ...the owner, on an address that has not failed, logs in: slower
	// (the account is under attack), never refused.
	for len(a.delays) > 0 {
		<-a.delays
	}
	r := a.login(t, owner, adminEmail, adminPassword)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/settings/integrations" {
		t.Fatalf("the owner on a fresh address: %d %s, want 303 to /settings/integrations\n%s", r.status, r.header.Get("Location"), r.body)
	}
	select {
	case d := <-a.delays:
		if d != accountMaxDelay {
			t.Fatalf("the owner's login was slowed by %s, want the cap %s after 50 failures", d, accountMaxDelay)
		}
	default:
		t.Fatal("the owner's login was not slowed: an account under attack should get slower")
	}
	// The owner's success cleared the account's slowdown.
	a.login(t, owner, adminEmail, "a typo in it").wantLogin(t, 401, "do not match")
	if len(a.delays) != 0 {
		t.Fatalf("after the owner's success the account is still slowed by %s", <-a.delays)
	}
}

func TestLoginSprayingManyEmailsFromOneAddressIsRefused(t *testing.T) {
	a := newLoginApp(t, nil)
	const sprayer = "198.51.100.9"
	var refused response
	for i := range 30 {
		r := a.login(t, sprayer, fmt.Sprintf("user%d@victim.example", i), "Summer is here 2025")
		if r.status == http.StatusTooManyRequests {
			refused = r
			if i < addrFree {
				t.Fatalf("refused after %d failures, want %d free", i, addrFree)
			}
			continue
		}
		r.wantLogin(t, 401, "do not match")
		if i > addrFree {
			t.Fatalf("attempt %d from one address over %d emails was checked, want it refused", i+1, i+1)
		}
	}
	if refused.status == 0 {
		t.Fatal("30 emails sprayed from one address: none refused")
	}
	refused.wantLogin(t, 429, "Too many failed logins from your network")
	retryAfterOf(t, refused)
	// Even a right password waits from there; elsewhere, nobody is affected.
	a.login(t, sprayer, adminEmail, adminPassword).wantLogin(t, 429, "Too many failed logins from your network")
	a.login(t, "203.0.113.5", "user1@victim.example", "Summer is here 2025").wantLogin(t, 401, "do not match")
	a.login(t, "203.0.113.6", adminEmail, adminPassword).wantLogin(t, 303, "")
}

func TestLoginIgnoresForwardedForWithoutATrustedProxy(t *testing.T) {
	a := newApp(t, "")
	l := &loginApp{testApp: a}
	// Every request claims another address; none is believed.
	var last response
	for i := range addrFree + 2 {
		last = l.login(t, fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("u%d@spray.example", i), "Summer is here 2025")
	}
	last.wantLogin(t, 429, "Too many failed logins from your network")
}

func TestLoginCapsLoginsInFlightPerAddress(t *testing.T) {
	a := newLoginApp(t, nil)
	// Slow the account down, and hold its slowdown open: the logins that
	// reach it stay in flight.
	for range accountFree + 1 {
		a.con.logins.fail("192.0.2.200", adminEmail)
	}
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // before the server closes, should the test fail
	entered := make(chan struct{}, 10)
	a.con.sleep = func(ctx context.Context, _ time.Duration) bool {
		entered <- struct{}{}
		select {
		case <-hold:
			return true
		case <-ctx.Done():
			return false
		}
	}
	const client = "198.51.100.50"
	var wg sync.WaitGroup
	statuses := make(chan int, 3)
	for _, from := range []string{client, client, "198.51.100.51"} {
		wg.Go(func() { statuses <- a.login(t, from, adminEmail, "a wrong guess!").status })
	}
	for range 3 {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the logins did not reach the slowdown")
		}
	}
	start := time.Now()
	a.timeout = 5 * time.Second // a third login that was let in would wait in the slowdown
	r := a.login(t, client, adminEmail, "a third at once")
	a.timeout = 0
	r.wantLogin(t, 429, "Another login from your network is still being checked")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the refusal took %s, want it at once", took)
	}
	if retryAfterOf(t, r) != retryClientBusy {
		t.Fatalf("Retry-After %s, want %s", retryAfterOf(t, r), retryClientBusy)
	}
	release()
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusUnauthorized {
			t.Fatalf("a login admitted under the cap answered %d, want 401", s)
		}
	}
	// Once they ended, the address may log in again.
	a.con.sleep = func(context.Context, time.Duration) bool { return true }
	a.login(t, client, adminEmail, adminPassword).wantLogin(t, 303, "")
}

func TestLoginHashingIsBoundedAndRefusesWhenTheQueueIsFull(t *testing.T) {
	h := password.NewHasher(password.Options{Concurrency: 1, Queue: 2, MaxWait: 10 * time.Second})
	a := newLoginApp(t, h)
	const n = 12
	type result struct {
		status int
		retry  string
		body   string
		took   time.Duration
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			email := adminEmail
			if i%2 == 0 {
				email = fmt.Sprintf("nobody%d@acme.example", i)
			}
			r := a.login(t, fmt.Sprintf("198.51.100.%d", 100+i), email, "not the password")
			results <- result{r.status, r.header.Get("Retry-After"), string(r.body), time.Since(start)}
		})
	}
	wg.Wait()
	close(results)
	var checked, busy int
	for r := range results {
		switch r.status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusServiceUnavailable:
			busy++
			if r.retry != strconv.Itoa(retrySeconds(retryBusy)) || !strings.Contains(r.body, "The server is busy checking other logins") {
				t.Fatalf("a refusal: Retry-After %q, page %s", r.retry, r.body)
			}
			if r.took > 5*time.Second {
				t.Fatalf("a refusal took %s: a full queue should refuse at once, not after MaxWait", r.took)
			}
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	s := h.Stats()
	if s.Peak != 1 {
		t.Fatalf("%d password checks ran at once, want at most 1 (Concurrency)", s.Peak)
	}
	if busy == 0 || checked == 0 {
		t.Fatalf("%d logins at once with 1 turn and 2 waiting: %d checked, %d refused; want some of each", n, checked, busy)
	}
}

func TestLoginUnknownEmailTakesAsLongWithoutHashing(t *testing.T) {
	h := password.NewHasher(password.Options{})
	a := newLoginApp(t, h)
	timed := func(email string) time.Duration {
		// Past the previous turn's rest, which would count in this one.
		time.Sleep(2*h.Stats().Cost + 50*time.Millisecond)
		start := time.Now()
		a.login(t, "198.51.100.77", email, "not the password").wantLogin(t, 401, "do not match")
		return time.Since(start)
	}
	var known, unknown time.Duration
	const n = 4
	timed(adminEmail) // warm-up, and the first measure
	for i := range n {
		known += timed(adminEmail)
		before := h.Stats()
		unknown += timed(fmt.Sprintf("nobody%d@acme.example", i))
		after := h.Stats()
		if after.Computed != before.Computed || after.Simulated != before.Simulated+1 {
			t.Fatalf("an unknown email's login: %d argon2 computations, %d simulated; want 0 and 1",
				after.Computed-before.Computed, after.Simulated-before.Simulated)
		}
	}
	a.con.logins.succeed("198.51.100.77", adminEmail)
	ratio := float64(unknown) / float64(known)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("an unknown email's login took %s on average, a known one's %s: want about the same", unknown/n, known/n)
	}
}

func TestNewPasswordsRefuseCommonOnes(t *testing.T) {
	e := newConsoleEnv(t, "", nil)
	// The setup form: a common password is refused with the reason.
	token, err := e.db.NewSetupToken(context.Background(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := webtest.NewBrowser(t)
	b.Post(e.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "name": {"Ada"}, "email": {adminEmail}, "password": {"Password2024!"}}).
		Want(422, "/setup", "This password is one of the most commonly used")
	b.Post(e.url()+"/setup", url.Values{"token": {token}, "workspace": {"Acme"}, "name": {"Ada"}, "email": {adminEmail}, "password": {"qwertyuiop12"}}).
		Want(422, "/setup", "simple sequence or keyboard pattern")
	// A wrong link costs no hash.
	before := e.con.hasher.Stats().Computed
	b.Post(e.url()+"/setup", url.Values{"token": {"not-a-token"}, "workspace": {"Acme"}, "email": {adminEmail}, "password": {adminPassword}}).
		Want(403, "", "setup link is used, expired, or not valid")
	if c := e.con.hasher.Stats().Computed; c != before {
		t.Fatalf("a setup form with a wrong link computed %d hashes, want 0", c-before)
	}

	// An invitee chooses their password under the same rules.
	e.setupAdmin(t)
	var ws string
	if err := storetest.Pool(t, e.db).QueryRow(context.Background(), `SELECT workspace_id::text FROM users WHERE email = $1`, adminEmail).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	inv, _, err := e.db.Invite(context.Background(), ws, "bob.builder@acme.example", qwoty.RoleMember, adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	accept := func(pw string) *webtest.Browser {
		return webtest.NewBrowser(t).Post(e.url()+"/invitation", url.Values{"token": {inv}, "name": {"Bob"}, "password": {pw}, "password2": {pw}})
	}
	accept("iloveyou2023!").Want(422, "", "This password is one of the most commonly used")
	accept("builder of bridges").Want(422, "", "contains the email address")
	accept("purple lantern ferry").Want(200, "/settings/integrations", "bob.builder@acme.example")
}

func TestLoginThrottleIsBoundedAndBacksOff(t *testing.T) {
	clk := &clock{t: time.Now()}
	th := newLoginThrottle(clk.Now)
	for _, ft := range []*failureTable{&th.pairs, &th.addrs, &th.accounts} {
		ft.max = 100
	}
	// A spray from thousands of addresses never grows a table past its cap.
	for i := range 5000 {
		th.fail(fmt.Sprintf("10.%d.%d.1", i/250, i%250), fmt.Sprintf("u%d@x.example", i))
	}
	for name, ft := range map[string]*failureTable{"pairs": &th.pairs, "addresses": &th.addrs, "accounts": &th.accounts} {
		if n := len(ft.entries); n > 100 {
			t.Fatalf("%s table holds %d entries, want at most 100", name, n)
		}
	}
	// Forgotten entries make room first.
	clk.Add(forget)
	th.fail("192.0.2.1", "new@x.example")
	if n := len(th.addrs.entries); n > 100-31 {
		t.Fatalf("after an hour, adding one key left %d entries, want the forgotten ones among those seen dropped", n)
	}

	// The wait doubles with each failure past the free ones, up to the cap.
	const addr, email = "198.51.100.1", "a@x.example"
	for range pairFree {
		th.fail(addr, email)
	}
	if v := th.check(addr, email); v.wait != 0 {
		t.Fatalf("after %d failures: wait %s, want none yet", pairFree, v.wait)
	}
	var waits []time.Duration
	for range 4 {
		th.fail(addr, email)
		waits = append(waits, th.check(addr, email).wait)
	}
	if waits[0] != time.Second || waits[1] != 2*time.Second || waits[3] != 8*time.Second {
		t.Fatalf("waits %v, want 1s 2s 4s 8s", waits)
	}
	for range 30 {
		th.fail(addr, email)
	}
	if v := th.check(addr, email); v.wait != backoffMax {
		t.Fatalf("after many failures: wait %s, want the cap %s", v.wait, backoffMax)
	}
	clk.Add(backoffMax)
	if v := th.check(addr, email); v.wait != 0 {
		t.Fatalf("after waiting the cap: wait %s, want none", v.wait)
	}

	// One IPv6 host picking addresses in its /64 is one client.
	if a, b := clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:2:ffff::9"); a != b {
		t.Fatalf("two addresses of one /64 count as %q and %q, want one key", a, b)
	}
	if a, b := clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:3::1"); a == b {
		t.Fatal("two /64s count as one client")
	}
	if k := clientKey("::ffff:192.0.2.7"); k != "192.0.2.7" {
		t.Fatalf("an IPv4-mapped address counts as %q, want 192.0.2.7", k)
	}
}
