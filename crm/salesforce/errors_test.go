package salesforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
)

func TestParseAPIError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   APIError
		is     error
	}{
		{"expired session", 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
			APIError{Status: 401, Code: "INVALID_SESSION_ID", Message: "Session expired or invalid", FromSalesforce: true}, ErrUnauthorized},
		{"no such resource", 404, `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL /Qwoty/qwoty/config"}]`,
			APIError{Status: 404, Code: "NOT_FOUND", Message: "Could not find a match for URL /Qwoty/qwoty/config", FromSalesforce: true}, ErrPackageNotInstalled},
		{"no class access", 403, `[{"errorCode":"FORBIDDEN","message":"You do not have access to the Apex class named: QwotyConfigResource"}]`,
			APIError{Status: 403, Code: "FORBIDDEN", Message: "You do not have access to the Apex class named: QwotyConfigResource", FromSalesforce: true}, ErrInsufficientAccess},
		{"not an admin", 403, `{"ok":false,"code":"INSUFFICIENT_ACCESS","message":"m","hint":"h","field":null}`,
			APIError{Status: 403, Code: "INSUFFICIENT_ACCESS", Message: "m", Hint: "h"}, ErrInsufficientAccess},
		{"bad field", 400, `{"ok":false,"code":"BAD_REQUEST","message":"appUrl must be...","hint":"h","field":"appUrl"}`,
			APIError{Status: 400, Code: "BAD_REQUEST", Message: "appUrl must be...", Hint: "h", Field: "appUrl"}, nil},
		{"identity service, expired token", 403, "Bad_OAuth_Token",
			APIError{Status: 403, Code: "Bad_OAuth_Token", FromSalesforce: true}, ErrUnauthorized},
		{"identity service, unknown id", 404, "Bad_Id",
			APIError{Status: 404, Code: "Bad_Id", FromSalesforce: true}, nil},
		{"a proxy's page", 404, "<html><body>Not Found</body></html>",
			APIError{Status: 404, Message: "<html><body>Not Found</body></html>"}, nil},
		{"a package 404 object is not a missing package", 404, `{"ok":false,"code":"NOT_FOUND","message":"m"}`,
			APIError{Status: 404, Code: "NOT_FOUND", Message: "m"}, nil},
	}
	sentinels := []error{ErrUnauthorized, ErrPackageNotInstalled, ErrInsufficientAccess}
	for _, c := range cases {
		got := parseAPIError(c.status, []byte(c.body))
		if *got != c.want {
			t.Errorf("%s: parseAPIError = %+v, want %+v", c.name, *got, c.want)
		}
		for _, s := range sentinels {
			if errors.Is(got, s) != (s == c.is) {
				t.Errorf("%s: errors.Is(%v) = %v, want %v", c.name, s, errors.Is(got, s), s == c.is)
			}
		}
	}
}

func TestVerifySignature(t *testing.T) {
	const secret, id, at = "consumer-secret", "https://login.salesforce.com/id/00D5g000004XyZaEAK/0055g00000AdMinAAF", "1278448384422"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + at))
	good := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if err := verifySignature(secret, id, at, good); err != nil {
		t.Errorf("a right signature was refused: %v", err)
	}
	for name, args := range map[string][4]string{
		"other secret":    {"other", id, at, good},
		"other id":        {secret, id + "x", at, good},
		"other issued_at": {secret, id, "1278448384423", good},
		"not base64":      {secret, id, at, "%%%"},
		"truncated":       {secret, id, at, good[:20]},
	} {
		if err := verifySignature(args[0], args[1], args[2], args[3]); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: verifySignature = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestParseIdentityURL(t *testing.T) {
	org, user, err := parseIdentityURL("https://login.salesforce.com/id/00D5g000004XyZa/0055g00000AdMin")
	if err != nil || org != "00D5g000004XyZaEAK" || user != "0055g00000AdMinAAF" {
		t.Errorf("parseIdentityURL = %q %q %v; want the 18-character ids", org, user, err)
	}
	for _, bad := range []string{
		"", "https://login.salesforce.com/", "https://login.salesforce.com/id/00D5g000004XyZa",
		"https://login.salesforce.com/x/00D5g000004XyZa/0055g00000AdMin",
		"https://login.salesforce.com/id/0055g00000AdMin/0055g00000AdMin", // not an org id
		"http://evil.example/id/00D5g000004XyZa/0055g00000AdMin",
	} {
		if _, _, err := parseIdentityURL(bad); err == nil {
			t.Errorf("parseIdentityURL(%q) accepted it", bad)
		}
	}
}

func TestBaseURL(t *testing.T) {
	good := map[string]string{
		"https://login.salesforce.com/":                       "https://login.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com":         "https://acme--uat.sandbox.my.salesforce.com",
		"http://127.0.0.1:8443":                               "http://127.0.0.1:8443",
		"http://localhost:8080/":                              "http://localhost:8080",
		"https://acme.my.salesforce.com/services/community/x": "https://acme.my.salesforce.com/services/community/x",
	}
	for in, want := range good {
		if got, err := baseURL(in); err != nil || got != want {
			t.Errorf("baseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "login.salesforce.com", "http://login.salesforce.com", "https://u:p@login.salesforce.com", "https://login.salesforce.com?a=b", "https://login.salesforce.com#f", "javascript:alert(1)"} {
		if _, err := baseURL(bad); err == nil {
			t.Errorf("baseURL(%q) accepted it", bad)
		}
	}
}
