package pipedrive_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
)

func quote(n int, st qwoty.Status) pipedrive.PanelQuote {
	return pipedrive.PanelQuote{Number: fmt.Sprintf("Q-%05d", n), Title: "Licences", Status: st, Total: "1234.5",
		Currency: "USD", UpdatedAt: time.Date(2026, 11, 22, 10, 4, 5, 0, time.FixedZone("EET", 2*3600)),
		URL: fmt.Sprintf("https://app.example/embed/pipedrive/card?quote=%d", n)}
}

var open = pipedrive.ExternalLink{URL: "https://app.example/embed/pipedrive/card?token=abc", Label: "Open quotes"}

func TestPanelResponseIsTheDocumentedShape(t *testing.T) {
	r, err := pipedrive.NewPanelResponse([]pipedrive.PanelQuote{quote(42, qwoty.StatusAccepted)}, open, "https://app.example/settings")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	// The multiple-object panel answer of "Adding a JSON panel": data, an
	// external_link and settings; a label {color,label}, a currency
	// {code,value} with a number, a link {label,value,external}, a
	// date-time YYYY-MM-DDThh:mm:ssZ.
	want := `{"data":[{"id":1,"header":"Q-00042 · Licences",` +
		`"status":{"color":"green","label":"Accepted"},` +
		`"total":{"code":"USD","value":1234.50},` +
		`"updated":"2026-11-22T08:04:05Z",` +
		`"open":{"label":"Open","value":"https://app.example/embed/pipedrive/card?quote=42","external":true}}],` +
		`"external_link":{"url":"https://app.example/embed/pipedrive/card?token=abc","label":"Open quotes"},` +
		`"settings":{"url":"https://app.example/settings"}}`
	if string(got) != want {
		t.Errorf("panel JSON\n got %s\nwant %s", got, want)
	}

	// An empty panel is {"data":[]} ("Nothing to show"), never null.
	r, err = pipedrive.NewPanelResponse(nil, open, "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(r)
	if want := `{"data":[],"external_link":{"url":"https://app.example/embed/pipedrive/card?token=abc","label":"Open quotes"}}`; string(got) != want {
		t.Errorf("empty panel %s, want %s", got, want)
	}
}

// TestPanelMatchesSchema checks every object against PanelSchema as Pipedrive
// would: no property the schema lacks (additionalProperties is false), the
// required ones present, each value of its definition's shape.
func TestPanelMatchesSchema(t *testing.T) {
	var schema struct {
		Type  string `json:"type"`
		Items struct {
			Required   []string                     `json:"required"`
			Properties map[string]map[string]string `json:"properties"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(pipedrive.PanelSchema), &schema); err != nil {
		t.Fatalf("PanelSchema is not JSON: %v", err)
	}
	if schema.Type != "array" {
		t.Fatalf("schema type %q, want a multiple-object panel (array)", schema.Type)
	}
	var quotes []pipedrive.PanelQuote
	for i, st := range qwoty.Statuses {
		quotes = append(quotes, quote(i, st))
	}
	// The primary quote and every sync state, each answered with its keys.
	quotes[0].Primary = true
	for i, s := range syncCases {
		quotes[(i+1)%len(quotes)].Sync = s.sync
	}
	r, err := pipedrive.NewPanelResponseAt(syncNow, quotes, open, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(r)
	var answer struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || len(answer.Data) != len(quotes) {
		t.Fatalf("answer %s: %v", raw, err)
	}
	dateTime := regexp.MustCompile(`^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)"$`)
	colors := map[string]bool{"green": true, "red": true, "blue": true, "yellow": true, "purple": true, "grey": true}
	for _, obj := range answer.Data {
		for _, req := range schema.Items.Required {
			if _, ok := obj[req]; !ok {
				t.Errorf("object %v lacks required %s", obj, req)
			}
		}
		for key, val := range obj {
			prop, ok := schema.Items.Properties[key]
			if !ok {
				t.Errorf("object has %q, which the schema does not define", key)
				continue
			}
			switch ref := prop["$ref"]; ref {
			case "#/definitions/numerical":
				var n json.Number
				if json.Unmarshal(val, &n) != nil || strings.HasPrefix(string(val), `"`) {
					t.Errorf("%s = %s, want a number", key, val)
				}
			case "#/definitions/header":
				var s string
				if json.Unmarshal(val, &s) != nil || s == "" {
					t.Errorf("%s = %s, want text", key, val)
				}
			case "#/definitions/label":
				var l map[string]string
				if json.Unmarshal(val, &l) != nil || len(l) != 2 || !colors[l["color"]] || l["label"] == "" || len([]rune(l["label"])) > 40 {
					t.Errorf("%s = %s, want {color,label} with a Pipedrive color", key, val)
				}
			case "#/definitions/currency":
				var c struct {
					Code  string          `json:"code"`
					Value json.RawMessage `json:"value"`
				}
				if json.Unmarshal(val, &c) != nil || !qwoty.ValidCurrency(c.Code) || strings.HasPrefix(string(c.Value), `"`) {
					t.Errorf("%s = %s, want {code,value} with a numeric value", key, val)
				}
			case "#/definitions/date-time":
				if !dateTime.Match(val) {
					t.Errorf("%s = %s, want YYYY-MM-DDThh:mm:ssZ", key, val)
				}
			case "#/definitions/link":
				var l map[string]any
				if json.Unmarshal(val, &l) != nil || l["value"] == nil || l["external"] == nil {
					t.Errorf("%s = %s, want {label,value,external}", key, val)
				}
			default:
				t.Errorf("%s has definition %q, which this test does not know", key, ref)
			}
		}
	}
}

func TestPanelLimits(t *testing.T) {
	var quotes []pipedrive.PanelQuote
	for i := range 12 {
		quotes = append(quotes, quote(i, qwoty.StatusDraft))
	}
	long := open
	long.Label = strings.Repeat("x", 50)
	r, err := pipedrive.NewPanelResponse(quotes, long, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != pipedrive.MaxPanelObjects || r.Data[9].ID != 10 {
		t.Errorf("%d objects (last id %d), want the first %d", len(r.Data), r.Data[len(r.Data)-1].ID, pipedrive.MaxPanelObjects)
	}
	if n := len([]rune(r.ExternalLink.Label)); n != 40 {
		t.Errorf("external link label of %d characters, want it cut to 40", n)
	}
	// JPY has no minor unit, KWD three.
	q := quote(1, qwoty.StatusSent)
	q.Currency, q.Total = "JPY", "1500"
	r, _ = pipedrive.NewPanelResponse([]pipedrive.PanelQuote{q}, open, "")
	if r.Data[0].Total.Value != "1500" {
		t.Errorf("JPY total %s, want 1500", r.Data[0].Total.Value)
	}
	q.Currency, q.Total = "KWD", "1.5"
	r, _ = pipedrive.NewPanelResponse([]pipedrive.PanelQuote{q}, open, "")
	if r.Data[0].Total.Value != "1.500" {
		t.Errorf("KWD total %s, want 1.500", r.Data[0].Total.Value)
	}
}

func TestPanelRefusesBadInput(t *testing.T) {
	bad := map[string]func(*pipedrive.PanelQuote, *pipedrive.ExternalLink, *string){
		"unknown status":      func(q *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, _ *string) { q.Status = "lost" },
		"total not a decimal": func(q *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, _ *string) { q.Total = "1,5" },
		"bad currency":        func(q *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, _ *string) { q.Currency = "usd" },
		"relative quote URL":  func(q *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, _ *string) { q.URL = "/embed" },
		"http quote URL":      func(q *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, _ *string) { q.URL = "http://app.example/q" },
		"javascript link":     func(_ *pipedrive.PanelQuote, l *pipedrive.ExternalLink, _ *string) { l.URL = "javascript:alert(1)" },
		"link without label":  func(_ *pipedrive.PanelQuote, l *pipedrive.ExternalLink, _ *string) { l.Label = "" },
		"bad settings URL":    func(_ *pipedrive.PanelQuote, _ *pipedrive.ExternalLink, s *string) { *s = "settings" },
	}
	for name, change := range bad {
		q, l, s := quote(1, qwoty.StatusDraft), open, ""
		change(&q, &l, &s)
		if _, err := pipedrive.NewPanelResponse([]pipedrive.PanelQuote{q}, l, s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The dev server runs on loopback over http.
	q := quote(1, qwoty.StatusDraft)
	q.URL = "http://127.0.0.1:8080/embed/pipedrive/card"
	if _, err := pipedrive.NewPanelResponse([]pipedrive.PanelQuote{q}, open, ""); err != nil {
		t.Errorf("loopback http URL refused: %v", err)
	}
}

func TestPanelError(t *testing.T) {
	e := qwoty.Errorf(qwoty.CodeOrgNotConnected, "An admin connects Pipedrive in Qwoty's console.", "this Pipedrive company is not connected to Qwoty")
	raw, err := json.Marshal(pipedrive.NewPanelError(e, "req-1", &pipedrive.ExternalLink{URL: "https://app.example/console", Label: "Connect"}))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	title, _ := v.Error["title"].(string)
	action, _ := v.Error["action"].(map[string]any)
	if title == "" || len([]rune(title)) > 30 || v.Error["subtitle"] != e.Hint || action["url"] != "https://app.example/console" || action["label"] != "Connect" {
		t.Errorf("error %s, want Pipedrive's title (≤ 30), subtitle and action", raw)
	}
	if v.Error["code"] != "org_not_connected" || v.Error["message"] != e.Message || v.Error["requestId"] != "req-1" {
		t.Errorf("error %s, want our code, message and request id too", raw)
	}
}

var syncNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// syncCases are the card answer's sync states and the label the panel
// shows for each, under "Sync" (the card's wording, cut to a label).
var syncCases = []struct {
	name  string
	sync  pipedrive.PanelSync
	color pipedrive.LabelColor
	label string
}{
	{"synced 2 min ago", pipedrive.PanelSync{State: qwoty.SyncSynced, At: syncNow.Add(-2*time.Minute - 10*time.Second)}, pipedrive.LabelGreen, "Synced 2 min ago"},
	{"synced yesterday", pipedrive.PanelSync{State: qwoty.SyncSynced, At: syncNow.Add(-30 * time.Hour)}, pipedrive.LabelGreen, "Synced yesterday"},
	{"synced long ago", pipedrive.PanelSync{State: qwoty.SyncSynced, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, pipedrive.LabelGreen, "Synced on 2 Jan 2026"},
	{"pending", pipedrive.PanelSync{State: qwoty.SyncPending}, pipedrive.LabelBlue, "Syncing…"},
	{"rate limited", pipedrive.PanelSync{State: qwoty.SyncPending, Code: qwoty.CodeRateLimited}, pipedrive.LabelBlue, "Syncing…"},
	{"retrying", pipedrive.PanelSync{State: qwoty.SyncPending, Code: qwoty.CodeSyncFailed, Message: "502"}, pipedrive.LabelBlue, "Syncing… (trying again after an error)"},
	{"failed", pipedrive.PanelSync{State: qwoty.SyncFailed, At: syncNow.Add(-time.Hour), Code: qwoty.CodeSyncRejected, Message: "Deal not found"},
		pipedrive.LabelRed, "Failed: Deal not found"},
	{"failed, long message", pipedrive.PanelSync{State: qwoty.SyncFailed, Code: qwoty.CodeSyncRejected,
		Message: "The product price must be a number with at most 2 decimals"}, pipedrive.LabelRed, "Failed: The product price must be a num…"},
	{"failed without a message", pipedrive.PanelSync{State: qwoty.SyncFailed, Code: qwoty.CodeSyncFailed}, pipedrive.LabelRed, "Failed: Pipedrive gave no reason"},
	{"made before sync", pipedrive.PanelSync{State: qwoty.SyncPending, Code: qwoty.CodeSyncReconnect,
		Message: "this connection lacks the write permissions sync needs"}, pipedrive.LabelYellow, "Waiting: reconnect to enable sync"},
	{"connection in error", pipedrive.PanelSync{State: qwoty.SyncPending, Code: qwoty.CodeRefreshRejected}, pipedrive.LabelYellow, "Waiting: Pipedrive must be reconnected"},
}

// Each quote says where it stands with Pipedrive, in a label under "Sync"
// (Retry is the card's: behind Open); a quote never bound for Pipedrive,
// or in a state this server does not know, has no sync key at all. The
// primary quote alone carries "Primary: Yes".
func TestPanelPrimaryAndSync(t *testing.T) {
	for _, c := range syncCases {
		q := quote(1, qwoty.StatusSent)
		q.Sync = c.sync
		r, err := pipedrive.NewPanelResponseAt(syncNow, []pipedrive.PanelQuote{q}, open, "")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := r.Data[0].Sync
		if got == nil || got.Color != c.color || got.Label != c.label {
			t.Errorf("%s: sync %+v, want %s %q", c.name, got, c.color, c.label)
		}
		if n := len([]rune(c.label)); n > 40 {
			t.Errorf("%s: label of %d characters, more than Pipedrive shows", c.name, n)
		}
	}

	primary, other, never, unknown := quote(1, qwoty.StatusSent), quote(2, qwoty.StatusDraft), quote(3, qwoty.StatusDraft), quote(4, qwoty.StatusDraft)
	primary.Primary = true
	primary.Sync = pipedrive.PanelSync{State: qwoty.SyncSynced, At: syncNow.Add(-20 * time.Second)}
	other.Sync = pipedrive.PanelSync{State: qwoty.SyncPending}
	unknown.Sync = pipedrive.PanelSync{State: "archived"}
	r, err := pipedrive.NewPanelResponseAt(syncNow, []pipedrive.PanelQuote{primary, other, never, unknown}, open, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(r.Data)
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &objs); err != nil {
		t.Fatal(err)
	}
	want := []struct{ primary, sync string }{
		{`{"color":"green","label":"Yes"}`, `{"color":"green","label":"Synced just now"}`},
		{"", `{"color":"blue","label":"Syncing…"}`},
		{"", ""},
		{"", ""},
	}
	for i, w := range want {
		if got := string(objs[i]["primary"]); got != w.primary {
			t.Errorf("quote %d: primary %s, want %q", i+1, got, w.primary)
		}
		if got := string(objs[i]["sync"]); got != w.sync {
			t.Errorf("quote %d: sync %s, want %q", i+1, got, w.sync)
		}
	}
}
