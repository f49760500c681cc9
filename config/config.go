// Package config reads the server's configuration from the environment once,
// at start, into a Config that is passed down. Nothing else reads os.Getenv.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/keyring"
)

// Env is the deployment mode.
type Env string

// Modes. Development relaxes what a laptop cannot provide (a generated key,
// a local database URL) and enables the playground; production requires all.
const (
	Production  Env = "production"
	Development Env = "development"
)

// DefaultDevDatabaseURL is the database `make run` uses when DATABASE_URL is unset.
const DefaultDevDatabaseURL = "postgres://postgres@127.0.0.1:5432/qwoty?sslmode=disable"

// Config is everything the server needs to start.
type Config struct {
	Env         Env
	DatabaseURL string
	Port        int
	// AppURL is the public base URL, without a trailing slash.
	AppURL    string
	MasterKey []byte
	LogLevel  slog.Level
	// MetricsAddr is the operator address /metrics is served on
	// (METRICS_ADDR, default 127.0.0.1:9090; "off" serves none): never the
	// public port.
	MetricsAddr string
	// OperatorUser and OperatorPassword are the operator credential that
	// opens the jobs view on the operator address (QWOTY_OPERATOR_USER,
	// default "operator"; QWOTY_OPERATOR_PASSWORD, at least 12 characters).
	// No password: no jobs view.
	OperatorUser     string
	OperatorPassword string
	// ShutdownTimeout bounds a shutdown from SIGTERM to exit
	// (QWOTY_SHUTDOWN_TIMEOUT, default DefaultShutdownTimeout): HTTP
	// drains and running jobs finish within it, or are handed back.
	ShutdownTimeout time.Duration
	// PlaygroundPort serves the dev playground's host page on a second
	// origin (development only; 0 disables it).
	PlaygroundPort int

	HubSpot    OAuthApp
	Pipedrive  OAuthApp
	Salesforce OAuthApp
	// PipedriveJWTSecret signs Pipedrive panel requests (falls back to the
	// client secret, as Pipedrive does).
	PipedriveJWTSecret string
	// SalesforceLoginURL is the OAuth host; tests point it at the emulator.
	SalesforceLoginURL string
	// HubSpotAuthURL, HubSpotAPIURL and PipedriveOAuthURL replace those
	// CRMs' hosts ("" for the CRM's own): tests and the crash test point
	// them at the emulators.
	HubSpotAuthURL    string
	HubSpotAPIURL     string
	PipedriveOAuthURL string
	// SyncLease is how long a sync worker holds the records it pushes
	// (SYNC_LEASE, default 2 min): a crashed instance's records are pushed
	// again by another once it ends.
	SyncLease time.Duration
	// APIRateLimit is each API key's rate limit (QWOTY_API_RATE_LIMIT,
	// default DefaultAPIRateLimit), shared by every instance.
	APIRateLimit APIRateLimit
	// SalesforcePackageVersionID builds the package install links.
	SalesforcePackageVersionID string
	// TrustedProxies are the CIDRs of the load balancers in front, whose
	// X-Forwarded-For the server believes for the client address (login
	// throttle, logs). Empty: the client is the TCP peer.
	TrustedProxies []string

	// SMTP is the mail server alerts are sent through (SMTP_URL); zero
	// means no alert email. In development it defaults to the development
	// mailbox on DevMailPort.
	SMTP SMTP
	// MailFrom is the From of alert email, an RFC 5322 address.
	MailFrom string
	// DevMailPort is the development mailbox's SMTP port on 127.0.0.1
	// (development only; 0 disables it).
	DevMailPort int
}

// OAuthApp is a CRM app's client credentials; zero means the CRM is disabled.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
}

// Enabled reports whether the app is configured.
func (a OAuthApp) Enabled() bool { return a.ClientID != "" }

// Dev reports whether the server runs in development mode.
func (c *Config) Dev() bool { return c.Env == Development }

// Lookup reads one variable; os.LookupEnv in production, a map in tests.
type Lookup func(string) (string, bool)

// FromEnv reads the process environment.
func FromEnv() (*Config, error) { return Load(os.LookupEnv, ".") }

// Load reads the configuration through lookup. devDir is where development
// mode keeps its generated key. The first problem found is returned as one
// line naming the variable.
func Load(lookup Lookup, devDir string) (*Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	c := &Config{}

	switch env := get("QWOTY_ENV"); env {
	case "", "production":
		c.Env = Production
	case "development", "dev":
		c.Env = Development
	default:
		return nil, fmt.Errorf("QWOTY_ENV: %q is not production or development", env)
	}

	c.Port = 8080
	if v := get("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("PORT: %q is not a port number (1-65535)", v)
		}
		c.Port = p
	}

	c.MetricsAddr = "127.0.0.1:9090"
	if v := get("METRICS_ADDR"); v == "off" {
		c.MetricsAddr = ""
	} else if v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			return nil, fmt.Errorf("METRICS_ADDR: %q is not host:port (127.0.0.1:9090), or off", v)
		}
		c.MetricsAddr = v
	}

	c.OperatorUser = get("QWOTY_OPERATOR_USER")
	if c.OperatorUser == "" {
		c.OperatorUser = "operator"
	}
	if strings.Contains(c.OperatorUser, ":") {
		return nil, errors.New("QWOTY_OPERATOR_USER: a user name cannot hold a colon (HTTP Basic)")
	}
	c.OperatorPassword, _ = lookup("QWOTY_OPERATOR_PASSWORD")
	if c.OperatorPassword != "" && len(c.OperatorPassword) < MinOperatorPassword {
		return nil, fmt.Errorf("QWOTY_OPERATOR_PASSWORD: at least %d characters", MinOperatorPassword)
	}

	c.ShutdownTimeout = DefaultShutdownTimeout
	if v := get("QWOTY_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinShutdownTimeout || d > MaxShutdownTimeout {
			return nil, fmt.Errorf("QWOTY_SHUTDOWN_TIMEOUT: %q is not a duration between %s and %s (like 25s)", v, MinShutdownTimeout, MaxShutdownTimeout)
		}
		c.ShutdownTimeout = d
	}

	c.DatabaseURL = get("DATABASE_URL")
	if c.DatabaseURL == "" {
		if !c.Dev() {
			return nil, errors.New("DATABASE_URL: required (a PostgreSQL URL such as postgres://user@host:5432/qwoty)")
		}
		c.DatabaseURL = DefaultDevDatabaseURL
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("DATABASE_URL: not a postgres:// URL")
	}

	c.AppURL = strings.TrimRight(get("APP_URL"), "/")
	if c.AppURL == "" {
		if !c.Dev() {
			return nil, errors.New("APP_URL: required (the public https:// base URL of this server)")
		}
		c.AppURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	if err := checkBaseURL(c.AppURL, c.Dev()); err != nil {
		return nil, fmt.Errorf("APP_URL: %w", err)
	}

	key, err := masterKey(get("QWOTY_SECRET_KEY"), c.Dev(), devDir)
	if err != nil {
		return nil, err
	}
	c.MasterKey = key

	c.LogLevel = slog.LevelInfo
	if v := get("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", v)
		}
	}

	if c.Dev() {
		c.PlaygroundPort = c.Port + 1
		if v := get("PLAYGROUND_PORT"); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p < 0 || p > 65535 {
				return nil, fmt.Errorf("PLAYGROUND_PORT: %q is not a port number (0 disables)", v)
			}
			c.PlaygroundPort = p
		}
	}

	for _, app := range []struct {
		prefix string
		dst    *OAuthApp
	}{{"HUBSPOT", &c.HubSpot}, {"PIPEDRIVE", &c.Pipedrive}, {"SALESFORCE", &c.Salesforce}} {
		app.dst.ClientID = get(app.prefix + "_CLIENT_ID")
		app.dst.ClientSecret = get(app.prefix + "_CLIENT_SECRET")
		if (app.dst.ClientID == "") != (app.dst.ClientSecret == "") {
			return nil, fmt.Errorf("%s_CLIENT_SECRET: set both %s_CLIENT_ID and %s_CLIENT_SECRET, or neither", app.prefix, app.prefix, app.prefix)
		}
	}
	c.PipedriveJWTSecret = get("PIPEDRIVE_JWT_SECRET")
	c.SalesforceLoginURL = strings.TrimRight(get("SALESFORCE_LOGIN_URL"), "/")
	if c.SalesforceLoginURL == "" {
		c.SalesforceLoginURL = "https://login.salesforce.com"
	}
	if err := checkBaseURL(c.SalesforceLoginURL, c.Dev()); err != nil {
		return nil, fmt.Errorf("SALESFORCE_LOGIN_URL: %w", err)
	}
	for _, h := range []struct {
		name string
		dst  *string
	}{{"HUBSPOT_AUTH_URL", &c.HubSpotAuthURL}, {"HUBSPOT_API_URL", &c.HubSpotAPIURL}, {"PIPEDRIVE_OAUTH_URL", &c.PipedriveOAuthURL}} {
		*h.dst = strings.TrimRight(get(h.name), "/")
		if *h.dst == "" {
			continue
		}
		if err := checkBaseURL(*h.dst, c.Dev()); err != nil {
			return nil, fmt.Errorf("%s: %w", h.name, err)
		}
	}
	c.SyncLease = DefaultSyncLease
	if v := get("SYNC_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinSyncLease || d > MaxSyncLease {
			return nil, fmt.Errorf("SYNC_LEASE: %q is not a duration between %s and %s (like 2m)", v, MinSyncLease, MaxSyncLease)
		}
		c.SyncLease = d
	}
	c.APIRateLimit = DefaultAPIRateLimit
	if v := get("QWOTY_API_RATE_LIMIT"); v != "" {
		l, err := ParseAPIRateLimit(v)
		if err != nil {
			return nil, fmt.Errorf("QWOTY_API_RATE_LIMIT: %w", err)
		}
		c.APIRateLimit = l
	}
	proxies, err := trustedProxies(get("QWOTY_TRUSTED_PROXIES"))
	if err != nil {
		return nil, fmt.Errorf("QWOTY_TRUSTED_PROXIES: %w", err)
	}
	c.TrustedProxies = proxies
	c.SalesforcePackageVersionID = get("SALESFORCE_PACKAGE_VERSION_ID")
	if v := c.SalesforcePackageVersionID; v != "" && !(strings.HasPrefix(v, "04t") && (len(v) == 15 || len(v) == 18)) {
		return nil, fmt.Errorf("SALESFORCE_PACKAGE_VERSION_ID: %q is not a package version id (04t…, 15 or 18 characters)", v)
	}
	if err := c.loadMail(get); err != nil {
		return nil, err
	}
	return c, nil
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment;
// plain http only in development.
func checkBaseURL(s string, dev bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.Scheme == "http" && !dev {
		return fmt.Errorf("%q must use https outside development", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not carry a query or fragment", s)
	}
	return nil
}

// trustedProxies parses a comma- or space-separated list of CIDRs or single
// addresses into CIDRs.
func trustedProxies(v string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked().String())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (10.0.0.0/8) or an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String())
	}
	return out, nil
}

// devKeyFile is where development mode keeps its generated master key.
const devKeyFile = ".qwoty-dev-key"

func masterKey(v string, dev bool, devDir string) ([]byte, error) {
	if v == "" {
		if !dev {
			return nil, errors.New("QWOTY_SECRET_KEY: required (base64 of 32 random bytes: openssl rand -base64 32)")
		}
		return devMasterKey(devDir)
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("QWOTY_SECRET_KEY: not valid base64")
	}
	if len(key) != keyring.MasterKeySize {
		return nil, fmt.Errorf("QWOTY_SECRET_KEY: decodes to %d bytes, want %d", len(key), keyring.MasterKeySize)
	}
	return key, nil
}

// devMasterKey reads the development key, generating it on first use, so
// that secrets sealed by one `make run` open in the next.
func devMasterKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, devKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != keyring.MasterKeySize {
			return nil, fmt.Errorf("QWOTY_SECRET_KEY: unset, and the development key file %s is corrupt (delete it to generate a new one)", devKeyFile)
		}
		return key, nil
	}
	key := make([]byte, keyring.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("QWOTY_SECRET_KEY: generate development key: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("QWOTY_SECRET_KEY: unset, and the development key file %s cannot be written: %w", devKeyFile, err)
	}
	return key, nil
}

// SMTP is an SMTP server's address, credentials and how the connection is
// protected, read from SMTP_URL. Its String, GoString, LogValue and
// MarshalJSON hide the password, so printing or logging it never shows it.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	Security SMTPSecurity
}

// SMTPSecurity is how an SMTP connection is protected.
type SMTPSecurity string

// The protections: smtps:// is TLS from the first byte; smtp:// must
// upgrade with STARTTLS, except to a loopback host (a local relay, the
// development mailbox), where traffic never leaves the machine and
// STARTTLS is used only if the server offers it.
const (
	SMTPImplicitTLS SMTPSecurity = "tls"
	SMTPStartTLS    SMTPSecurity = "starttls"
	SMTPLoopback    SMTPSecurity = "loopback"
)

// Enabled reports whether a mail server is configured.
func (s SMTP) Enabled() bool { return s.Host != "" }

// String is the SMTP URL with the password replaced, for logs and `qwoty
// doctor`.
func (s SMTP) String() string {
	if !s.Enabled() {
		return "none"
	}
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.Security == SMTPImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "xxxxx")
	}
	return u.String()
}

// GoString keeps %#v of a Config from printing the password.
func (s SMTP) GoString() string { return "config.SMTP(" + s.String() + ")" }

// LogValue keeps slog from printing the password.
func (s SMTP) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps JSON (slog's JSON handler printing a struct that holds
// an SMTP) from printing the password.
func (s SMTP) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// SYNC_LEASE's default and bounds: a lease shorter than a CRM call could
// be taken over while the call runs; a longer one delays the records of a
// crashed instance.
const (
	DefaultSyncLease = 2 * time.Minute
	MinSyncLease     = 2 * time.Second
	MaxSyncLease     = 30 * time.Minute
)

// A shutdown's bound: 25 s fits within Kubernetes' default grace period of
// 30 s before it kills the process.
const (
	DefaultShutdownTimeout = 25 * time.Second
	MinShutdownTimeout     = 2 * time.Second
	MaxShutdownTimeout     = 10 * time.Minute
)

// MinOperatorPassword is the shortest operator password accepted.
const MinOperatorPassword = 12

// DefaultDevMailPort is the development mailbox's SMTP port.
const DefaultDevMailPort = 2525

// smtpURLForm is the shape SMTP_URL's errors show; they never repeat the
// value, which may hold a password.
const smtpURLForm = "smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS), special characters in user and password percent-encoded"

// loadMail reads SMTP_URL, MAIL_FROM and DEV_MAIL_PORT; APP_URL and the
// ports are already read.
func (c *Config) loadMail(get func(string) string) error {
	if c.Dev() {
		c.DevMailPort = DefaultDevMailPort
		if v := get("DEV_MAIL_PORT"); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p < 0 || p > 65535 {
				return fmt.Errorf("DEV_MAIL_PORT: %q is not a port number (0 disables the development mailbox)", v)
			}
			c.DevMailPort = p
		}
		if p := c.DevMailPort; p > 0 {
			switch {
			case p == c.Port:
				return fmt.Errorf("DEV_MAIL_PORT: %d is already PORT; choose another port (0 disables the development mailbox)", p)
			case c.PlaygroundPort > 0 && (p == c.PlaygroundPort || p == c.PlaygroundPort+1):
				return fmt.Errorf("DEV_MAIL_PORT: %d is taken by the playground or its Salesforce emulator (PLAYGROUND_PORT and the next port); choose another", p)
			}
		}
	}

	if v := get("SMTP_URL"); v != "" {
		s, err := parseSMTPURL(v)
		if err != nil {
			return fmt.Errorf("SMTP_URL: %w", err)
		}
		c.SMTP = s
	} else if c.Dev() && c.DevMailPort > 0 {
		c.SMTP = SMTP{Host: "127.0.0.1", Port: c.DevMailPort, Security: SMTPLoopback}
	}

	c.MailFrom = get("MAIL_FROM")
	if c.MailFrom == "" {
		u, _ := url.Parse(c.AppURL) // checked by checkBaseURL
		host := u.Hostname()
		if strings.Contains(host, ":") { // an IPv6 literal: an address literal in mail
			host = "[" + host + "]"
		}
		c.MailFrom = "Qwoty <no-reply@" + host + ">"
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return fmt.Errorf("MAIL_FROM: the default %q made from APP_URL is not a mail address; set MAIL_FROM", c.MailFrom)
		}
		return nil
	}
	a, err := mail.ParseAddress(c.MailFrom)
	if err != nil {
		return fmt.Errorf("MAIL_FROM: %q is not a mail address (Name <address@example.com> or address@example.com)", c.MailFrom)
	}
	if at := strings.LastIndexByte(a.Address, '@'); at <= 0 || at == len(a.Address)-1 {
		return fmt.Errorf("MAIL_FROM: %q has no domain", c.MailFrom)
	}
	return nil
}

// parseSMTPURL reads smtp://[user:password@]host[:port] or smtps://…. Its
// errors never contain the URL: a password may be in it.
func parseSMTPURL(v string) (SMTP, error) {
	u, err := url.Parse(v)
	if err != nil || u.Opaque != "" {
		return SMTP{}, fmt.Errorf("not a URL; expected %s", smtpURLForm)
	}
	var s SMTP
	switch u.Scheme {
	case "smtps":
		s.Security, s.Port = SMTPImplicitTLS, 465
	case "smtp":
		s.Security, s.Port = SMTPStartTLS, 587
	default:
		return SMTP{}, fmt.Errorf("scheme %q is not smtp or smtps; expected %s", u.Scheme, smtpURLForm)
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return SMTP{}, fmt.Errorf("no host; expected %s", smtpURLForm)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("port %q is not a port number (1-65535)", p)
		}
		s.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return SMTP{}, errors.New("empty port after the host; remove the colon or give a port")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return SMTP{}, fmt.Errorf("must not have a path, query or fragment (a / ? or # in the password must be percent-encoded); expected %s", smtpURLForm)
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" || s.Password == "" {
			return SMTP{}, errors.New("give both a user and a password (user:password@host), or neither")
		}
	}
	if s.Security == SMTPStartTLS && isLoopbackHost(s.Host) {
		s.Security = SMTPLoopback
	}
	return s, nil
}

// isLoopbackHost reports whether host is localhost or a loopback address:
// by name only, never resolved, so DNS cannot turn a remote server into a
// "local" one that skips STARTTLS.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
