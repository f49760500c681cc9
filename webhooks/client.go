package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is the error of a target that resolves to an address
// webhooks may not reach (loopback, private, link-local, metadata, ...).
var ErrForbiddenAddress = errors.New("webhooks: the target's address is not a public one")

// blocked are the networks a delivery never connects to in production.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", unspecified
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b::/96",    // NAT64: may embed any IPv4 address
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique local (fd00:ec2::254, a metadata address, is in it)
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// loopback are the networks development may reach.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Allowed says whether a delivery may connect to addr; allowLoopback lets
// development reach a receiver on this machine. An IPv4-mapped IPv6
// address is judged as its IPv4 one.
func Allowed(addr netip.Addr, allowLoopback bool) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	if allowLoopback {
		for _, p := range loopback {
			if p.Contains(addr) {
				return true
			}
		}
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Policy is what targets a server accepts.
type Policy struct {
	// Development allows http:// targets and loopback addresses (a
	// receiver on the developer's machine); production allows neither.
	Development bool
}

// CheckURL checks a subscription's target URL as it is saved (CheckScheme)
// and, when its host is an IP address or localhost, refuses one that is
// not public. A host name is checked at every connection, on the address
// actually dialled (see Client).
func (p Policy) CheckURL(raw string) error {
	u, err := p.CheckScheme(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil && !Allowed(a, p.Development) {
		return fmt.Errorf("%s is not a public address", host)
	}
	if !p.Development && (strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost")) {
		return fmt.Errorf("%s is this server", host)
	}
	return nil
}

// CheckScheme checks what a delivery checks of its URL before it dials:
// absolute, https (http in development), no user information, no
// fragment.
func (p Policy) CheckScheme(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return nil, errors.New("the URL must be absolute, like https://example.com/hooks/qwoty")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.Development:
	default:
		return nil, errors.New("the URL must use https")
	}
	if u.User != nil {
		return nil, errors.New("the URL must not carry a user name or password")
	}
	if u.Fragment != "" {
		return nil, errors.New("the URL must not have a #fragment")
	}
	return u, nil
}

// Timeouts of one delivery.
const (
	dialTimeout    = 5 * time.Second
	requestTimeout = 10 * time.Second
)

// Client returns the HTTP client that delivers: it refuses, on the address
// it is about to connect to (after DNS, so a name that resolves, or
// re-resolves, to an internal address cannot pass), every address Allowed
// refuses; it uses no proxy from the environment (a proxy would dial in our
// stead), follows no redirect (a 3xx is the receiver's answer, logged) and
// gives up after requestTimeout.
func (p Policy) Client() *http.Client {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			if !Allowed(ap.Addr(), p.Development) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
			}
			return nil
		}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: requestTimeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
