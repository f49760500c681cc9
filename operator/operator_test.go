package operator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/qwoty/companion/operator"
	"github.com/qwoty/companion/store/storetest"
)

type sampleArgs struct {
	N int `json:"n"`
}

func (sampleArgs) Kind() string { return "sample" }

const user, password = "ops", "correct horse battery"

func jobsClient(t *testing.T) *river.Client[pgx.Tx] {
	t.Helper()
	db := storetest.New(t)
	c, err := db.NewJobClient(&river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type call struct {
	method, path, user, password, body string
	header                             map[string]string
}

func do(t *testing.T, srv *httptest.Server, c call) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// Without a password the jobs view is not there (and the log says so);
// /metrics is.
func TestJobsViewOffWithoutPassword(t *testing.T) {
	var logged bytes.Buffer
	h, err := operator.New(context.Background(), operator.Options{User: user, Jobs: jobsClient(t),
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if code, _, _ := do(t, srv, call{method: "GET", path: "/jobs/", user: user, password: password}); code != http.StatusNotFound {
		t.Fatalf("the jobs view without a password answers %d", code)
	}
	if code, _, _ := do(t, srv, call{method: "GET", path: "/metrics"}); code != http.StatusOK {
		t.Fatalf("/metrics answers %d", code)
	}
	if !strings.Contains(logged.String(), "jobs view is off") {
		t.Fatalf("the log does not say the jobs view is off: %s", logged.String())
	}
}

// The jobs view (River's UI, its assets embedded) opens with the operator
// credential only; its API lists the jobs and cancels one; a cross-origin
// action is refused.
func TestJobsViewBehindTheCredential(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := jobsClient(t)
	res, err := client.Insert(ctx, sampleArgs{N: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := operator.New(ctx, operator.Options{User: user, Password: password, Jobs: client, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	html := map[string]string{"Accept": "text/html"}

	for _, c := range []call{
		{method: "GET", path: "/jobs/", header: html},
		{method: "GET", path: "/jobs/api/jobs?state=available"},
		{method: "GET", path: "/jobs/", user: user, password: password + "x", header: html},
		{method: "GET", path: "/jobs/", user: "operator", password: password, header: html},
		{method: "POST", path: "/jobs/api/jobs/cancel", body: `{"ids":["` + strconv.FormatInt(res.Job.ID, 10) + `"]}`},
	} {
		code, hdr, _ := do(t, srv, c)
		if code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("%s %s as %q answers %d (WWW-Authenticate %q), want 401", c.method, c.path, c.user, code, hdr.Get("WWW-Authenticate"))
		}
	}

	// The page and its assets.
	code, _, page := do(t, srv, call{method: "GET", path: "/jobs/", user: user, password: password, header: html})
	if code != http.StatusOK || !strings.Contains(page, "<title>River</title>") || !strings.Contains(page, `"/jobs/api"`) {
		t.Fatalf("the jobs page: %d\n%s", code, page)
	}
	asset := regexp.MustCompile(`/jobs/assets/[^"]+\.js`).FindString(page)
	if asset == "" {
		t.Fatalf("the page links no script:\n%s", page)
	}
	code, hdr, body := do(t, srv, call{method: "GET", path: asset, user: user, password: password})
	if code != http.StatusOK || !strings.Contains(hdr.Get("Content-Type"), "javascript") || len(body) < 1000 {
		t.Fatalf("%s: %d %s, %d bytes", asset, code, hdr.Get("Content-Type"), len(body))
	}

	// The API: lists the job, counts by state, cancels it.
	code, _, body = do(t, srv, call{method: "GET", path: "/jobs/api/jobs?state=available", user: user, password: password})
	var list struct {
		Data []struct {
			ID    json.Number `json:"id"`
			Kind  string      `json:"kind"`
			State string      `json:"state"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Data) != 1 || list.Data[0].Kind != "sample" {
		t.Fatalf("job list: %d %v\n%s", code, err, body)
	}
	if code, _, body = do(t, srv, call{method: "GET", path: "/jobs/api/states", user: user, password: password}); code != http.StatusOK || !regexp.MustCompile(`"available":\{[^}]*"count":1[,}]`).MatchString(body) {
		t.Fatalf("states: %d %s", code, body)
	}
	cancelJob := call{method: "POST", path: "/jobs/api/jobs/cancel", user: user, password: password,
		body:   `{"ids":["` + strconv.FormatInt(res.Job.ID, 10) + `"]}`,
		header: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}
	if code, _, body = do(t, srv, cancelJob); code != http.StatusForbidden {
		t.Fatalf("a cross-origin cancel answers %d %s", code, body)
	}
	if j, _ := client.JobGet(ctx, res.Job.ID); j.State != rivertype.JobStateAvailable {
		t.Fatalf("a refused cancel left the job %s", j.State)
	}
	cancelJob.header = map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin", "Origin": srv.URL}
	if code, _, body = do(t, srv, cancelJob); code != http.StatusOK {
		t.Fatalf("a same-origin cancel answers %d %s", code, body)
	}
	if j, _ := client.JobGet(ctx, res.Job.ID); j.State != rivertype.JobStateCancelled {
		t.Fatalf("the cancelled job is %s", j.State)
	}
}
