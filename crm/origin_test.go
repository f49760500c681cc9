package crm

import (
	"slices"
	"testing"
)

func TestOrigin(t *testing.T) {
	for raw, want := range map[string]string{
		"https://app.hubspot.com/oauth/authorize?x=1": "https://app.hubspot.com",
		"http://127.0.0.1:8080/":                      "http://127.0.0.1:8080",
		"":                                            "",
		"/relative/path":                              "",
		"::not a url":                                 "",
	} {
		if got := Origin(raw); got != want {
			t.Errorf("Origin(%q) = %q, want %q", raw, got, want)
		}
	}
	if got := Origins("https://oauth.pipedrive.com"); !slices.Equal(got, []string{"https://oauth.pipedrive.com"}) {
		t.Errorf("Origins = %q", got)
	}
	if got := Origins("nohost"); got != nil {
		t.Errorf("Origins of a URL without a host = %q, want nil", got)
	}
}
