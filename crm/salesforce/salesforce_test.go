package salesforce

import (
	"strings"
	"testing"
)

func TestNormalizeID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"00D5g000004XyZa", "00D5g000004XyZaEAK"},
		{"00D5g000004XyZaEAK", "00D5g000004XyZaEAK"},
		{"00d5g000004xyzaeak", "00D5g000004XyZaEAK"}, // case restored from the checksum
		{"0065g00000AbCdE", "0065g00000AbCdEAAV"},
		{"000000000000000", "000000000000000AAA"},
		{"AAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAA555"},
	}
	for _, c := range cases {
		got, err := NormalizeID(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "00D5g000004XyZ", "00D5g000004XyZaEA", "00D5g000004XyZaEAB", "00D5g000004XyZ!", "00D5g000004XyZaEA9"} {
		if _, err := NormalizeID(bad); err == nil {
			t.Errorf("NormalizeID(%q) accepted a malformed id", bad)
		}
	}
	if _, err := NormalizeOrgID("0065g00000AbCdE"); err == nil {
		t.Error("NormalizeOrgID accepted an opportunity id")
	}
}

func TestMyDomainOrigins(t *testing.T) {
	cases := []struct {
		in      string
		sandbox bool
		stored  string
		origins string
	}{
		{"Acme", false, "acme", "https://acme.lightning.force.com https://acme.my.salesforce.com"},
		{"acme--uat", true, "acme--uat.sandbox", "https://acme--uat.sandbox.lightning.force.com https://acme--uat.sandbox.my.salesforce.com"},
		{"https://acme--uat.sandbox.my.salesforce.com/", false, "acme--uat.sandbox", "https://acme--uat.sandbox.lightning.force.com https://acme--uat.sandbox.my.salesforce.com"},
		{"acme.develop.lightning.force.com", false, "acme.develop", "https://acme.develop.lightning.force.com https://acme.develop.my.salesforce.com"},
		{"acme.develop", false, "acme.develop", "https://acme.develop.lightning.force.com https://acme.develop.my.salesforce.com"},
		{"acme--uat", false, "acme--uat.sandbox", "https://acme--uat.sandbox.lightning.force.com https://acme--uat.sandbox.my.salesforce.com"},
	}
	for _, c := range cases {
		d, err := ParseMyDomain(c.in, c.sandbox)
		if err != nil {
			t.Errorf("ParseMyDomain(%q): %v", c.in, err)
			continue
		}
		if d.String() != c.stored || strings.Join(d.Origins(), " ") != c.origins {
			t.Errorf("ParseMyDomain(%q) = %s %v; want %s %s", c.in, d, d.Origins(), c.stored, c.origins)
		}
		again, err := ParseMyDomain(d.String(), false)
		if err != nil || again != d {
			t.Errorf("stored form %q does not parse back: %v %v", d, again, err)
		}
	}
	for _, bad := range []struct {
		in      string
		sandbox bool
	}{{"", false}, {"acme.example", false}, {"acme", true}, {"ac me", false}, {"acme.develop", true}, {"-acme", false}, {"evil.com/x", false}, {"acme--uat.develop", true}} {
		if _, err := ParseMyDomain(bad.in, bad.sandbox); err == nil {
			t.Errorf("ParseMyDomain(%q, %v) accepted it", bad.in, bad.sandbox)
		}
	}
}
