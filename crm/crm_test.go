package crm

import "testing"

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://acme.my.salesforce.com/": "https://acme.my.salesforce.com",
		"http://127.0.0.1:8080":           "http://127.0.0.1:8080",
		"http://localhost:9":              "http://localhost:9",
	} {
		if got, err := BaseURL(in, "X"); err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://evil.example", "https://u:p@host", "https://host?x=1", "host", "ftp://host"} {
		if _, err := BaseURL(bad, "X"); err == nil {
			t.Errorf("BaseURL(%q) accepted it", bad)
		}
	}
	if Snippet([]byte("  hi  ")) != "hi" || len([]rune(Snippet(make([]byte, 500)))) != 203 {
		t.Error("Snippet")
	}
}
