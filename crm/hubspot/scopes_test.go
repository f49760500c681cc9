package hubspot_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/qwoty/companion/crm/hubspot"
)

// The install URL must ask for exactly the app's required scopes, or
// HubSpot refuses the install: DefaultScopes and the HubSpot project's
// app-hsmeta.json hold one list.
func TestDefaultScopesAreTheAppsRequiredScopes(t *testing.T) {
	raw, err := os.ReadFile("../../hubspot-app/src/app/app-hsmeta.json")
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		Config struct {
			Auth struct {
				RequiredScopes []string `json:"requiredScopes"`
				OptionalScopes []string `json:"optionalScopes"`
			} `json:"auth"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &app); err != nil {
		t.Fatal(err)
	}
	got, want := slices.Sorted(slices.Values(app.Config.Auth.RequiredScopes)), slices.Sorted(slices.Values(hubspot.DefaultScopes))
	if !slices.Equal(got, want) {
		t.Errorf("app-hsmeta.json requires %v; DefaultScopes are %v", got, want)
	}
	got, want = slices.Sorted(slices.Values(app.Config.Auth.OptionalScopes)), slices.Sorted(slices.Values(hubspot.OptionalScopes))
	if !slices.Equal(got, want) {
		t.Errorf("app-hsmeta.json's optional scopes are %v; OptionalScopes are %v", got, want)
	}
	for _, s := range hubspot.SyncScopes {
		if !slices.Contains(hubspot.DefaultScopes, s) {
			t.Errorf("sync scope %s is not asked for", s)
		}
	}
}
