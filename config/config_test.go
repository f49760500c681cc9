package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lookupMap(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var goodKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func TestProductionRequiresEachVariable(t *testing.T) {
	full := map[string]string{
		"DATABASE_URL":     "postgres://u@db:5432/q",
		"APP_URL":          "https://app.example",
		"QWOTY_SECRET_KEY": goodKey,
	}
	if _, err := Load(lookupMap(full), t.TempDir()); err != nil {
		t.Fatalf("complete production config refused: %v", err)
	}
	for name := range full {
		m := map[string]string{}
		for k, v := range full {
			if k != name {
				m[k] = v
			}
		}
		_, err := Load(lookupMap(m), t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("without %s: err = %v, want one line starting with %q", name, err, name+":")
		}
	}
}

func TestMalformedValuesAreNamed(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	cases := []struct{ name, value string }{
		{"PORT", "eighty"},
		{"PORT", "70000"},
		{"APP_URL", "http://app.example"},
		{"APP_URL", "app.example"},
		{"QWOTY_SECRET_KEY", "not base64!"},
		{"QWOTY_SECRET_KEY", base64.StdEncoding.EncodeToString([]byte("short"))},
		{"DATABASE_URL", "mysql://x"},
		{"QWOTY_ENV", "staging"},
		{"LOG_LEVEL", "loud"},
		{"SALESFORCE_PACKAGE_VERSION_ID", "033abc"},
		{"HUBSPOT_CLIENT_SECRET", ""},
		{"QWOTY_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"QWOTY_TRUSTED_PROXIES", "10.0.0.0/8, lb.internal"},
	}
	for _, c := range cases {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[c.name] = c.value
		if c.name == "HUBSPOT_CLIENT_SECRET" {
			m["HUBSPOT_CLIENT_ID"] = "id-without-secret"
		}
		_, err := Load(lookupMap(m), t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), c.name+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: err = %v, want one line naming %s", c.name, c.value, err, c.name)
		}
	}
}

func TestDevelopmentDefaultsAndPersistentKey(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(lookupMap(map[string]string{"QWOTY_ENV": "development"}), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDevDatabaseURL || c.AppURL != "http://localhost:8080" || c.PlaygroundPort != 8081 {
		t.Fatalf("dev defaults = %q %q %d", c.DatabaseURL, c.AppURL, c.PlaygroundPort)
	}
	info, err := os.Stat(filepath.Join(dir, devKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("dev key file: %v, mode %v; want 0600", err, info)
	}
	c2, err := Load(lookupMap(map[string]string{"QWOTY_ENV": "development"}), dir)
	if err != nil || string(c2.MasterKey) != string(c.MasterKey) {
		t.Fatal("second start in development must reuse the generated key")
	}
}

func TestTrustedProxies(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	c, err := Load(lookupMap(base), t.TempDir())
	if err != nil || c.TrustedProxies != nil {
		t.Fatalf("unset: %v, %v; want no trusted proxy", c.TrustedProxies, err)
	}
	base["QWOTY_TRUSTED_PROXIES"] = "10.1.2.3/8, 192.0.2.7 2001:db8::/32"
	c, err = Load(lookupMap(base), t.TempDir())
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}
	if err != nil || strings.Join(c.TrustedProxies, " ") != strings.Join(want, " ") {
		t.Fatalf("QWOTY_TRUSTED_PROXIES: %v, %v; want %v", c.TrustedProxies, err, want)
	}
}
