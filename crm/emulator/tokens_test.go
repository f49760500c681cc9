package emulator_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// grant is a test grant: a user of an account.
type grant struct{ account, user string }

func newStore(clock *emulator.Clock, cfg emulator.TokenConfig[grant]) *emulator.Tokens[grant] {
	cfg.Now = clock.Now
	cfg.Account = func(g grant) string { return g.account }
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = 5 * time.Minute
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = time.Hour
	}
	return emulator.NewTokens(cfg)
}

var ada = grant{"acme", "ada"}

func TestCodesAreSpentByTheirFirstUseAndExpire(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{NewCode: func(g grant) string { return g.user + "." + emulator.RandomHex(8) }})
	code := s.NewCode(ada, "https://app.example/cb", "challenge")
	clock.Advance(5*time.Minute - time.Second)
	c, state := s.Redeem(code)
	if state != emulator.Live || c.Grant != ada || c.RedirectURI != "https://app.example/cb" || c.Challenge != "challenge" {
		t.Errorf("Redeem 1 s before expiry = %+v %v, want the live code", c, state)
	}
	if _, state := s.Redeem(code); state != emulator.Unknown {
		t.Errorf("second Redeem = %v, want unknown: a code is single use", state)
	}
	code = s.NewCode(ada, "", "")
	clock.Advance(5 * time.Minute)
	if _, state := s.Redeem(code); state != emulator.Expired {
		t.Errorf("Redeem after 5 minutes = %v, want expired", state)
	}
	if _, state := s.Redeem(code); state != emulator.Unknown {
		t.Errorf("Redeem of an expired code, again = %v, want unknown: the failed attempt spent it", state)
	}
}

func TestAccessTokensExpireAndCanBeMadeToExpireNow(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{})
	a := s.Issue(ada, "")
	if a.Account != "acme" || !a.Issued.Equal(t0) || !a.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("Issue = %+v, want acme's token for an hour from now", a)
	}
	b := s.Issue(ada, "")
	if got, state := s.LookupAccess(a.Token); state != emulator.Live || got.Grant != ada {
		t.Errorf("fresh token: %v %+v", state, got)
	}

	// One token forced to expire; the other lives on.
	clock.Advance(time.Minute)
	if !s.ExpireAccess(a.Token) {
		t.Error("ExpireAccess of a live token reported false")
	}
	if got, state := s.LookupAccess(a.Token); state != emulator.Expired || !got.Expires.Equal(clock.Now()) {
		t.Errorf("after ExpireAccess: %v, expires %v; want expired now", state, got.Expires)
	}
	if s.ExpireAccess(a.Token) {
		t.Error("ExpireAccess of an expired token reported true")
	}
	if _, state := s.LookupAccess(b.Token); state != emulator.Live {
		t.Errorf("the other token after ExpireAccess(a): %v, want live", state)
	}

	clock.Advance(59 * time.Minute)
	if _, state := s.LookupAccess(b.Token); state != emulator.Expired {
		t.Errorf("after its hour: %v, want expired", state)
	}
	c := s.Issue(ada, "")
	s.ExpireAllAccess()
	if _, state := s.LookupAccess(c.Token); state != emulator.Expired {
		t.Errorf("after ExpireAllAccess: %v, want expired", state)
	}
	if _, state := s.LookupAccess("never-issued"); state != emulator.Unknown {
		t.Errorf("never issued: %v, want unknown", state)
	}
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{})
	rt := s.NewRefresh(ada)
	a := s.Issue(ada, rt)
	other := s.Issue(ada, "")

	next, ok := s.Rotate(rt)
	if !ok || next == rt {
		t.Fatalf("Rotate = %q %v, want a new token", next, ok)
	}
	if _, ok := s.UseRefresh(rt); ok {
		t.Error("the rotated-out refresh token still works")
	}
	if _, ok := s.Rotate(rt); ok {
		t.Error("a rotated-out refresh token rotated again")
	}
	if g, ok := s.UseRefresh(next); !ok || g != ada {
		t.Errorf("successor: %v %v", g, ok)
	}

	// Revoking a refresh token takes its access tokens along, not others.
	if s.Revoke(rt) {
		t.Error("Revoke of a rotated-out refresh token reported true")
	}
	b := s.Issue(ada, next)
	if !s.Revoke(next) {
		t.Fatal("Revoke(successor) = false")
	}
	if _, state := s.LookupAccess(b.Token); state != emulator.Revoked {
		t.Errorf("access token of a revoked refresh token: %v, want revoked", state)
	}
	if _, state := s.LookupAccess(a.Token); state != emulator.Live {
		t.Errorf("access token of the rotated-out refresh token: %v, want live (Salesforce keeps it)", state)
	}
	if !s.Revoke(other.Token) || s.Revoke(other.Token) {
		t.Error("Revoke of an access token: want true once, then false")
	}
	if _, state := s.LookupAccess(other.Token); state != emulator.Revoked {
		t.Errorf("revoked access token: %v", state)
	}
}

func TestRefreshIdleEndsAnUnusedRefreshToken(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{RefreshIdle: 60 * 24 * time.Hour})
	rt := s.NewRefresh(ada)
	for range 2 {
		clock.Advance(59 * 24 * time.Hour)
		if _, ok := s.UseRefresh(rt); !ok {
			t.Fatal("refresh 59 days after the last use failed")
		}
	}
	clock.Advance(30 * 24 * time.Hour)
	if _, ok := s.LookupRefresh(rt); !ok {
		t.Fatal("LookupRefresh 30 days after the last use failed")
	}
	clock.Advance(30 * 24 * time.Hour) // LookupRefresh did not count as a use
	if _, ok := s.UseRefresh(rt); ok {
		t.Error("refresh after 60 idle days worked")
	}
}

// Uninstall: the account revokes the app, and every code and token of its
// dies; other accounts keep theirs.
func TestRevokeAccountKillsEveryTokenOfTheAccount(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{})
	beta := grant{"beta", "bo"}
	code, rt, at := s.NewCode(ada, "", ""), s.NewRefresh(ada), s.Issue(ada, "")
	betaRT, betaAT := s.NewRefresh(beta), s.Issue(beta, "")

	s.RevokeAccount("acme")
	if _, state := s.Redeem(code); state != emulator.Unknown {
		t.Errorf("acme's code after uninstall: %v, want unknown", state)
	}
	if _, ok := s.UseRefresh(rt); ok {
		t.Error("acme's refresh token works after uninstall")
	}
	if _, state := s.LookupAccess(at.Token); state != emulator.Revoked {
		t.Errorf("acme's access token after uninstall: %v, want revoked", state)
	}
	if _, ok := s.UseRefresh(betaRT); !ok {
		t.Error("beta's refresh token died with acme's uninstall")
	}
	if _, state := s.LookupAccess(betaAT.Token); state != emulator.Live {
		t.Errorf("beta's access token: %v, want live", state)
	}
	s.RevokeAll()
	if _, state := s.LookupAccess(betaAT.Token); state != emulator.Revoked {
		t.Errorf("beta's access token after RevokeAll: %v, want revoked", state)
	}
}

// A store in a development server runs for hours: it keeps at most
// MaxTokens of each kind, the newest, and forgets the dead after Retain.
func TestTheStoreIsBounded(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{MaxTokens: 10, MaxCodes: 5, Retain: time.Hour})
	var tokens, refresh, codes []string
	for i := range 25 {
		g := grant{"acme", strconv.Itoa(i)}
		tokens = append(tokens, s.Issue(g, "").Token)
		refresh = append(refresh, s.NewRefresh(g))
		codes = append(codes, s.NewCode(g, "", ""))
	}
	for i, tok := range tokens {
		_, state := s.LookupAccess(tok)
		_, refreshOK := s.LookupRefresh(refresh[i])
		if want := i >= 15; (state == emulator.Live) != want || refreshOK != want {
			t.Errorf("token %d: access %v, refresh %v; want only the newest 10 kept", i, state, refreshOK)
		}
	}
	for i, c := range codes[:20] {
		if _, state := s.Redeem(c); state != emulator.Unknown {
			t.Errorf("code %d: %v, want forgotten (only the newest 5 kept)", i, state)
		}
	}

	// Dead tokens are known as such for Retain, then forgotten.
	s.ExpireAllAccess()
	s.Revoke(refresh[24])
	clock.Advance(59 * time.Minute)
	s.Issue(ada, "") // a sweep
	if _, state := s.LookupAccess(tokens[24]); state != emulator.Expired {
		t.Errorf("expired 59 minutes ago: %v, want still known as expired", state)
	}
	clock.Advance(2 * time.Minute)
	s.Issue(ada, "")
	if _, state := s.LookupAccess(tokens[24]); state != emulator.Unknown {
		t.Errorf("expired 61 minutes ago: %v, want forgotten", state)
	}
}

func TestAuthenticateNamesTheAccountInTheLedger(t *testing.T) {
	clock := emulator.NewClock(t0)
	s := newStore(clock, emulator.TokenConfig[grant]{})
	at := s.Issue(ada, "")
	// Outside an emulator there is no ledger entry: Authenticate still
	// answers.
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	if got, state := s.Authenticate(r, at.Token); state != emulator.Live || got.Account != "acme" {
		t.Errorf("Authenticate = %+v %v", got, state)
	}
}

func TestCounterIsBounded(t *testing.T) {
	var c emulator.Counter
	for i := range 5000 {
		c.Add(fmt.Sprint(i))
	}
	c.Add("0")
	if c.Get("0") != 2 || c.Get("4095") != 1 || c.Get("4096") != 0 {
		t.Errorf("counts %d %d %d, want 2, 1 and 0 (past 4096 keys)", c.Get("0"), c.Get("4095"), c.Get("4096"))
	}
}
