package hubspot_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/qwoty"
)

func TestRequestURI(t *testing.T) {
	const target = "/api/crm/hubspot/card?associatedObjectId=1234&userEmail=rep%40acme.example&x=a%2Bb"
	tests := []struct {
		name    string
		req     func() *http.Request
		trusted bool
		want    string
	}{
		{
			name: "plain http keeps the raw query",
			req:  func() *http.Request { return httptest.NewRequest("GET", "http://app.internal:8080"+target, nil) },
			want: "http://app.internal:8080" + target,
		},
		{
			name: "TLS served directly",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "https://quotes.example.com"+target, nil)
				r.TLS = &tls.ConnectionState{}
				return r
			},
			want: "https://quotes.example.com" + target,
		},
		{
			name: "trusted proxy: forwarded scheme and host, first of each",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "http://10.0.0.5:8080"+target, nil)
				r.Header.Set("X-Forwarded-Proto", "HTTPS, http")
				r.Header.Set("X-Forwarded-Host", "quotes.example.com, lb.internal")
				return r
			},
			trusted: true,
			want:    "https://quotes.example.com" + target,
		},
		{
			name: "untrusted: forwarded headers ignored",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "http://10.0.0.5:8080"+target, nil)
				r.Header.Set("X-Forwarded-Proto", "https")
				r.Header.Set("X-Forwarded-Host", "quotes.example.com")
				return r
			},
			want: "http://10.0.0.5:8080" + target,
		},
		{
			name: "trusted proxy with a nonsense scheme keeps ours",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "http://quotes.example.com"+target, nil)
				r.Header.Set("X-Forwarded-Proto", "javascript")
				return r
			},
			trusted: true,
			want:    "http://quotes.example.com" + target,
		},
		{
			name: "absolute-form target keeps only path and query",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "http://quotes.example.com"+target, nil)
				r.RequestURI = "http://quotes.example.com" + target
				return r
			},
			want: "http://quotes.example.com" + target,
		},
		{
			name: "client-side request (no RequestURI) uses its URL, wire form",
			req: func() *http.Request {
				r, err := http.NewRequest("GET", "https://quotes.example.com"+target, nil)
				if err != nil {
					t.Fatal(err)
				}
				return r
			},
			want: "https://quotes.example.com" + target,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hubspot.RequestURI(tt.req(), tt.trusted); got != tt.want {
				t.Errorf("RequestURI = %q, want %q", got, tt.want)
			}
		})
	}
}

// Behind a TLS-terminating proxy, the signature verifies only on the URI
// rebuilt from the trusted forwarded headers.
func TestRequestURIBehindProxyVerifies(t *testing.T) {
	public := "https://quotes.example.com/api/crm/hubspot/card?associatedObjectId=1234&portalId=62515&userEmail=rep%40acme.example"
	sig := hubspot.SignV3(docSecret, "GET", public, nil, signedAt)

	r := httptest.NewRequest("GET", "http://10.0.0.5:8080/api/crm/hubspot/card?associatedObjectId=1234&portalId=62515&userEmail=rep%40acme.example", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "quotes.example.com")

	if err := hubspot.VerifyV3(docSecret, r.Method, hubspot.RequestURI(r, true), nil, sig, tsHeader, signedAt); err != nil {
		t.Errorf("trusted proxy: %v, want success", err)
	}
	err := hubspot.VerifyV3(docSecret, r.Method, hubspot.RequestURI(r, false), nil, sig, tsHeader, signedAt)
	if qwoty.ErrorCode(err) != qwoty.CodeSignatureInvalid {
		t.Errorf("untrusted proxy headers: %v, want signature_invalid", err)
	}
}
