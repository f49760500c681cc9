//go:build browser

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/playground"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/server"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// env is the app on one origin and the playground host page on another,
// both real servers on loopback, with the real database.
type env struct {
	db         *store.DB
	appURL     string
	hostURL    string
	playground *playground.Playground
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func start(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	appLn, hostLn := listen(t), listen(t)
	appURL := "http://" + appLn.Addr().String()
	hostPort := hostLn.Addr().(*net.TCPAddr).Port
	cfg := &config.Config{Env: config.Development, AppURL: appURL, PlaygroundPort: hostPort}
	keys := storetest.Keys(t)
	kid, key := keys.TokenKey()
	reg := crms(cfg)
	cards := cardview.NewService(db, reg, cardview.NewTokens(time.Now, cardview.Key{ID: kid, Secret: key}), appURL, time.Now)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv := server.New(server.Deps{Config: cfg, DB: db, Cards: cards, CRMs: reg, Logger: log, Version: "e2e"})
	if _, err := playground.EnsureDevConnection(context.Background(), db, cfg); err != nil {
		t.Fatal(err)
	}
	pg := playground.New(appURL, db, log)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.Serve(ctx, appLn, time.Second) }()
	go func() { defer wg.Done(); pg.Serve(ctx, hostLn, time.Second) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &env{db: db, appURL: appURL, hostURL: playground.Origin(cfg), playground: pg}
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("QWOTY_REQUIRE_BROWSER") != "" || os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed: run `make chromium` (Debian package chromium)")
	}
	t.Skip("Chromium is not installed; `make test-browser` installs it")
	return ""
}

// browser starts headless Chromium with a fresh profile; the flags keep it
// off the network (this machine has none) and same-site frames in-process,
// so the test can reach into the card's iframe.
func browser(t *testing.T) (context.Context, *logs) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first action starts the browser; it must not run under a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	l := &logs{}
	messages := chromedp.Console(ctx)
	go func() {
		for m := range messages {
			l.add(m.Text)
		}
	}()
	return ctx, l
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *logs) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// frame returns the card iframe's node, to run selectors inside it.
func frame(ctx context.Context, t *testing.T) *chromedp.Node {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#qwoty-frame")))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("no card iframe: %v", err)
	}
	return nodes[0]
}

// retype is the keys a person presses to replace a field's content: End,
// backspace over what is there, then the new value.
func retype(value string) string {
	return kb.End + strings.Repeat(kb.Backspace, 24) + value
}

// in runs a selector inside the card's frame.
func in(f *chromedp.Node) chromedp.QueryOption { return chromedp.FromNode(f) }

// cardFrameURL is the address of the page's one child frame as the browser
// has it now (after any history.replaceState), read through the DevTools
// protocol: the host page itself cannot read a cross-origin frame's address.
func cardFrameURL(ctx context.Context, t *testing.T) string {
	t.Helper()
	tree, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (*page.FrameTree, error) {
		r, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		return r.FrameTree, err
	})
	if err != nil || tree == nil || len(tree.ChildFrames) != 1 {
		t.Fatalf("frame tree: %+v, %v; want the host page with one child frame", tree, err)
	}
	return tree.ChildFrames[0].Frame.URL
}

// bounded runs steps with a deadline, so a missing element fails the test
// instead of hanging it.
func bounded(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(c, steps...)
}

func waitText(ctx context.Context, f *chromedp.Node, sel, want string) error {
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel), in(f)))
		cancel()
		got = strings.TrimSpace(v)
		if err == nil && got == want {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s shows %q, want %q", sel, got, want)
}

// screenshot saves the page for people to look at, when QWOTY_SCREENSHOT_DIR is set.
func screenshot(ctx context.Context, t *testing.T, name string) {
	dir := os.Getenv("QWOTY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

func TestCardInHostPageCreateAndEditQuote(t *testing.T) {
	e := start(t)
	ctx, _ := browser(t)

	if err := bounded(ctx, chromedp.Navigate(e.hostURL+"/"), chromedp.WaitVisible(chromedp.CSS("#qwoty-frame"))); err != nil {
		t.Fatalf("open the host page: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	ready, err := chromedp.Run(pctx, chromedp.Poll[bool]("window.qwoty && window.qwoty.ready", chromedp.WithPollingTimeout(20*time.Second)))
	cancel()
	if err != nil || !ready {
		t.Fatalf("the card never said ready to the host page: %v", err)
	}
	f := frame(ctx, t)
	// The frame was opened with the embed token in its address; the card has
	// exchanged it and dropped it, so it is not left in the frame's history
	// or in what the page could leak.
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("qwoty-frame").src`))
	if err != nil || !strings.Contains(src, "token=") {
		t.Fatalf("the card frame's src = %q, %v; want the embed URL with its token", src, err)
	}
	if u := cardFrameURL(ctx, t); !strings.Contains(u, "/embed/salesforce/card") || strings.Contains(u, "token=") {
		t.Fatalf("the card frame's address is %q: want the card page without its token", u)
	}
	if err := bounded(ctx,
		chromedp.WaitVisible(chromedp.CSS("#no-quotes"), in(f)),
		chromedp.Click(chromedp.CSS("#new-quote"), in(f)),
		chromedp.WaitVisible(chromedp.CSS("#add-line"), in(f)),
	); err != nil {
		t.Fatalf("create a quote: %v", err)
	}
	if err := waitText(ctx, f, "#editor h2", "Q-00001"); err != nil {
		t.Fatal(err)
	}

	// Add a line by typing in the form and clicking "Add line".
	if err := bounded(ctx,
		chromedp.SendKeys(chromedp.CSS("#new-sku"), "LIC-100", in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-description"), "Annual licence", in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-quantity"), retype("3"), in(f)),
		chromedp.SendKeys(chromedp.CSS("#new-unit_price"), "19.99", in(f)),
		chromedp.Click(chromedp.CSS("#add-line button[type=submit]"), in(f)),
	); err != nil {
		t.Fatalf("add a line: %v", err)
	}
	if err := waitText(ctx, f, "#total", "USD\u00a059.97"); err != nil {
		t.Fatal(err)
	}

	// Edit the line: quantity 3 → 5, then a 10% discount; the server recomputes.
	line := `#lines form.line[data-sku="LIC-100"]`
	edit := func(field, value string) error {
		return bounded(ctx, chromedp.SendKeys(chromedp.CSS(line+` input[name=`+field+`]`), retype(value)+"\t", in(f)))
	}
	if err := edit("quantity", "5"); err != nil {
		t.Fatalf("edit quantity: %v", err)
	}
	if err := waitText(ctx, f, "#total", "USD\u00a099.95"); err != nil {
		t.Fatal(err)
	}
	if err := edit("discount_percent", "10"); err != nil {
		t.Fatalf("edit discount: %v", err)
	}
	if err := waitText(ctx, f, "#total", "USD\u00a089.95"); err != nil {
		t.Fatal(err)
	}
	// A bad value shows a clear error beside its field and keeps the quote
	// as it was.
	if err := edit("unit_price", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, `form.line .field-error[role="alert"] strong`, `Unit price "abc" is not a number`); err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "card-editor")

	// Mark it sent (the rep sent it themselves): a secondary action behind
	// its confirmation; the status moves and the lines lock.
	if err := bounded(ctx, chromedp.Click(chromedp.CSS(`#sent-outside-open`), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := bounded(ctx, chromedp.WaitVisible(chromedp.CSS(`#sent-outside #status-sent`), in(f))); err != nil {
		t.Fatal(err)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#sent-outside-note`), in(f)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "Qwoty sends nothing") {
		t.Fatalf("the confirmation says %q", note)
	}
	if err := bounded(ctx, chromedp.Click(chromedp.CSS(`#sent-outside #status-sent`), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#quote-status", "SENT"); err != nil { // upper-cased by CSS
		t.Fatal(err)
	}
	screenshot(ctx, t, "card-sent")

	// What the browser did is what the database holds.
	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, playground.DevOrgID)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := e.db.ListQuotes(context.Background(), store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: "006000000000001AAA"})
	if err != nil || len(qs) != 1 || qs[0].Totals.Total.StringFixed(2) != "89.95" || qs[0].Status != qwoty.StatusSent {
		t.Fatalf("stored quotes = %+v, %v", qs, err)
	}

	// The sent revision is listed under Versions; Revise makes revision 2
	// the draft, listed beside it, and the two are compared (the lines are
	// the same; the draft has no valid-until date yet).
	if err := waitText(ctx, f, "#version-1 .v-rev", "Revision 1"); err != nil {
		t.Fatal(err)
	}
	if err := bounded(ctx, chromedp.Click(chromedp.CSS(`#revise`), in(f))); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#quote-status", "DRAFT"); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#version-2 .v-rev", "Revision 2 (draft)"); err != nil {
		t.Fatal(err)
	}
	if err := waitText(ctx, f, "#version-diff .diff-head", "Revision 1 → revision 2"); err != nil {
		t.Fatal(err)
	}
	screenshot(ctx, t, "card-revised")

	// No cookie was set, and the host page cannot reach into the card.
	cookie, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookie != "" {
		t.Fatalf("host cookie %q, %v", cookie, err)
	}
	frameURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("qwoty-frame").contentDocument ? "same-origin?" : "cross-origin"`))
	if err != nil || frameURL != "cross-origin" {
		t.Fatalf("the card frame is reachable from the host page: %q, %v", frameURL, err)
	}
}

func TestForeignHostOriginIsRefused(t *testing.T) {
	e := start(t)
	// A callout for the dev org, answered with an embed URL...
	conn, err := e.db.ConnectionByExternalID(context.Background(), qwoty.ProviderSalesforce, playground.DevOrgID)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"recordId":"006000000000001AAA","objectType":"Opportunity","record":{"name":"Deal"}}`
	req, _ := http.NewRequest(http.MethodPost, e.appURL+"/api/crm/cardView", strings.NewReader(body))
	req.Header = salesforce.SignedHeaders(playground.DevOrgID, conn.Secret, "/api/crm/cardView", []byte(body), time.Now(), salesforce.NewNonce())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	embed := between(string(raw), `"embedUrl":"`, `"`)
	embed = strings.ReplaceAll(embed, `\u0026`, "&")

	// ...framed by a page on an origin the connection does not list.
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>Foreign</title>
<iframe id="qwoty-frame" src="%s"></iframe>
<script>window.got = []; addEventListener("message", function (e) { window.got.push(e.origin + " " + (e.data && e.data.type)); });</script>`, embed)
	}))
	defer foreign.Close()
	if strings.HasPrefix(foreign.URL, e.hostURL) {
		t.Fatal("the foreign page shares the allowed origin")
	}

	ctx, logs := browser(t)
	if err := bounded(ctx, chromedp.Navigate(foreign.URL)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !logs.has("frame-ancestors") {
		time.Sleep(100 * time.Millisecond)
	}
	if !logs.has("frame-ancestors") {
		t.Fatalf("Chromium reported no frame-ancestors refusal; console: %v", logs.lines)
	}
	time.Sleep(time.Second)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.got`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("the refused card still talked to the foreign page: %v", got)
	}
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "Foreign" {
		t.Fatalf("title %q, %v", title, err)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }
