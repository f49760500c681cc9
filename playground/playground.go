// Package playground is the development host page: laid out like a
// Salesforce Opportunity page on a second origin, its server side signs a
// callout exactly as the package's Apex does and frames the card it gets
// back, one error scenario at a time. It also makes the development
// connection it signs for. It runs only in development (make run).
package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// The development connection: a made-up org the playground signs for.
const (
	devOrgID15   = "00D000000000DEV"
	devWorkspace = "Development"
	// DevMyDomain is the development org's My Domain.
	DevMyDomain = "qwoty-dev"
)

// DevOrgID is the 18-character id of the development org.
var DevOrgID, _ = salesforce.NormalizeOrgID(devOrgID15)

// Origin is the playground's origin: APP_URL's host on the playground port,
// so that it is a second origin, as Salesforce is.
func Origin(cfg *config.Config) string {
	u, err := url.Parse(cfg.AppURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), strconv.Itoa(cfg.PlaygroundPort))
}

// EnsureDevConnection makes the development org's connection on first start
// (development mode only) and lets the playground's origin frame its card.
// An existing connection stays in its workspace (the first admin's, once
// setup adopted it) and keeps its secret when active with the right origin.
// One the admin disconnected stays disconnected: the playground then shows
// what a rep would see, until the admin reconnects it in the console.
// Otherwise it is re-enabled, which issues a new secret: the playground
// reads the secret from the database on every page, so nothing else holds it.
func EnsureDevConnection(ctx context.Context, db *store.DB, cfg *config.Config) (*qwoty.Connection, error) {
	origin := Origin(cfg)
	c, err := db.ConnectionByExternalID(ctx, qwoty.ProviderSalesforce, DevOrgID)
	if err == nil && c.Status == qwoty.ConnectionDisconnected {
		return c, nil
	}
	if err == nil && c.Status == qwoty.ConnectionActive && len(c.FrameOrigins) == 1 && c.FrameOrigins[0] == origin {
		return c, nil
	}
	// A development database kept from another checkout holds secrets
	// sealed with that checkout's key: give the dev org a new one (the
	// playground reads it from the database) rather than refuse to start.
	if err != nil && !errors.Is(err, qwoty.ErrNotFound) && !errors.Is(err, keyring.ErrOpen) {
		return nil, err
	}
	ws := devWorkspace
	if err == nil || errors.Is(err, keyring.ErrOpen) {
		ws = "" // where it is
	}
	return db.AddConnection(ctx, store.AddConnectionParams{
		Workspace: ws, Provider: qwoty.ProviderSalesforce, ExternalID: DevOrgID,
		MyDomain: DevMyDomain, FrameOrigins: []string{origin}, Actor: "qwoty serve (development)",
	})
}

// AdoptDevWorkspace, in development, renames the workspace that holds the
// playground's connection to the name the first admin gave, while nobody
// belongs to it: the admin then lands in it, and what the console does to
// the connection (test, rotate, disconnect) is what the playground's card
// meets. It does nothing when that name is taken or the workspace has users.
func AdoptDevWorkspace(ctx context.Context, db *store.DB, name string) error {
	return db.AdoptWorkspace(ctx, qwoty.ProviderSalesforce, DevOrgID, name)
}

// Playground is the dev host page: laid out like an Opportunity page, its
// server side signs a callout exactly as the Apex does and frames the card.
type Playground struct {
	appURL string
	db     *store.DB
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	engine *gin.Engine
}

// scenarios: each but "ok" produces one error code on purpose.
var scenarios = map[string]string{
	"ok":                      "",
	"wrong secret":            "signature_invalid",
	"stale timestamp":         "timestamp_out_of_range",
	"replayed nonce":          "replayed_request",
	"org not connected":       "org_not_connected",
	"missing signature":       "signature_missing",
	"body without a recordId": "bad_request",
}

// New builds the playground for the app at appURL.
func New(appURL string, db *store.DB, log *slog.Logger) *Playground {
	p := &Playground{appURL: appURL, db: db, log: log, now: time.Now, client: &http.Client{Timeout: 10 * time.Second}}
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", web.BasePolicy+"; frame-src "+crm.Origin(appURL)+"; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		c.Next()
	})
	r.GET("/", p.page)
	r.GET("/static/*path", web.StaticFiles())
	p.engine = r
	return p
}

// Handler returns the playground's handler.
func (p *Playground) Handler() http.Handler { return p.engine }

// Serve answers on ln until ctx is done.
func (p *Playground) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return web.Serve(ctx, ln, p.engine, grace, nil, p.log)
}

// calloutBody mirrors what the Apex controller builds with JSON.serialize.
type calloutBody struct {
	RecordID   string         `json:"recordId,omitempty"`
	ObjectType string         `json:"objectType"`
	User       map[string]any `json:"user"`
	Record     map[string]any `json:"record"`
}

func (p *Playground) page(c *gin.Context) {
	q := func(name, def string) string {
		if v := strings.TrimSpace(c.Query(name)); v != "" || c.Request.URL.Query().Has(name) {
			return v
		}
		return def
	}
	v := templates.PlaygroundView{
		OrgID: DevOrgID, RecordID: q("record_id", "006000000000001AAA"), RecordName: q("record_name", "Acme - 200 licences"),
		AccountID: q("account_id", "001000000000001AAA"), AccountName: q("account_name", "Acme"),
		Amount: "12000.50", Currency: q("currency", "USD"), Stage: "Prospecting", CloseDate: "2026-12-31",
		Scenario: q("scenario", "ok"),
	}
	for name := range scenarios {
		v.Scenarios = append(v.Scenarios, name)
	}
	sort.Strings(v.Scenarios)
	if _, ok := scenarios[v.Scenario]; !ok {
		v.Scenario = "ok"
	}

	conn, err := p.db.ConnectionByExternalID(c.Request.Context(), qwoty.ProviderSalesforce, DevOrgID)
	if err != nil {
		v.CallError = "The development connection is missing: restart `make run`, which creates it. (" + err.Error() + ")"
		web.Render(c, http.StatusOK, templates.Playground(v))
		return
	}
	body := calloutBody{RecordID: v.RecordID, ObjectType: "Opportunity",
		User: map[string]any{"id": "005000000000001AAA", "email": "rep@example.com", "name": "Dev Rep", "locale": "en_US", "timeZone": "Europe/Paris"},
		Record: map[string]any{"name": v.RecordName, "accountId": v.AccountID, "accountName": v.AccountName,
			"amount": json.Number("12000.50"), "stageName": v.Stage, "closeDate": v.CloseDate}}
	if v.Currency != "" {
		body.Record["currencyIsoCode"] = v.Currency
	}
	if v.Scenario == "body without a recordId" {
		body.RecordID = ""
	}
	raw, _ := json.Marshal(body)

	secret, org, at := conn.Secret, DevOrgID, p.now()
	switch v.Scenario {
	case "wrong secret":
		secret = []byte("not-the-secret-written-in-the-org")
	case "stale timestamp":
		at = at.Add(-10 * time.Minute)
	case "org not connected":
		org, _ = salesforce.NormalizeOrgID("00D000000000NOP")
	}
	hdr := salesforce.SignedHeaders(org, secret, "/api/crm/cardView", raw, at, salesforce.NewNonce())
	if v.Scenario == "missing signature" {
		hdr.Del(salesforce.HeaderSignature)
	}
	status, resp, err := p.call(c.Request.Context(), hdr, raw)
	if err == nil && v.Scenario == "replayed nonce" {
		status, resp, err = p.call(c.Request.Context(), hdr, raw)
	}
	v.Exchange = exchangeText(p.appURL, hdr, raw, status, resp, err)
	v.CallStatus = status
	switch {
	case err != nil:
		v.CallError = "The callout did not reach the app: " + err.Error()
	case status != http.StatusOK:
		var eb web.ErrorBody
		if json.Unmarshal(resp, &eb) == nil && eb.Error.Code != "" {
			v.CallError = fmt.Sprintf("%s: %s. %s (request %s)", eb.Error.Code, eb.Error.Message, eb.Error.Hint, eb.Error.RequestID)
		} else {
			v.CallError = string(resp)
		}
	default:
		var a cardview.Answer
		if err := json.Unmarshal(resp, &a); err != nil || a.EmbedURL == "" {
			v.CallError = "The answer has no embedUrl."
		} else {
			v.EmbedURL = a.EmbedURL
		}
	}
	web.Render(c, http.StatusOK, templates.Playground(v))
}

func (p *Playground) call(ctx context.Context, hdr http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.appURL+"/api/crm/cardView", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = hdr.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// exchangeText shows the callout as sent and answered, for people learning
// the contract. It shows the signature, never the secret.
func exchangeText(appURL string, hdr http.Header, body []byte, status int, resp []byte, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s/api/crm/cardView\n", appURL)
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, hdr.Get(k))
	}
	fmt.Fprintf(&b, "\n%s\n\n", body)
	if err != nil {
		fmt.Fprintf(&b, "→ %v\n", err)
		return b.String()
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, resp, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(resp)
	}
	fmt.Fprintf(&b, "→ HTTP %d\n%s\n", status, pretty.String())
	return b.String()
}
