package server

import (
	"testing"
	"time"
)

// The customer's pages take a burst of 30 requests per client address
// (IPv6 per /64), then one a second.
func TestPublicLimiter(t *testing.T) {
	clk := &clock{t: time.Now()}
	l := newPublicLimiter(clk.Now)
	for i := range publicBurst {
		if !l.allow("203.0.113.7") {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	if l.allow("203.0.113.7") {
		t.Fatal("a request past the burst was allowed")
	}
	if !l.allow("203.0.113.8") {
		t.Fatal("another address was refused")
	}
	for i := range publicBurst {
		if !l.allow("2001:db8::" + string(rune('a'+i%6))) {
			t.Fatalf("IPv6 request %d refused within the burst", i+1)
		}
	}
	if l.allow("2001:db8::ffff") {
		t.Fatal("another address of the same /64 was allowed past the burst")
	}
	clk.Add(time.Second)
	if !l.allow("203.0.113.7") || l.allow("203.0.113.7") {
		t.Fatal("after a second, one request (only) is allowed again")
	}
}
