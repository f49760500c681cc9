package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{"HUBSPOT_API_URL", "http://api.hubapi.example"},
		{"PIPEDRIVE_OAUTH_URL", "oauth.pipedrive.example"},
		{"SYNC_LEASE", "1s"},
		{"SYNC_LEASE", "an hour"},
		{"QWOTY_SHUTDOWN_TIMEOUT", "1s"},
		{"QWOTY_SHUTDOWN_TIMEOUT", "soon"},
		{"QWOTY_OPERATOR_PASSWORD", "short-pw"},
		{"QWOTY_OPERATOR_USER", "ops:1"},
		{"QWOTY_API_RATE_LIMIT", "600"},
		{"QWOTY_API_RATE_LIMIT", "600/day"},
		{"QWOTY_API_RATE_LIMIT", "0/min"},
		{"QWOTY_API_RATE_LIMIT", "600/min,burst=601"},
		{"QWOTY_API_RATE_LIMIT", "600/min,100"},
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

func TestSMTPURL(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	cases := []struct {
		url  string
		want SMTP
	}{
		{"smtps://alerts%40acme.example:p%2Fss%3Aw@mail.acme.example", SMTP{Host: "mail.acme.example", Port: 465, Username: "alerts@acme.example", Password: "p/ss:w", Security: SMTPImplicitTLS}},
		{"smtp://u:pw@mail.acme.example:2587", SMTP{Host: "mail.acme.example", Port: 2587, Username: "u", Password: "pw", Security: SMTPStartTLS}},
		{"smtp://mail.acme.example/", SMTP{Host: "mail.acme.example", Port: 587, Security: SMTPStartTLS}},
		// A loopback relay: STARTTLS only if offered.
		{"smtp://127.0.0.1:25", SMTP{Host: "127.0.0.1", Port: 25, Security: SMTPLoopback}},
		{"smtp://LocalHost:25", SMTP{Host: "LocalHost", Port: 25, Security: SMTPLoopback}},
		{"smtp://[::1]:25", SMTP{Host: "::1", Port: 25, Security: SMTPLoopback}},
		// A name that merely starts like one is not loopback.
		{"smtp://localhost.acme.example", SMTP{Host: "localhost.acme.example", Port: 587, Security: SMTPStartTLS}},
		{"smtps://127.0.0.1", SMTP{Host: "127.0.0.1", Port: 465, Security: SMTPImplicitTLS}},
	}
	for _, c := range cases {
		m := maps.Clone(base)
		m["SMTP_URL"] = c.url
		cfg, err := Load(lookupMap(m), t.TempDir())
		if err != nil || cfg.SMTP != c.want {
			t.Errorf("SMTP_URL=%s: %s, %v; want %s", c.url, smtpFields(cfg.SMTP), err, smtpFields(c.want))
		}
	}

	cfg, err := Load(lookupMap(base), t.TempDir())
	if err != nil || cfg.SMTP.Enabled() || cfg.DevMailPort != 0 {
		t.Fatalf("production without SMTP_URL: %+v, dev mail %d, %v; want no mail server", cfg.SMTP, cfg.DevMailPort, err)
	}
}

// smtpFields shows every field, which String hides in part.
func smtpFields(s SMTP) string {
	return fmt.Sprintf("{host %q port %d user %q password %q security %s}", s.Host, s.Port, s.Username, s.Password, s.Security)
}

func TestSMTPURLErrorsNameTheVariableAndHideThePassword(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	const secret = "s3cretpw"
	for _, v := range []string{
		"http://u:" + secret + "@mail.example",
		"mail.example:587",
		"smtp:u:" + secret + "@mail.example",
		"smtp://u:" + secret + "@mail.example:0",
		"smtp://u:" + secret + "@mail.example:smtp",
		"smtp://u:" + secret + "@mail.example:",
		"smtp://u:" + secret + "@:587",
		"smtp://u:" + secret + "@mail.example/relay",
		"smtp://u:" + secret + "@mail.example?tls=off",
		"smtp://u:" + secret + "@mail.example#x",
		"smtp://u:" + secret + "/x@mail.example",
		"smtp://u:" + secret + "%zz@mail.example",
		"smtp://u@mail.example",
		"smtp://:" + secret + "@mail.example",
	} {
		m := maps.Clone(base)
		m["SMTP_URL"] = v
		_, err := Load(lookupMap(m), t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), "SMTP_URL: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("SMTP_URL=%q: err = %v, want one line naming SMTP_URL", v, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("SMTP_URL=%q: the error shows the password: %v", v, err)
		}
	}
}

func TestSMTPNeverPrintsItsPassword(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey,
		"SMTP_URL": "smtps://alerts:s3cretpw@mail.acme.example"}
	cfg, err := Load(lookupMap(base), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "smtp", cfg.SMTP, "config", cfg)
	for _, out := range []string{fmt.Sprint(cfg.SMTP), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", *cfg), fmt.Sprintf("%v", cfg.SMTP), logged.String()} {
		if strings.Contains(out, "s3cretpw") {
			t.Errorf("password printed: %s", out)
		}
	}
	if got := cfg.SMTP.String(); got != "smtps://alerts:xxxxx@mail.acme.example:465" {
		t.Errorf("String() = %q", got)
	}
}

func TestMailFrom(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://quotes.acme.example:8443/", "QWOTY_SECRET_KEY": goodKey}
	cfg, err := Load(lookupMap(base), t.TempDir())
	if err != nil || cfg.MailFrom != "Qwoty <no-reply@quotes.acme.example>" {
		t.Fatalf("default MAIL_FROM = %q, %v", cfg.MailFrom, err)
	}
	base["MAIL_FROM"] = "Acme alerts <alerts@acme.example>"
	if cfg, err = Load(lookupMap(base), t.TempDir()); err != nil || cfg.MailFrom != base["MAIL_FROM"] {
		t.Fatalf("MAIL_FROM = %q, %v", cfg.MailFrom, err)
	}
	for _, bad := range []string{"alerts", "Acme <alerts@>", "a@b.example, c@d.example", "x@y.example\r\nBcc: z@w.example"} {
		base["MAIL_FROM"] = bad
		_, err := Load(lookupMap(base), t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), "MAIL_FROM: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("MAIL_FROM=%q: err = %v, want one line naming MAIL_FROM", bad, err)
		}
	}
	dev, err := Load(lookupMap(map[string]string{"QWOTY_ENV": "development", "APP_URL": "http://[::1]:8080"}), t.TempDir())
	if err != nil || dev.MailFrom != "Qwoty <no-reply@[::1]>" {
		t.Fatalf("MAIL_FROM from an IPv6 APP_URL = %q, %v", dev.MailFrom, err)
	}
}

func TestDevMailbox(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(lookupMap(map[string]string{"QWOTY_ENV": "development"}), dir)
	want := SMTP{Host: "127.0.0.1", Port: DefaultDevMailPort, Security: SMTPLoopback}
	if err != nil || c.DevMailPort != DefaultDevMailPort || c.SMTP != want || c.MailFrom != "Qwoty <no-reply@localhost>" {
		t.Fatalf("dev defaults: port %d, SMTP %+v, from %q, %v; want the mailbox on %d", c.DevMailPort, c.SMTP, c.MailFrom, err, DefaultDevMailPort)
	}
	c, err = Load(lookupMap(map[string]string{"QWOTY_ENV": "development", "DEV_MAIL_PORT": "0"}), dir)
	if err != nil || c.DevMailPort != 0 || c.SMTP.Enabled() {
		t.Fatalf("DEV_MAIL_PORT=0: port %d, SMTP %+v, %v; want no mail at all", c.DevMailPort, c.SMTP, err)
	}
	// SMTP_URL wins over the mailbox, which still starts.
	c, err = Load(lookupMap(map[string]string{"QWOTY_ENV": "development", "SMTP_URL": "smtp://127.0.0.1:1025"}), dir)
	if err != nil || c.DevMailPort != DefaultDevMailPort || c.SMTP.Port != 1025 {
		t.Fatalf("dev with SMTP_URL: %d %+v %v", c.DevMailPort, c.SMTP, err)
	}
	// Production ignores it, like PLAYGROUND_PORT.
	c, err = Load(lookupMap(map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey, "DEV_MAIL_PORT": "2525"}), dir)
	if err != nil || c.DevMailPort != 0 || c.SMTP.Enabled() {
		t.Fatalf("production with DEV_MAIL_PORT: %d %+v %v", c.DevMailPort, c.SMTP, err)
	}
	for _, v := range []string{"mail", "-1", "65536", "8080", "8081", "8082"} {
		_, err := Load(lookupMap(map[string]string{"QWOTY_ENV": "development", "DEV_MAIL_PORT": v}), dir)
		if err == nil || !strings.HasPrefix(err.Error(), "DEV_MAIL_PORT: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("DEV_MAIL_PORT=%q: err = %v, want one line naming DEV_MAIL_PORT", v, err)
		}
	}
}

func TestSyncSettings(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	c, err := Load(lookupMap(base), t.TempDir())
	if err != nil || c.SyncLease != DefaultSyncLease || c.HubSpotAPIURL != "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	m := maps.Clone(base)
	m["SYNC_LEASE"], m["HUBSPOT_API_URL"], m["HUBSPOT_AUTH_URL"] = "45s", "https://api.example/", "https://auth.example"
	if c, err = Load(lookupMap(m), t.TempDir()); err != nil || c.SyncLease.Seconds() != 45 || c.HubSpotAPIURL != "https://api.example" ||
		c.HubSpotAuthURL != "https://auth.example" {
		t.Fatalf("set: %+v, %v", c, err)
	}
}

func TestOperatorAndShutdownSettings(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	c, err := Load(lookupMap(base), t.TempDir())
	if err != nil || c.ShutdownTimeout != DefaultShutdownTimeout || c.OperatorUser != "operator" || c.OperatorPassword != "" {
		t.Fatalf("defaults: %v %q %q, %v", c.ShutdownTimeout, c.OperatorUser, c.OperatorPassword, err)
	}
	m := maps.Clone(base)
	m["QWOTY_SHUTDOWN_TIMEOUT"], m["QWOTY_OPERATOR_USER"], m["QWOTY_OPERATOR_PASSWORD"] = "40s", "ops", " a long passphrase "
	if c, err = Load(lookupMap(m), t.TempDir()); err != nil || c.ShutdownTimeout != 40*time.Second || c.OperatorUser != "ops" ||
		c.OperatorPassword != " a long passphrase " {
		t.Fatalf("set: %v %q %q, %v", c.ShutdownTimeout, c.OperatorUser, c.OperatorPassword, err)
	}
	m["QWOTY_OPERATOR_PASSWORD"] = "tiny-secret"
	if _, err = Load(lookupMap(m), t.TempDir()); err == nil || strings.Contains(err.Error(), "tiny-secret") {
		t.Fatalf("a short password: %v (never printed)", err)
	}
}

func TestAPIRateLimit(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@db/q", "APP_URL": "https://app.example", "QWOTY_SECRET_KEY": goodKey}
	c, err := Load(lookupMap(base), t.TempDir())
	if err != nil || c.APIRateLimit != DefaultAPIRateLimit || c.APIRateLimit.String() != "600/min,burst=100" || c.APIRateLimit.PerSecond() != 10 {
		t.Fatalf("default: %v, %v", c.APIRateLimit, err)
	}
	for v, want := range map[string]APIRateLimit{
		"120/min":            {Requests: 120, Window: time.Minute, Burst: 120},
		"5/s, burst=2":       {Requests: 5, Window: time.Second, Burst: 2},
		"3600/h,burst=60":    {Requests: 3600, Window: time.Hour, Burst: 60},
		"600/minute,burst=1": {Requests: 600, Window: time.Minute, Burst: 1},
	} {
		m := maps.Clone(base)
		m["QWOTY_API_RATE_LIMIT"] = v
		if c, err = Load(lookupMap(m), t.TempDir()); err != nil || c.APIRateLimit != want {
			t.Errorf("%q: %+v, %v; want %+v", v, c.APIRateLimit, err, want)
		}
	}
}
