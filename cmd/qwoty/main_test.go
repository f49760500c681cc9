package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

func setEnv(t *testing.T) string {
	dbURL := storetest.NewDatabase(t)
	t.Setenv("QWOTY_ENV", "production")
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("APP_URL", "https://qwoty.test")
	t.Setenv("QWOTY_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	return dbURL
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConnectionAddThenSignedCalloutIsAccepted(t *testing.T) {
	dbURL := setEnv(t)
	code, out, errs := runCLI("connection", "add", "salesforce", "--org-id", "00D5g000004XyZa", "--my-domain", "acme--uat", "--sandbox", "--workspace", "Acme")
	if strings.Contains(errs, "warning") {
		t.Fatalf("a new connection warned: %q", errs)
	}
	if code != 0 {
		t.Fatalf("connection add: exit %d: %s", code, errs)
	}
	var added struct{ ConnectionID, WorkspaceID, Secret string }
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.ConnectionID == "" || len(added.Secret) != 43 {
		t.Fatalf("connection add printed %q (%v)", out, err)
	}

	// A server on the same database, as `qwoty serve` would run.
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := keyring.New(cfg.MasterKey)
	db, err := store.Open(context.Background(), dbURL, keys, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kid, key := keys.TokenKey()
	ts := httptest.NewServer(nil)
	defer ts.Close()
	crms := registry(cfg)
	cards := cardview.NewService(db, crms, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), ts.URL, time.Now)
	ts.Config.Handler = server.New(server.Deps{Config: cfg, DB: db, Cards: cards, CRMs: crms}).Handler()

	// `qwoty sign` prints headers, a blank line and the body: send exactly that.
	code, out, errs = runCLI("sign", "--org-id", "00D5g000004XyZaEAK", "--secret", added.Secret)
	if code != 0 {
		t.Fatalf("sign: exit %d: %s", code, errs)
	}
	head, body, _ := strings.Cut(out, "\n\n")
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/crm/cardView", strings.NewReader(strings.TrimSuffix(body, "\n")))
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(raw, []byte(`"embedUrl"`)) {
		t.Fatalf("the signed sample was refused: %d %s", resp.StatusCode, raw)
	}

	// The curl form names the URL, every header and the body.
	code, out, _ = runCLI("sign", "--org-id", "00D5g000004XyZaEAK", "--secret", added.Secret, "--url", ts.URL+"/api/crm/ping")
	if code != 0 || !strings.HasPrefix(out, "curl -sS -X POST '"+ts.URL+"/api/crm/ping'") || !strings.Contains(out, "X-Qwoty-Signature: v1=") {
		t.Fatalf("sign --url printed %q", out)
	}

	// Re-enabling the same org keeps its workspace and issues a new secret.
	code, out, errs = runCLI("connection", "add", "salesforce", "--org-id", "00D5g000004XyZaEAK", "--my-domain", "acme--uat", "--sandbox")
	// ... and says so on stderr: the old secret stops working at once.
	if !strings.Contains(errs, "warning: re-keyed the active connection "+added.ConnectionID) || !strings.Contains(errs, "00D5g000004XyZaEAK") {
		t.Fatalf("re-keying an existing connection: stderr %q, want a warning naming the connection and the org", errs)
	}
	var again struct{ ConnectionID, WorkspaceID, Secret string }
	json.Unmarshal([]byte(out), &again)
	if code != 0 || again.ConnectionID != added.ConnectionID || again.WorkspaceID != added.WorkspaceID || again.Secret == added.Secret {
		t.Fatalf("re-enable: %d %q", code, out)
	}
	c, _ := db.ConnectionByID(context.Background(), added.ConnectionID)
	if c.MyDomain != "acme--uat.sandbox" || !c.Sandbox {
		t.Fatalf("stored my domain %q sandbox %v", c.MyDomain, c.Sandbox)
	}
}

func TestBadUsageAndConfigurationExitTwoWithOneLine(t *testing.T) {
	setEnv(t)
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"connection", "add", "salesforce", "--org-id", "0065g00000AbCdE", "--my-domain", "acme"}, "--org-id"},
		{[]string{"connection", "add", "salesforce", "--org-id", "00D5g000004XyZa", "--my-domain", "acme"}, ""}, // valid: exit 0
		{[]string{"connection", "add", "salesforce", "--org-id", "00D5g000004XyZa", "--my-domain", "acme", "--sandbox"}, "--my-domain"},
		{[]string{"connection", "add", "hubspot", "--portal-id", "abc"}, "--portal-id"},
		{[]string{"connection", "add", "pipedrive", "--company-id", "12", "--api-domain", "http://x"}, "--api-domain"},
		{[]string{"connection", "add", "zoho"}, "unknown CRM"},
		{[]string{"sign", "--org-id", "00D5g000004XyZa"}, "--secret"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(c.args...)
		if c.says == "" {
			if code != 0 {
				t.Errorf("%v: exit %d: %s", c.args, code, errs)
			}
			continue
		}
		if code != 2 || !strings.Contains(errs, c.says) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", c.args, code, errs, c.says)
		}
	}
	if code, out, _ := runCLI("doctor"); code != 0 || !strings.Contains(out, "every connection's secrets open") {
		t.Fatalf("doctor: exit %d: %s", code, out)
	}
	// Another key: the secrets saved under the first one no longer open.
	t.Setenv("QWOTY_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)))
	if code, out, _ := runCLI("doctor"); code != 1 || !strings.Contains(out, "do not open with QWOTY_SECRET_KEY") {
		t.Fatalf("doctor with a changed key: exit %d: %s", code, out)
	}
	t.Setenv("QWOTY_SECRET_KEY", "")
	code, _, errs := runCLI("migrate")
	if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "QWOTY_SECRET_KEY") {
		t.Fatalf("missing key: exit %d, stderr %q", code, errs)
	}
}
