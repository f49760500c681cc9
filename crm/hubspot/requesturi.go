package hubspot

import (
	"net/http"
	"net/url"
	"strings"
)

// RequestURI rebuilds the full URI HubSpot called, the one its v3 signature
// covers: scheme and host as HubSpot saw them, then the path and query
// exactly as they arrived on the wire (r.RequestURI), never re-encoded.
//
// Behind a TLS-terminating proxy we receive plain http on an inner host, so
// the scheme and host come from X-Forwarded-Proto and X-Forwarded-Host, but
// only when trustForwarded says the request came through our own proxy:
// anyone can send those headers. With several proxies, the first value of
// each is the one nearest HubSpot.
func RequestURI(r *http.Request, trustForwarded bool) string {
	scheme := "http"
	switch {
	case r.TLS != nil:
		scheme = "https"
	case r.RequestURI == "" && r.URL != nil && r.URL.Scheme != "":
		// A request built by a client (a test handing the emulator's
		// request to a handler) was never received: its URL says where it
		// was going. A received request always has a RequestURI.
		scheme = r.URL.Scheme
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if trustForwarded {
		if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + requestTarget(r)
}

// requestTarget is the path and query as received. A request built by a
// client (tests, the emulator) has no RequestURI: its URL is then the wire
// form. An absolute-form target (sent to a proxy) keeps only its path and
// query, since scheme and host were settled above.
func requestTarget(r *http.Request) string {
	target := r.RequestURI
	if target == "" {
		if r.URL == nil {
			return "/"
		}
		return r.URL.RequestURI()
	}
	if !strings.HasPrefix(target, "/") {
		if u, err := url.Parse(target); err == nil && u.Host != "" {
			target = u.EscapedPath()
			if target == "" {
				target = "/"
			}
			if u.RawQuery != "" || u.ForceQuery {
				target += "?" + u.RawQuery
			}
		}
	}
	return target
}

func firstValue(h string) string {
	first, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(first)
}
