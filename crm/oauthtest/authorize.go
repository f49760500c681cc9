// Package oauthtest plays the browser's part of an OAuth flow against a CRM
// emulator, for the CRM clients' tests and the load tools. The server
// never imports it.
package oauthtest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Follow is Authorize for a program: it returns what went wrong rather
// than failing a test.
func Follow(authURL, redirectURL string) (url.Values, error) {
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("authorize answered %d, want a 302 to the callback", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("authorize redirected to %q: %w", resp.Header.Get("Location"), err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		return nil, fmt.Errorf("authorize redirected to %s, want the callback %s", got, redirectURL)
	}
	return loc.Query(), nil
}

// Authorize follows the browser's first hop: it GETs authURL without
// following redirects, wants the CRM's 302 to redirectURL (the callback,
// without its query), and returns the callback's query.
func Authorize(t testing.TB, authURL, redirectURL string) url.Values {
	t.Helper()
	q, err := Follow(authURL, redirectURL)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
