package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/keyring"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

func cmdMigrate(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "qwoty migrate: takes no arguments")
		return 2
	}
	cfg, ok := loadConfig(stderr)
	if !ok {
		return 2
	}
	a, err := open(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stderr, "qwoty migrate: %v\n", err)
		return 1
	}
	defer a.db.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return 0
}

// cmdConnection is `qwoty connection add <provider> ...` (contracts.md §3):
// the CRM's adapter defines the flags that name its account.
func cmdConnection(args []string, stdout, stderr io.Writer) int {
	// Which CRMs there are, and their flags, do not depend on the
	// configuration, which is read once the flags are known good.
	var connectors []crm.Adapter
	for _, a := range registry(&config.Config{}).All() {
		if _, ok := a.(crm.ManualConnector); ok {
			connectors = append(connectors, a)
		}
	}
	names := make([]string, len(connectors))
	for i, a := range connectors {
		names[i] = string(a.Info().Provider)
	}
	if len(args) < 2 || args[0] != "add" {
		fmt.Fprintf(stderr, "usage: qwoty connection add %s [flags]\n", strings.Join(names, "|"))
		return 2
	}
	provider := qwoty.Provider(args[1])
	i := slices.Index(names, args[1])
	if i < 0 {
		fmt.Fprintf(stderr, "qwoty connection add: unknown CRM %q (%s)\n", args[1], orList(names))
		return 2
	}
	adapter := connectors[i]
	fs := flag.NewFlagSet("qwoty connection add "+args[1], flag.ContinueOnError)
	fs.SetOutput(stderr)
	workspace := fs.String("workspace", "", "workspace name (default: the connection's own, or \"Default\")")
	account := adapter.(crm.ManualConnector).AccountFlags(fs)
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "qwoty connection add: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	acct, err := account()
	if err != nil {
		fmt.Fprintf(stderr, "qwoty connection add: %v\n", err)
		return 2
	}
	p := store.AddConnectionParams{Workspace: strings.TrimSpace(*workspace), Provider: provider, Actor: "qwoty connection add",
		ExternalID: acct.ExternalID, MyDomain: acct.MyDomain, Sandbox: acct.Sandbox, InstanceURL: acct.InstanceURL}

	cfg, ok := loadConfig(stderr)
	if !ok {
		return 2
	}
	a, err := open(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stderr, "qwoty connection add: %v\n", err)
		return 1
	}
	defer a.db.Close()
	// Re-keying an existing connection replaces its secret with no grace:
	// whatever signs with the old one (the org, the playground, a console
	// connection) is refused from now on. Say so, so that it is never a
	// silent take-over.
	prev, prevErr := a.db.ConnectionByExternalID(context.Background(), provider, p.ExternalID)
	existed := prevErr == nil || errors.Is(prevErr, keyring.ErrOpen)
	c, err := a.db.AddConnection(context.Background(), p)
	if err == nil && existed {
		status := "an existing"
		if prev != nil {
			status = "the " + string(prev.Status)
		}
		fmt.Fprintf(stderr, "qwoty connection add: warning: re-keyed %s connection %s of %s account %s: it has a new secret, and the old one is refused from now on (cards signed with it answer signature_invalid until the new secret is in the CRM)\n",
			status, c.ID, provider.Title(), p.ExternalID)
	}
	if err != nil {
		e := qwoty.AsError(err)
		fmt.Fprintf(stderr, "qwoty connection add: %s", e.Message)
		if e.Hint != "" && e.Code != qwoty.CodeInternal {
			fmt.Fprintf(stderr, " (%s)", e.Hint)
		} else if e.Err != nil {
			fmt.Fprintf(stderr, ": %v", e.Err)
		}
		fmt.Fprintln(stderr)
		return 1
	}
	out := struct {
		ConnectionID string `json:"connectionId"`
		WorkspaceID  string `json:"workspaceId"`
		Secret       string `json:"secret,omitempty"`
	}{ConnectionID: c.ID, WorkspaceID: c.WorkspaceID}
	if adapter.Info().Rotates {
		// The CRM holds the embed secret: the operator writes it there.
		out.Secret = string(c.Secret)
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(out); err != nil {
		return 1
	}
	return 0
}

// orList writes names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// sampleBody is what `qwoty sign` signs without --body: the contract's
// example, with valid Salesforce ids.
const sampleBody = `{"recordId":"006000000000001AAA","objectType":"Opportunity","user":{"id":"005000000000001AAA","email":"rep@acme.com","name":"Rep Name","locale":"en_US","timeZone":"Europe/Paris"},"record":{"name":"Acme - 200 licences","accountId":"001000000000001AAA","accountName":"Acme","amount":12000.5,"currencyIsoCode":"USD","stageName":"Prospecting","closeDate":"2026-12-31"}}`

// cmdSign prints a v1 signed callout's headers (and body), or with --url a
// curl command that sends it: the same bytes the Apex would send.
func cmdSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qwoty sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	orgID := fs.String("org-id", "", "org id, exactly as the org sends it (required)")
	secret := fs.String("secret", "", "the org's embed secret (required)")
	bodyFile := fs.String("body", "", "file holding the JSON body (default: a sample Opportunity body)")
	target := fs.String("url", "", "full URL to call, such as http://localhost:8080/api/crm/cardView: print a curl command")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *orgID == "" || *secret == "" {
		fmt.Fprintln(stderr, "qwoty sign: --org-id and --secret are required")
		return 2
	}
	if _, err := salesforce.NormalizeOrgID(*orgID); err != nil {
		fmt.Fprintf(stderr, "qwoty sign: --org-id: %v\n", err)
		return 2
	}
	body := []byte(sampleBody)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintf(stderr, "qwoty sign: --body: %v\n", err)
			return 2
		}
		body = b
	}
	path := "/api/crm/cardView"
	if *target != "" {
		u, err := url.Parse(*target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintln(stderr, "qwoty sign: --url: not an absolute http(s) URL")
			return 2
		}
		// The signed path is the API's own, whatever prefix a proxy adds.
		switch {
		case strings.HasSuffix(u.Path, "/api/crm/cardView"):
		case strings.HasSuffix(u.Path, "/api/crm/ping"):
			path = "/api/crm/ping"
		default:
			fmt.Fprintln(stderr, "qwoty sign: --url: must end with /api/crm/cardView or /api/crm/ping")
			return 2
		}
	}
	h := salesforce.SignedHeaders(*orgID, []byte(*secret), path, body, time.Now(), salesforce.NewNonce())
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	if *target == "" {
		for _, k := range names {
			fmt.Fprintf(stdout, "%s: %s\n", k, h.Get(k))
		}
		fmt.Fprintf(stdout, "\n%s\n", body)
		return 0
	}
	fmt.Fprintf(stdout, "curl -sS -X POST %s", shellQuote(*target))
	for _, k := range names {
		fmt.Fprintf(stdout, " \\\n  -H %s", shellQuote(k+": "+h.Get(k)))
	}
	if *bodyFile != "" {
		fmt.Fprintf(stdout, " \\\n  --data-binary @%s\n", shellQuote(*bodyFile))
	} else {
		fmt.Fprintf(stdout, " \\\n  --data-binary %s\n", shellQuote(string(body)))
	}
	return 0
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cmdDoctor checks what an operator can get wrong: the configuration, the
// database, the schema, and the connections it holds.
func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "qwoty doctor: takes no arguments")
		return 2
	}
	cfg, ok := loadConfig(stderr)
	if !ok {
		return 2
	}
	fmt.Fprintf(stdout, "ok    configuration (%s mode, APP_URL %s)\n", cfg.Env, cfg.AppURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := open(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL  database: %v\n", err)
		return 1
	}
	defer a.db.Close()
	fmt.Fprintln(stdout, "ok    database reachable, migrations applied")
	n, active, err := a.db.CountConnections(ctx)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL  connections: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ok    %d connections, %d active\n", n, active)
	if _, failed, err := a.db.CheckSecrets(ctx); err != nil {
		fmt.Fprintf(stdout, "FAIL  secrets: %v\n", err)
		return 1
	} else if failed > 0 {
		fmt.Fprintf(stdout, "FAIL  %d connections' secrets do not open with QWOTY_SECRET_KEY: the key changed since they were saved (restore the old key)\n", failed)
		return 1
	}
	fmt.Fprintln(stdout, "ok    every connection's secrets open with QWOTY_SECRET_KEY")
	for _, a := range registry(cfg).All() {
		state := "not configured"
		if a.Info().Configured {
			state = "configured"
		}
		fmt.Fprintf(stdout, "info  %s app: %s\n", a.Info().Name, state)
	}
	return 0
}
