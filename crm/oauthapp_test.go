package crm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/qwoty/companion/qwoty"
)

// tokenServer answers every token request with status and body, and counts
// the requests.
func tokenServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func testClient(base string) *OAuthClient {
	return &OAuthClient{Provider: qwoty.ProviderHubSpot, ClientID: "cid", ClientSecret: "secret", RedirectURL: "https://app.example/cb",
		Scopes: []string{"a", "b"}, AuthBase: base, AuthPath: "/authorize", TokenBase: base, TokenPath: "/token",
		AuthStyle: oauth2.AuthStyleInParams, Timeout: time.Second}
}

func TestOAuthClientAuthCodeURL(t *testing.T) {
	c := testClient("https://auth.example/")
	raw, err := c.AuthCodeURL("st", oauth2.SetAuthURLParam("prompt", "consent"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Host != "auth.example" || u.Path != "/authorize" || q.Get("client_id") != "cid" || q.Get("state") != "st" ||
		q.Get("scope") != "a b" || q.Get("redirect_uri") != "https://app.example/cb" || q.Get("prompt") != "consent" || q.Has("client_secret") {
		t.Errorf("authorize URL %s", raw)
	}
	c.AuthBase = "http://auth.example"
	if _, err := c.AuthCodeURL("st"); err == nil {
		t.Error("AuthCodeURL accepted a plain http host off loopback")
	}
	if got := c.Config().Endpoint.AuthURL; got != "http://auth.example/authorize" {
		t.Errorf("Config's authorize URL = %q: Config checks nothing", got)
	}
}

// A token request goes nowhere without credentials, a set authentication
// style and a checked host.
func TestOAuthClientRefusesBeforeSending(t *testing.T) {
	srv, n := tokenServer(t, 200, `{"access_token":"a","token_type":"bearer"}`)
	for name, change := range map[string]func(*OAuthClient){
		"no client id":     func(c *OAuthClient) { c.ClientID = "" },
		"no secret":        func(c *OAuthClient) { c.ClientSecret = "" },
		"auto-detect auth": func(c *OAuthClient) { c.AuthStyle = oauth2.AuthStyleAutoDetect },
		"insecure host":    func(c *OAuthClient) { c.TokenBase = "http://token.example" },
	} {
		c := testClient(srv.URL)
		change(c)
		if _, err := c.Exchange(context.Background(), "code"); err == nil {
			t.Errorf("%s: Exchange went ahead", name)
		}
		if _, err := c.Refresh(context.Background(), "rt"); err == nil {
			t.Errorf("%s: Refresh went ahead", name)
		}
	}
	if n.Load() != 0 {
		t.Errorf("%d token requests sent", n.Load())
	}
}

func TestOAuthClientTokens(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	srv, _ := tokenServer(t, 200, `{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":1800,
		"hub_id":"62515","scopes":["x",1,"y"],"instance_url":"https://acme.example","ratio":1.5}`)
	c := testClient(srv.URL)
	c.Now = func() time.Time { return now }
	ans, err := c.Exchange(context.Background(), "code")
	if err != nil {
		t.Fatal(err)
	}
	if ans.AccessToken != "a" || ans.RefreshToken != "r" || !ans.Start.Equal(now) || ans.Text("instance_url") != "https://acme.example" ||
		ans.Text("hub_id") != "62515" || ans.Text("missing") != "" || !slices.Equal(ans.Texts("scopes"), []string{"x", "y"}) {
		t.Errorf("answer = %+v", ans)
	}
	for key, want := range map[string]int64{"expires_in": 1800, "hub_id": 62515} {
		if got, ok := ans.Int(key); !ok || got != want {
			t.Errorf("Int(%s) = %d, %v; want %d", key, got, ok, want)
		}
	}
	for _, key := range []string{"ratio", "instance_url", "missing"} {
		if _, ok := ans.Int(key); ok {
			t.Errorf("Int(%s) read a whole number", key)
		}
	}
	if _, ok := (&TokenAnswer{Token: (&oauth2.Token{}).WithExtra(map[string]any{"n": json.Number("12")})}).Int("n"); !ok {
		t.Error("Int refused a json.Number")
	}

	srv, _ = tokenServer(t, 200, `{"access_token":"a","token_type":"mac"}`)
	if _, err := testClient(srv.URL).Refresh(context.Background(), "rt"); err == nil || !strings.Contains(err.Error(), "not bearer") {
		t.Errorf("a mac token: %v, want it refused", err)
	}
}

// A refusal is read by the CRM's OAuthErrors; a network error stays what
// it is.
func TestOAuthClientErrors(t *testing.T) {
	srv, _ := tokenServer(t, 400, `{"error":"invalid_grant","error_description":"expired","correlationId":"c-9"}`)
	c := testClient(srv.URL)
	c.Errors = OAuthErrors{Provider: qwoty.ProviderHubSpot, Read: func(e *OAuthError, body []byte) {
		var v struct{ CorrelationID string }
		json.Unmarshal(body, &v)
		e.RequestID = v.CorrelationID
	}}
	_, err := c.Refresh(context.Background(), "rt")
	var oe *OAuthError
	if !errors.Is(err, ErrInvalidGrant) || !errors.As(err, &oe) || oe.Status != 400 || oe.Description != "expired" ||
		oe.RequestID != "c-9" || oe.Provider != qwoty.ProviderHubSpot {
		t.Errorf("refused refresh: %#v", err)
	}

	c.HTTP = &http.Client{Transport: roundTrip(func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded })}
	if _, err := c.Exchange(context.Background(), "code"); !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &oe) {
		t.Errorf("network failure: %v, want the deadline error itself", err)
	}
}

// Post reaches the token host's other endpoints; their refusals are
// OAuthErrors too.
func TestOAuthClientPost(t *testing.T) {
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		if r.URL.Path == "/revoke" && form.Get("token") == "dead" {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_token"}`))
			return
		}
		w.Write([]byte(`{"active":true}`))
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	var v struct{ Active bool }
	if err := c.Post(context.Background(), "/introspect", url.Values{"token": {"t"}}, &v); err != nil || !v.Active || form.Get("token") != "t" {
		t.Errorf("Post = %v, %+v, sent %v", err, v, form)
	}
	var oe *OAuthError
	if err := c.Post(context.Background(), "/revoke", url.Values{"token": {"dead"}}, nil); !errors.As(err, &oe) || oe.Code != "invalid_token" {
		t.Errorf("refused Post = %v, want an OAuthError invalid_token", err)
	}
}
