//go:build browser

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// lighthouseReport is what tools/lighthouse/run.mjs prints.
type lighthouseReport struct {
	URL           string         `json:"url"`
	FormFactor    string         `json:"formFactor"`
	Runs          []*int         `json:"runs"`
	Benchmark     float64        `json:"benchmarkIndex"`
	RunErrors     []string       `json:"runErrors"`
	Scores        map[string]int `json:"scores"`
	FCPMs         int            `json:"fcpMs"`
	LCPMs         int            `json:"lcpMs"`
	TBTMs         int            `json:"tbtMs"`
	CLS           float64        `json:"cls"`
	TransferBytes int            `json:"transferBytes"`
	RuntimeError  string         `json:"runtimeError"`
	Failing       []struct {
		Category, ID, Title, Value string
		Score                      float64
	} `json:"failing"`
}

// lighthouse runs Lighthouse (mobile profile) on u with Debian's Chromium,
// LIGHTHOUSE_RUNS times (5 unless set), and returns the median run.
func lighthouse(t *testing.T, u string) lighthouseReport {
	t.Helper()
	runs := os.Getenv("LIGHTHOUSE_RUNS")
	if runs == "" {
		runs = "5"
	}
	cmd := exec.Command("node", "run.mjs", u, "--runs", runs)
	cmd.Dir = "../tools/lighthouse"
	cmd.Env = append(os.Environ(), "CHROME_PATH="+chromiumPath(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lighthouse %s: %v\n%s", u, err, stderr.String())
	}
	var r lighthouseReport
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil || r.RuntimeError != "" {
		t.Fatalf("lighthouse %s: %v %s\n%s", u, err, r.RuntimeError, out)
	}
	return r
}

func (r lighthouseReport) String() string {
	var b strings.Builder
	var runs []string
	for _, p := range r.Runs {
		if p == nil {
			runs = append(runs, "failed")
		} else {
			runs = append(runs, strconv.Itoa(*p))
		}
	}
	b.WriteString(r.FormFactor + " (median of performance " + strings.Join(runs, " ") + ", benchmark index " + strconv.Itoa(int(r.Benchmark)) + ")")
	for _, c := range []string{"performance", "accessibility", "best-practices"} {
		b.WriteString(" " + c + " " + itoa(r.Scores[c]))
	}
	b.WriteString(" · FCP " + itoa(r.FCPMs) + " ms · LCP " + itoa(r.LCPMs) + " ms · TBT " + itoa(r.TBTMs) + " ms · " + itoa(r.TransferBytes) + " bytes")
	for _, e := range r.RunErrors {
		b.WriteString("\n  a run failed: " + e)
	}
	for _, f := range r.Failing {
		b.WriteString("\n  lost points: " + f.Category + " " + f.ID + " (" + f.Title + ") " + f.Value)
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLighthouse holds the card to its targets on Lighthouse's mobile
// profile: performance at least 99, accessibility and best practices 100,
// first contentful paint under 1 s, under 30 KB on the wire on a first
// load; and reports the console's login page. It runs with make lighthouse
// (QWOTY_LIGHTHOUSE=1), which installs Lighthouse from tools/lighthouse's
// lockfile.
func TestLighthouse(t *testing.T) {
	if os.Getenv("QWOTY_LIGHTHOUSE") == "" {
		t.Skip("make lighthouse runs it")
	}
	s := startSidebar(t)
	// A quote in each status, so every badge's contrast is audited.
	for _, path := range [][]qwoty.Status{{qwoty.StatusSent}, {qwoty.StatusSent, qwoty.StatusAccepted},
		{qwoty.StatusSent, qwoty.StatusRejected}, {qwoty.StatusSent, qwoty.StatusExpired}, {qwoty.StatusSent, qwoty.StatusViewed}} {
		q := s.quote(t, "USD", fiveLines[:2]...)
		for _, st := range path {
			if _, err := s.db.UpdateQuote(context.Background(), s.scope, q.ID, 0, "005000000000001AAA", func(q *qwoty.Quote) error { return q.Transition(st) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := s.quote(t, "USD", fiveLines...)
	for _, c := range []struct{ name, url string }{
		{"card list (a quote in each status)", s.embedURL(t, "en_US", "USD", "")},
		{"card editor (5 lines)", s.embedURL(t, "en_US", "USD", q.ID)},
	} {
		r := lighthouse(t, c.url)
		t.Logf("%s: %s", c.name, r)
		if r.Scores["performance"] < 99 || r.Scores["accessibility"] < 100 || r.Scores["best-practices"] < 100 ||
			r.FCPMs >= 1000 || r.TransferBytes >= 30*1024 {
			t.Errorf("%s misses its targets (performance ≥ 99, accessibility 100, best practices 100, FCP < 1 s, < 30 KB): %s", c.name, r)
		}
	}
	r := lighthouse(t, s.appURL+"/login")
	t.Logf("console login: %s", r)
	if r.Scores["accessibility"] < 100 || r.Scores["best-practices"] < 100 {
		t.Errorf("console login misses its targets (accessibility 100, best practices 100): %s", r)
	}
}
