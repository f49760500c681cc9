// Package oauthtest plays the browser's part of an OAuth flow for the CRM
// clients' tests. Only tests import it.
package oauthtest

import (
	"net/http"
	"net/url"
	"testing"
)

// Authorize follows the browser's first hop: it GETs authURL without
// following redirects, wants the CRM's 302 to redirectURL (the callback,
// without its query), and returns the callback's query.
func Authorize(t testing.TB, authURL, redirectURL string) url.Values {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d, want a 302 to the callback", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize redirected to %q: %v", resp.Header.Get("Location"), err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("authorize redirected to %s, want the callback %s", got, redirectURL)
	}
	return loc.Query()
}
