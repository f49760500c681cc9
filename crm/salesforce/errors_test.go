package salesforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

func TestReadAPIError(t *testing.T) {
	const pkg = PackageSource
	cases := []struct {
		name   string
		status int
		body   string
		want   crm.APIError
		is     error
	}{
		{"expired session", 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
			crm.APIError{Status: 401, Code: "INVALID_SESSION_ID", Message: "Session expired or invalid"}, crm.ErrUnauthorized},
		{"no such resource", 404, `[{"errorCode":"NOT_FOUND","message":"Could not find a match for URL /Qwoty/qwoty/config"}]`,
			crm.APIError{Status: 404, Code: "NOT_FOUND", Message: "Could not find a match for URL /Qwoty/qwoty/config"}, ErrPackageNotInstalled},
		{"no class access", 403, `[{"errorCode":"FORBIDDEN","message":"You do not have access to the Apex class named: QwotyConfigResource"}]`,
			crm.APIError{Status: 403, Code: "FORBIDDEN", Message: "You do not have access to the Apex class named: QwotyConfigResource"}, crm.ErrForbidden},
		{"not an admin", 403, `{"ok":false,"code":"INSUFFICIENT_ACCESS","message":"m","hint":"h","field":null}`,
			crm.APIError{Status: 403, Code: "INSUFFICIENT_ACCESS", Message: "m", Hint: "h", Source: pkg}, crm.ErrForbidden},
		{"bad field", 400, `{"ok":false,"code":"BAD_REQUEST","message":"appUrl must be...","hint":"h","field":"appUrl"}`,
			crm.APIError{Status: 400, Code: "BAD_REQUEST", Message: "appUrl must be...", Hint: "h", Field: "appUrl", Source: pkg}, nil},
		{"identity service, expired token", 403, "Bad_OAuth_Token",
			crm.APIError{Status: 403, Code: "Bad_OAuth_Token"}, crm.ErrUnauthorized},
		{"identity service, unknown id", 404, "Bad_Id",
			crm.APIError{Status: 404, Code: "Bad_Id"}, crm.ErrNotFound},
		{"a proxy's page", 404, "<html><body>Not Found</body></html>",
			crm.APIError{Status: 404, Message: "<html><body>Not Found</body></html>"}, crm.ErrNotFound},
		{"a proxy's 403 is not insufficient access", 403, "<html><body>Forbidden</body></html>",
			crm.APIError{Status: 403, Message: "<html><body>Forbidden</body></html>"}, nil},
		{"a package 404 object is not a missing package", 404, `{"ok":false,"code":"NOT_FOUND","message":"m"}`,
			crm.APIError{Status: 404, Code: "NOT_FOUND", Message: "m", Source: pkg}, crm.ErrNotFound},
		{"a package 403 of another code", 403, `{"ok":false,"code":"LOCKED","message":"m"}`,
			crm.APIError{Status: 403, Code: "LOCKED", Message: "m", Source: pkg}, nil},
		{"the org's API limit", 403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`,
			crm.APIError{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}, crm.ErrRateLimited},
	}
	sentinels := []error{crm.ErrUnauthorized, ErrPackageNotInstalled, crm.ErrForbidden, crm.ErrNotFound, crm.ErrRateLimited}
	for _, c := range cases {
		err := apiErrors.Answer(c.status, nil, []byte(c.body))
		var got *crm.APIError
		if !errors.As(err, &got) {
			t.Fatalf("%s: Answer = %T, want a *crm.APIError", c.name, err)
		}
		plain := *got
		plain.Kinds = nil
		c.want.Provider = qwoty.ProviderSalesforce
		if !reflect.DeepEqual(plain, c.want) {
			t.Errorf("%s: Answer = %+v, want %+v", c.name, plain, c.want)
		}
		for _, s := range sentinels {
			if errors.Is(got, s) != (s == c.is) {
				t.Errorf("%s: errors.Is(%v) = %v, want %v", c.name, s, errors.Is(got, s), s == c.is)
			}
		}
	}
}

// Who answered is in the error's text: Salesforce, or the package's Apex.
func TestAPIErrorText(t *testing.T) {
	for body, want := range map[string]string{
		`[{"errorCode":"NOT_FOUND","message":"m"}]`:                   "Salesforce answered HTTP 404 NOT_FOUND: m",
		`{"ok":false,"code":"BAD_REQUEST","message":"m","field":"x"}`: "Qwoty package answered HTTP 404 BAD_REQUEST (field x): m",
	} {
		if got := apiErrors.Answer(404, nil, []byte(body)).Error(); got != want {
			t.Errorf("Error() = %q, want %q", got, want)
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
