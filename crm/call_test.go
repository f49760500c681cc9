package crm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// The request as a CRM sees it: method, path and query, bearer token,
// Accept, and a JSON or form body with its content type.
// Each CRM's package names its provider when loaded; these tests run
// without them, and the errors they read say "Salesforce".
func init() { qwoty.NameProvider(qwoty.ProviderSalesforce, "Salesforce") }

func TestCallSendsTheRequest(t *testing.T) {
	type seen struct{ method, uri, auth, accept, ctype, body string }
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(b)}
		w.Write([]byte(`{"name":"Acme"}`))
	}))
	defer srv.Close()
	ctx := context.Background()

	var out struct{ Name string }
	err := Call(ctx, Request{Provider: qwoty.ProviderHubSpot, Method: http.MethodPut, Base: srv.URL + "/", Path: "/x/1",
		Query: url.Values{"a": {"b c"}}, Token: "tok", JSON: map[string]string{"k": "v"}, Timeout: time.Second}, &out)
	want := seen{"PUT", "/x/1?a=b+c", "Bearer tok", "application/json", "application/json", `{"k":"v"}`}
	if err != nil || got != want || out.Name != "Acme" {
		t.Errorf("JSON call: %v, saw %+v, decoded %+v; want %+v", err, got, out, want)
	}

	err = Call(ctx, Request{Provider: qwoty.ProviderHubSpot, Method: http.MethodPost, Base: srv.URL, Path: "/f",
		Form: url.Values{"token": {"t"}}}, nil)
	want = seen{"POST", "/f", "", "application/json", "application/x-www-form-urlencoded", "token=t"}
	if err != nil || got != want {
		t.Errorf("form call: %v, saw %+v; want %+v", err, got, want)
	}

	if err := Call(ctx, Request{Base: srv.URL, JSON: 1, Form: url.Values{}}, nil); err == nil {
		t.Error("a call with two bodies was sent")
	}
}

// Nothing goes to a base URL that BaseURL refuses: not the token, not the
// body.
func TestCallChecksTheBaseFirst(t *testing.T) {
	var calls atomic.Int32
	tr := roundTrip(func(*http.Request) (*http.Response, error) { calls.Add(1); return nil, errors.New("no network") })
	for _, base := range []string{"", "http://crm.example", "https://u:p@crm.example", "https://crm.example?x=1", "crm.example"} {
		err := Call(context.Background(), Request{Provider: qwoty.ProviderPipedrive, Method: "GET", Base: base, Token: "secret",
			HTTP: &http.Client{Transport: tr}}, nil)
		if err == nil {
			t.Errorf("base %q accepted", base)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent to refused bases", calls.Load())
	}
}

// A refusal goes to Refused with its status, headers and body; without
// one it is a bare APIError that keeps the body and the Retry-After.
func TestCallRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte("slow down"))
	}))
	defer srv.Close()
	var status int
	var body, retry string
	mine := errors.New("mine")
	err := Call(context.Background(), Request{Provider: qwoty.ProviderSalesforce, Method: "GET", Base: srv.URL,
		Refused: func(s int, h http.Header, b []byte) error {
			status, retry, body = s, h.Get("Retry-After"), string(b)
			return mine
		}}, nil)
	if err != mine || status != 429 || retry != "7" || body != "slow down" {
		t.Errorf("Refused saw %d %q %q and Call returned %v", status, retry, body, err)
	}

	err = Call(context.Background(), Request{Provider: qwoty.ProviderSalesforce, Method: "GET", Base: srv.URL}, nil)
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrRateLimited) || ae.RetryAfter != 7*time.Second || ae.Message != "slow down" ||
		ae.Provider != qwoty.ProviderSalesforce {
		t.Errorf("bare refusal = %#v, want a 429 APIError with the body and a 7s Retry-After", err)
	}
	if want := "Salesforce answered HTTP 429: slow down (retry after 7s)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

// The call is bounded by its Timeout, and its answer by MaxAnswer.
func TestCallBounds(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write([]byte(`"` + strings.Repeat("a", MaxAnswer) + `"`))
			return
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	err := Call(context.Background(), Request{Method: "GET", Base: srv.URL, Timeout: 100 * time.Millisecond}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("call to a silent CRM: %v after %s, want a deadline error", err, time.Since(start))
	}
	var s string
	if err := Call(context.Background(), Request{Method: "GET", Base: srv.URL, Path: "/big"}, &s); err == nil || len(s) != 0 {
		t.Errorf("an answer over MaxAnswer decoded (%d bytes), err %v", len(s), err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		" 3 ":                           3 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Sun, 22 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Sun, 22 Nov 2026 09:00:00 GMT": 0,
	} {
		if got := RetryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("RetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

// Without Kinds an error means what its status or code says; Kinds, when a
// CRM sets them, replace that, and an empty list matches nothing.
func TestErrorKinds(t *testing.T) {
	all := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrInvalidGrant, ErrInvalidClient, ErrAccessDenied}
	other := errors.New("the CRM's own")
	cases := []struct {
		name string
		err  error
		is   []error
	}{
		{"401", &APIError{Status: 401}, []error{ErrUnauthorized}},
		{"403", &APIError{Status: 403}, []error{ErrForbidden}},
		{"404", &APIError{Status: 404}, []error{ErrNotFound}},
		{"429", &APIError{Status: 429}, []error{ErrRateLimited}},
		{"500", &APIError{Status: 500}, nil},
		{"403 read as a bad token", &APIError{Status: 403, Kinds: []error{ErrUnauthorized}}, []error{ErrUnauthorized}},
		{"403 read as nothing", &APIError{Status: 403, Kinds: []error{}}, nil},
		{"403 with the CRM's own", &APIError{Status: 403, Kinds: []error{ErrForbidden, other}}, []error{ErrForbidden, other}},
		{"invalid_grant", &OAuthError{Code: "invalid_grant"}, []error{ErrInvalidGrant}},
		{"invalid_client", &OAuthError{Code: "invalid_client"}, []error{ErrInvalidClient}},
		{"access_denied", &OAuthError{Code: "access_denied"}, []error{ErrAccessDenied}},
		{"invalid_request", &OAuthError{Code: "invalid_request"}, nil},
		{"a CRM's spelling", &OAuthError{Code: "user_denied", Kinds: []error{ErrAccessDenied}}, []error{ErrAccessDenied}},
	}
	for _, c := range cases {
		for _, s := range append(all, other) {
			want := false
			for _, w := range c.is {
				want = want || w == s
			}
			if errors.Is(c.err, s) != want {
				t.Errorf("%s: errors.Is(%v) = %v, want %v", c.name, s, !want, want)
			}
		}
	}
}

func TestOAuthErrorsAnswer(t *testing.T) {
	x := OAuthErrors{Provider: qwoty.ProviderSalesforce}
	cases := []struct{ body, code, desc string }{
		{`{"error":"invalid_grant","error_description":"expired access/refresh token"}`, "invalid_grant", "expired access/refresh token"},
		{"error=invalid_token&error_description=the+token+is+invalid", "invalid_token", "the token is invalid"},
		{"<html>bad gateway</html>", "", "<html>bad gateway</html>"},
		{`{"error":{"nested":true}}`, "", `{"error":{"nested":true}}`},
	}
	for _, c := range cases {
		var oe *OAuthError
		if err := x.Answer(400, nil, []byte(c.body)); !errors.As(err, &oe) || oe.Code != c.code || oe.Description != c.desc || oe.Status != 400 {
			t.Errorf("Answer(%s) = %#v, want code %q description %q", c.body, err, c.code, c.desc)
		}
	}
	// The CRM's Read sees what the standard fields gave and adds its own.
	x.Read = func(e *OAuthError, body []byte) { e.CRMCode, e.RequestID = "BAD_REFRESH_TOKEN", "c-1" }
	err := x.Answer(400, nil, []byte(`{"error":"invalid_grant","error_description":"missing or unknown refresh token"}`))
	if want := "salesforce oauth error invalid_grant (BAD_REFRESH_TOKEN): missing or unknown refresh token (HTTP 400, request id c-1)"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}

	if x.Callback(url.Values{"code": {"c"}}) != nil {
		t.Error("a callback with a code was taken for an error")
	}
	err = OAuthErrors{Provider: qwoty.ProviderPipedrive}.Callback(url.Values{"error": {"access_denied"}, "error_description": {"no"}})
	if !errors.Is(err, ErrAccessDenied) || err.Error() != "pipedrive oauth error access_denied: no" {
		t.Errorf("Callback = %v, want access_denied", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Header's entries go with the request (the bearer token is ours alone),
// and Seen is shown each answer's status and header, a refusal's too.
func TestCallHeaderAndSeen(t *testing.T) {
	var opts, auth string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, auth = r.Header.Get("Sforce-Call-Options"), r.Header.Get("Authorization")
		w.Header().Set("Sforce-Limit-Info", "api-usage=18/15000")
		w.WriteHeader(status)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var seen []string
	r := Request{Provider: qwoty.ProviderSalesforce, Method: http.MethodGet, Base: srv.URL, Path: "/x", Token: "tok",
		Header: http.Header{"Sforce-Call-Options": {"client=qwoty-sync"}, "Authorization": {"Bearer not-this"}},
		Seen:   func(st int, h http.Header) { seen = append(seen, h.Get("Sforce-Limit-Info")+" "+http.StatusText(st)) }}
	if err := Call(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	status = http.StatusServiceUnavailable
	if err := Call(context.Background(), r, nil); err == nil {
		t.Fatal("a 503 was not an error")
	}
	if opts != "client=qwoty-sync" || auth != "Bearer tok" {
		t.Fatalf("sent Sforce-Call-Options %q, Authorization %q", opts, auth)
	}
	if len(seen) != 2 || seen[0] != "api-usage=18/15000 OK" || seen[1] != "api-usage=18/15000 Service Unavailable" {
		t.Fatalf("seen %q", seen)
	}
}
