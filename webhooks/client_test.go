package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/qwoty/companion/webhooks"
)

func post(c *http.Client, url string) (int, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader("{}"))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// In production the client connects to no internal address, whatever the
// URL names: an IP, or a host name that resolves to one (checked on the
// address dialled, so a name re-resolving to one later is refused too).
func TestProductionRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tls.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	prod := webhooks.Policy{}.Client()
	for _, url := range []string{
		srv.URL,                    // 127.0.0.1
		tls.URL,                    // https on 127.0.0.1
		"https://localhost" + port, // a name resolving to loopback
		"http://[::1]" + port,      // IPv6 loopback
		"https://10.0.0.1/",        // private
		"https://172.16.5.4/",      // private
		"https://192.168.1.1/",     // private
		"https://100.64.0.1/",      // CGNAT
		"https://169.254.169.254/latest/meta-data/", // cloud metadata
		"https://[fd00:ec2::254]/",                  // cloud metadata, IPv6
		"https://[::ffff:127.0.0.1]" + port,         // IPv4-mapped loopback
		"https://0.0.0.0" + port,                    // unspecified
		"https://224.0.0.1/",                        // multicast
	} {
		_, err := post(prod, url)
		if !errors.Is(err, webhooks.ErrForbiddenAddress) {
			t.Errorf("production POST %s: %v; want ErrForbiddenAddress", url, err)
		}
	}
	// Development reaches loopback, and nothing else internal.
	dev := webhooks.Policy{Development: true}.Client()
	if code, err := post(dev, srv.URL); err != nil || code != http.StatusOK {
		t.Errorf("development POST %s: %d, %v; want 200", srv.URL, code, err)
	}
	if code, err := post(dev, "http://localhost"+port); err != nil || code != http.StatusOK {
		t.Errorf("development POST localhost: %d, %v; want 200", code, err)
	}
	for _, url := range []string{"https://10.0.0.1/", "https://169.254.169.254/"} {
		if _, err := post(dev, url); !errors.Is(err, webhooks.ErrForbiddenAddress) {
			t.Errorf("development POST %s: %v; want ErrForbiddenAddress", url, err)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	code, err := post(webhooks.Policy{Development: true}.Client(), srv.URL)
	if err != nil || code != http.StatusTemporaryRedirect || hits != 1 {
		t.Fatalf("POST to a redirect: %d, %v, %d requests; want the 307 itself, one request", code, err, hits)
	}
}

func TestCheckURL(t *testing.T) {
	cases := []struct {
		url  string
		dev  bool
		want bool
	}{
		{"https://hooks.example.com/qwoty?x=1", false, true},
		{"http://hooks.example.com/qwoty", false, false},
		{"http://hooks.example.com/qwoty", true, true},
		{"https://127.0.0.1/", false, false},
		{"http://127.0.0.1:9000/", true, true},
		{"https://localhost/", false, false},
		{"https://10.0.0.1/", true, false},
		{"https://169.254.169.254/", false, false},
		{"https://[fd00:ec2::254]/", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"hooks.example.com/qwoty", false, false},
		{"ftp://hooks.example.com/", false, false},
		{"https://hooks.example.com/#frag", false, false},
	}
	for _, c := range cases {
		err := webhooks.Policy{Development: c.dev}.CheckURL(c.url)
		if (err == nil) != c.want {
			t.Errorf("CheckURL(%q, development %v) = %v; want ok %v", c.url, c.dev, err, c.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	for _, a := range []string{"8.8.8.8", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1"} {
		if !webhooks.Allowed(netip.MustParseAddr(a), false) {
			t.Errorf("%s refused; it is public", a)
		}
	}
	for _, a := range []string{"127.0.0.2", "172.31.255.255", "fe80::1", "fc00::1", "ff02::1", "::", "169.254.0.1", "::ffff:10.1.2.3"} {
		if webhooks.Allowed(netip.MustParseAddr(a), false) {
			t.Errorf("%s allowed; it is not public", a)
		}
	}
}
