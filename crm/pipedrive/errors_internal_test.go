package pipedrive

import (
	"errors"
	"net/url"
	"testing"

	"github.com/qwoty/companion/crm"
)

// Pipedrive's error body gives the message, the hint and its own code.
func TestReadAPIError(t *testing.T) {
	err := apiErrors.Answer(403, nil, []byte(`{"success":false,"error":"Couldn't add the deal. Open deals limit reached.",`+
		`"error_info":"Please check developers.pipedrive.com","code":"feature_capping_deals_limit"}`))
	var ae *crm.APIError
	if !errors.As(err, &ae) || !errors.Is(err, crm.ErrForbidden) || ae.Code != "feature_capping_deals_limit" ||
		ae.Hint != "Please check developers.pipedrive.com" || ae.Message != "Couldn't add the deal. Open deals limit reached." {
		t.Errorf("capping: %#v", err)
	}
	// A success body on an error status is not Pipedrive's error shape.
	err = apiErrors.Answer(500, nil, []byte(`{"success":true}`))
	if !errors.As(err, &ae) || ae.Message != `{"success":true}` {
		t.Errorf("odd 500: %#v, want the body kept", err)
	}
}

// Both spellings of a cancelled installation are access denied.
func TestCallbackDenied(t *testing.T) {
	for _, code := range []string{"user_denied", "access_denied"} {
		if err := CallbackError(url.Values{"error": {code}}); !errors.Is(err, crm.ErrAccessDenied) {
			t.Errorf("%s: %v, want access denied", code, err)
		}
	}
}
