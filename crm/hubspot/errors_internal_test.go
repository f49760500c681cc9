package hubspot

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
)

// HubSpot's older OAuth answers carry only a status: they still say what
// went wrong; a standard code, when present, decides.
func TestReadOAuthErrorOlderStatuses(t *testing.T) {
	cases := []struct {
		body string
		is   error
	}{
		{`{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token","correlationId":"c-1"}`, crm.ErrInvalidGrant},
		{`{"status":"BAD_AUTH_CODE","message":"m"}`, crm.ErrInvalidGrant},
		{`{"status":"BAD_CLIENT_ID","message":"m"}`, crm.ErrInvalidClient},
		{`{"error":"invalid_request","status":"BAD_REFRESH_TOKEN","message":"m"}`, nil},
		{`{"status":"EXPIRED","message":"m"}`, nil},
	}
	for _, c := range cases {
		err := oauthErrors.Answer(400, nil, []byte(c.body))
		for _, s := range []error{crm.ErrInvalidGrant, crm.ErrInvalidClient} {
			if errors.Is(err, s) != (s == c.is) {
				t.Errorf("%s: errors.Is(%v) = %v", c.body, s, !(s == c.is))
			}
		}
		var oe *crm.OAuthError
		if !errors.As(err, &oe) || oe.CRMCode == "" || oe.Description == "" {
			t.Errorf("%s: %#v, want HubSpot's status and message kept", c.body, err)
		}
	}
}

// A missing scope is forbidden, and says which; a rate limit keeps how long
// to wait.
func TestReadAPIError(t *testing.T) {
	err := apiErrors.Answer(403, nil, []byte(`{"status":"error","message":"This app hasn't been granted all required scopes",`+
		`"correlationId":"c-2","category":"MISSING_SCOPES","subCategory":"x"}`))
	var ae *crm.APIError
	if !errors.Is(err, ErrMissingScopes) || !errors.Is(err, crm.ErrForbidden) || errors.Is(err, crm.ErrUnauthorized) ||
		!errors.As(err, &ae) || ae.Code != "MISSING_SCOPES" || ae.SubCode != "x" || ae.RequestID != "c-2" {
		t.Errorf("missing scopes: %#v", err)
	}
	err = apiErrors.Answer(403, nil, []byte(`{"status":"error","message":"m","category":"FORBIDDEN"}`))
	if !errors.Is(err, crm.ErrForbidden) || errors.Is(err, ErrMissingScopes) {
		t.Errorf("another 403: %v, want forbidden only", err)
	}
	err = apiErrors.Answer(429, http.Header{"Retry-After": {"10"}}, []byte(`{"status":"error","message":"You have reached your ten_secondly_rolling limit.","category":"RATE_LIMITS"}`))
	if !errors.Is(err, crm.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter != 10*time.Second {
		t.Errorf("rate limit: %#v", err)
	}
}
