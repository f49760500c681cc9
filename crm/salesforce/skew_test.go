package salesforce

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// gapSaid reads the gap back from a timestamp_out_of_range message and
// checks it against the true gap in seconds, computed without Duration.
func checkGapSaid(t *testing.T, msg string, gap uint64) {
	t.Helper()
	m := regexp.MustCompile(`timestamp is (.+) away from`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("message %q does not give the gap", msg)
	}
	const day = 24 * 60 * 60
	said := m[1]
	switch {
	case strings.HasSuffix(said, " years"):
		n, err := strconv.ParseUint(strings.TrimSuffix(said, " years"), 10, 64)
		if err != nil || gap < n*365*day || gap >= (n+1)*365*day || gap < 2*365*day {
			t.Fatalf("message %q for a gap of %d s", msg, gap)
		}
	case strings.HasSuffix(said, " days"):
		n, err := strconv.ParseUint(strings.TrimSuffix(said, " days"), 10, 64)
		if err != nil || gap < n*day || gap >= (n+1)*day || gap < 2*day || gap >= 2*365*day {
			t.Fatalf("message %q for a gap of %d s", msg, gap)
		}
	default:
		d, err := time.ParseDuration(said)
		if err != nil || uint64(d/time.Second) != gap || d%time.Second != 0 || gap >= 2*day {
			t.Fatalf("message %q for a gap of %d s", msg, gap)
		}
	}
}

// A timestamp as far out as the header's twelve digits allow gives a true
// gap in the message, not time.Duration's saturated 2562047h47m16s.
func TestSkewMessageForAnyTimestamp(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		header string
		says   string
	}{
		{"999999999999", "31652 years"},
		{"0", "56 years"},
		{strconv.FormatInt(now.Unix()-301, 10), "5m1s"},
		{strconv.FormatInt(now.Unix()+36*3600, 10), "36h0m0s"},
		{strconv.FormatInt(now.Unix()-400*86400, 10), "400 days"},
	}
	for _, c := range cases {
		v := loadVectors(t)[0]
		h := headersOf(v)
		h.Set(HeaderTimestamp, c.header)
		ph, err := ParseCalloutHeaders(h)
		if err != nil {
			t.Fatalf("%s: %v", c.header, err)
		}
		err = CheckSkew(ph.Time, now)
		e := qwoty.AsError(err)
		want := "the request timestamp is " + c.says + " away from the server's clock (limit 5m0s)"
		if e.Code != qwoty.CodeTimestampOutOfRange || e.Message != want {
			t.Errorf("timestamp %s: %s %q; want timestamp_out_of_range %q", c.header, e.Code, e.Message, want)
		}
	}
}

// For any timestamp the header accepts and any clock, the window is applied
// exactly and the message gives the true gap.
func FuzzCheckSkew(f *testing.F) {
	for _, s := range []int64{0, 1, 299, 300, 301, 999999999999, 1763805600, 86400 * 2, 86400*730 - 1} {
		f.Add(s, int64(1763805600))
	}
	f.Add(int64(999999999999), int64(-62135596800)) // year 1 on our side
	f.Fuzz(func(t *testing.T, secs, nowSecs int64) {
		secs = secs % 1_000_000_000_000 // what twelve digits allow
		if secs < 0 {
			secs = -secs
		}
		nowSecs = nowSecs % 1_000_000_000_000
		ts, now := time.Unix(secs, 0), time.Unix(nowSecs, 0)
		var gap uint64
		if secs > nowSecs {
			gap = uint64(secs - nowSecs)
		} else {
			gap = uint64(nowSecs - secs)
		}
		err := CheckSkew(ts, now)
		if gap <= uint64(MaxSkew/time.Second) {
			if err != nil {
				t.Fatalf("gap %d s refused: %v", gap, err)
			}
			return
		}
		if qwoty.ErrorCode(err) != qwoty.CodeTimestampOutOfRange {
			t.Fatalf("gap %d s: %v; want timestamp_out_of_range", gap, err)
		}
		checkGapSaid(t, qwoty.AsError(err).Message, gap)
	})
}
