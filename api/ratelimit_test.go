package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
	"github.com/qwoty/companion/web"
)

// instance is one API server: its own engine and its own pool on the
// shared database, as two replicas behind a balancer are.
type instance struct {
	r  *gin.Engine
	db *store.DB
}

// twoInstances starts two instances on one fresh database with the limit
// rl, each with a test route (quotes:read) that answers the key's id.
func twoInstances(t testing.TB, rl config.APIRateLimit) (*instance, *instance) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	url := storetest.NewDatabase(t)
	mk := func() *instance {
		db := storetest.Open(t, url, store.Options{})
		r := web.NewEngine(slog.New(slog.DiscardHandler), web.NewErrors(nil, nil), web.API, nil)
		a := Mount(r, Deps{DB: db, Errors: web.NewErrors(nil, nil), RateLimit: rl})
		huma.Register(a.Huma(), huma.Operation{OperationID: "test-key", Method: http.MethodGet, Path: "/test/key",
			Security: Secured(qwoty.ScopeQuotesRead)}, func(ctx context.Context, _ *struct{}) (*whoAmI, error) {
			out := &whoAmI{}
			out.Body.Workspace, out.Body.Connection = KeyOf(ctx).WorkspaceID, KeyOf(ctx).ConnectionID
			return out, nil
		})
		return &instance{r: r, db: db}
	}
	return mk(), mk()
}

// key makes a key (quotes:read) on a fresh connection of the instance's
// database.
func (in *instance) key(t testing.TB, expires *time.Time) (string, *store.APIKey) {
	t.Helper()
	ctx := context.Background()
	conn, err := in.db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Acme " + strconv.Itoa(int(time.Now().UnixNano()%1e6)),
		Provider: qwoty.ProviderHubSpot, ExternalID: strconv.FormatInt(time.Now().UnixNano(), 10)})
	if err != nil {
		t.Fatal(err)
	}
	tok, k, err := in.db.CreateAPIKey(ctx, conn.WorkspaceID, conn.ID, "ERP sync", []string{"quotes:read"}, expires, "admin@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	return tok, k
}

func (in *instance) call(token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, Base+"/test/key", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	in.r.ServeHTTP(w, req)
	return w
}

func codeOf(t *testing.T, w *httptest.ResponseRecorder) qwoty.Code {
	t.Helper()
	var body web.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	return body.Error.Code
}

var rateLimitField = regexp.MustCompile(`^"per-key";r=(\d+);t=(\d+)$`)

// remaining reads RateLimit's r and t.
func remaining(t *testing.T, w *httptest.ResponseRecorder) (int, int) {
	t.Helper()
	m := rateLimitField.FindStringSubmatch(w.Header().Get("RateLimit"))
	if m == nil {
		t.Fatalf("RateLimit: %q (status %d)", w.Header().Get("RateLimit"), w.Code)
	}
	r, _ := strconv.Atoi(m[1])
	tt, _ := strconv.Atoi(m[2])
	return r, tt
}

// Two instances share one key's bucket: 40 requests at once, half on each,
// get exactly the burst through (the refill, one request per 6 minutes,
// adds nothing meanwhile), the rest 429 rate_limited with Retry-After; the
// key's day counts both, and its last use is stamped.
func TestRateLimitSharedByInstances(t *testing.T) {
	a, b := twoInstances(t, config.APIRateLimit{Requests: 10, Window: time.Hour, Burst: 10})
	tok, k := a.key(t, nil)
	var mu sync.Mutex
	status := map[int]int{}
	perInstance := map[string]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		in, name := a, "a"
		if i%2 == 1 {
			in, name = b, "b"
		}
		wg.Go(func() {
			w := in.call(tok)
			mu.Lock()
			defer mu.Unlock()
			status[w.Code]++
			if w.Code == http.StatusOK {
				perInstance[name]++
			}
			if w.Header().Get("RateLimit-Policy") != `"per-key";q=10;w=3600` {
				t.Errorf("RateLimit-Policy: %q", w.Header().Get("RateLimit-Policy"))
			}
			if w.Code == http.StatusTooManyRequests {
				ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
				// one request refills in 360 s
				if err != nil || ra < 1 || ra > 360 {
					t.Errorf("Retry-After: %q", w.Header().Get("Retry-After"))
				}
				if c := codeOf(t, w); c != qwoty.CodeRateLimited {
					t.Errorf("429 code %s", c)
				}
				if r, _ := remaining(t, w); r != 0 {
					t.Errorf("429 with r=%d", r)
				}
			}
		})
	}
	wg.Wait()
	if status[http.StatusOK] != 10 || status[http.StatusTooManyRequests] != 30 || len(status) != 2 {
		t.Fatalf("statuses %v, want 10 × 200 and 30 × 429", status)
	}
	t.Logf("accepted by instance: %v", perInstance)
	if perInstance["a"] == 0 || perInstance["b"] == 0 {
		t.Logf("(one instance took the whole burst: the race decided; the sum is what is checked)")
	}
	ctx := context.Background()
	usage, err := b.db.APIKeysUsage(ctx, k.WorkspaceID, k.ConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	if u := usage[k.ID]; u.Today != 10 || u.RefusedToday != 30 || u.Week != 10 || u.RefusedWeek != 30 {
		t.Errorf("usage %+v, want 10 accepted and 30 refused today", u)
	}
	keys, err := a.db.APIKeys(ctx, k.WorkspaceID, k.ConnectionID)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil || time.Since(*keys[0].LastUsedAt) > time.Minute {
		t.Fatalf("last used: %+v, %v", keys, err)
	}
}

// The fields are consistent from one answer to the next: r goes down by
// one per request on either instance and t says when the bucket is full;
// at r=0 the next is refused with the Retry-After the refill gives, and
// after that wait a request passes again.
func TestRateLimitHeadersAndRetryAfter(t *testing.T) {
	// 2 a second, bursts of 3: a request refills in 0.5 s.
	a, b := twoInstances(t, config.APIRateLimit{Requests: 2, Window: time.Second, Burst: 3})
	tok, _ := a.key(t, nil)
	for i, in := range []*instance{a, b, a} {
		w := in.call(tok)
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		if p := w.Header().Get("RateLimit-Policy"); p != `"per-key";q=2;w=1` {
			t.Fatalf("RateLimit-Policy %q", p)
		}
		r, full := remaining(t, w)
		// The bucket held 3; a little refill (under one request) may
		// have come back between requests.
		if r != 2-i {
			t.Errorf("request %d: r=%d, want %d", i, r, 2-i)
		}
		if want := int(math.Ceil(float64(3-r) / 2)); full < want-1 || full > want {
			t.Errorf("request %d: r=%d t=%d, want t≈%d", i, r, full, want)
		}
	}
	w := b.call(tok)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || codeOf(t, w) != qwoty.CodeRateLimited {
		t.Fatalf("over the limit: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	var body web.ErrorBody
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if body.Error.Hint == "" || body.Error.Message == "" {
		t.Errorf("429 without message or hint: %s", w.Body)
	}
	time.Sleep(time.Second)
	if w := a.call(tok); w.Code != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", w.Code, w.Body)
	}

	// The document says so: the fields on the operation's answers, and
	// its 429 with Retry-After.
	w = httptest.NewRecorder()
	a.r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Base+"/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Headers map[string]struct {
					Schema struct {
						Type string `json:"type"`
					} `json:"schema"`
				} `json:"headers"`
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths["/test/key"]["get"]
	if h := op.Responses["200"].Headers; h["RateLimit"].Schema.Type != "string" || h["RateLimit-Policy"].Schema.Type != "string" {
		t.Errorf("200's headers in the document: %+v", h)
	}
	if r := op.Responses["429"]; r.Headers["Retry-After"].Schema.Type != "integer" || r.Headers["RateLimit"].Schema.Type != "string" ||
		len(r.Content) == 0 {
		t.Errorf("429 in the document: %+v", r)
	}
}

// Revocation and expiry hold at once on both instances: each reads the key
// on every request.
func TestRevokedAndExpiredOnBothInstances(t *testing.T) {
	a, b := twoInstances(t, config.APIRateLimit{})
	ctx := context.Background()
	tok, k := a.key(t, nil)
	soon := time.Now().Add(1500 * time.Millisecond)
	expiring, _ := b.key(t, &soon)
	for _, in := range []*instance{a, b} {
		for _, tk := range []string{tok, expiring} {
			if w := in.call(tk); w.Code != http.StatusOK {
				t.Fatalf("before: %d %s", w.Code, w.Body)
			}
		}
	}
	if err := b.db.RevokeAPIKey(ctx, k.WorkspaceID, k.ConnectionID, k.ID, "admin@acme.example"); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]*instance{"a": a, "b": b} {
		if w := in.call(tok); w.Code != http.StatusUnauthorized || codeOf(t, w) != qwoty.CodeAPIKeyRevoked {
			t.Errorf("revoked key on %s: %d %s", name, w.Code, w.Body)
		}
	}
	time.Sleep(time.Until(soon))
	for name, in := range map[string]*instance{"a": a, "b": b} {
		if w := in.call(expiring); w.Code != http.StatusUnauthorized || codeOf(t, w) != qwoty.CodeAPIKeyExpired {
			t.Errorf("expired key on %s: %d %s", name, w.Code, w.Body)
		}
		if w := in.call(expiring); w.Header().Get("RateLimit") != "" {
			t.Errorf("a refused key is not counted against a limit: %q", w.Header().Get("RateLimit"))
		}
	}
}

// Usage stays bounded: a key's first request of a day drops its days older
// than 35; the recent ones stay.
func TestUsageIsBounded(t *testing.T) {
	a, _ := twoInstances(t, config.APIRateLimit{})
	tok, k := a.key(t, nil)
	pool := storetest.Pool(t, a.db)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO api_key_usage (key_id, day, accepted) VALUES
		($1, (now() AT TIME ZONE 'UTC')::date - 40, 5), ($1, (now() AT TIME ZONE 'UTC')::date - 36, 5),
		($1, (now() AT TIME ZONE 'UTC')::date - 3, 7)`, k.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if w := a.call(tok); w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	var days []string
	rows, err := pool.Query(ctx, `SELECT ((now() AT TIME ZONE 'UTC')::date - day)::text || ':' || accepted FROM api_key_usage WHERE key_id = $1 ORDER BY day`, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		days = append(days, s)
	}
	if fmt.Sprint(days) != "[3:7 0:2]" {
		t.Fatalf("usage rows (days ago:accepted) %v, want [3:7 0:2]", days)
	}
	usage, err := a.db.APIKeysUsage(ctx, k.WorkspaceID, k.ConnectionID)
	if err != nil || usage[k.ID].Today != 2 || usage[k.ID].Week != 9 {
		t.Fatalf("usage %+v, %v; want 2 today, 9 this week", usage[k.ID], err)
	}
}
