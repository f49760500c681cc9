package salesforce

import (
	"fmt"
	"net/url"
	"strings"
)

// MyDomain is an org's My Domain: its name and the kind of org, which
// together give the hosts Salesforce serves the org from (enhanced domains).
type MyDomain struct {
	// Name is the My Domain name; a sandbox's includes "--sandboxname".
	Name string
	// Kind is "" for production, or sandbox, develop, scratch, demo, patch,
	// trailblaze: the word Salesforce puts between the name and the domain.
	Kind string
}

var kinds = map[string]bool{"sandbox": true, "develop": true, "scratch": true, "demo": true, "patch": true, "trailblaze": true}

// ParseMyDomain reads a My Domain as an admin may give it: a bare name
// ("acme"), a name with its kind ("acme.develop"), or any of the org's hosts
// or URLs ("https://acme--uat.sandbox.my.salesforce.com"). sandbox forces the
// sandbox kind for a bare name.
func ParseMyDomain(s string, sandbox bool) (MyDomain, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if strings.Contains(in, "://") {
		u, err := url.Parse(in)
		if err != nil || u.Host == "" {
			return MyDomain{}, fmt.Errorf("my domain %q is not a URL or a name", s)
		}
		in = u.Hostname()
	}
	for _, suffix := range []string{".my.salesforce.com", ".lightning.force.com", ".my.site.com"} {
		in = strings.TrimSuffix(in, suffix)
	}
	name, kind, _ := strings.Cut(in, ".")
	if kind != "" && !kinds[kind] {
		return MyDomain{}, fmt.Errorf("my domain %q: %q is not a Salesforce org kind (sandbox, develop, scratch, demo, patch, trailblaze)", s, kind)
	}
	// Enhanced domains put "--" only between a My Domain and a sandbox name,
	// so "acme--uat" is a sandbox even when the flag was forgotten; taking it
	// for production would give frame origins the org never uses.
	if kind == "" && strings.Contains(name, "--") {
		kind = "sandbox"
	}
	if sandbox {
		if kind != "" && kind != "sandbox" {
			return MyDomain{}, fmt.Errorf("my domain %q is a %s org, not a sandbox", s, kind)
		}
		kind = "sandbox"
	}
	if kind == "sandbox" && !strings.Contains(name, "--") {
		return MyDomain{}, fmt.Errorf("sandbox my domain %q must look like mydomain--sandboxname", s)
	}
	if name == "" || len(name) > 80 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return MyDomain{}, fmt.Errorf("my domain %q is not a valid name", s)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return MyDomain{}, fmt.Errorf("my domain %q may hold only letters, digits and hyphens", s)
		}
	}
	return MyDomain{Name: name, Kind: kind}, nil
}

// String is the stored form: "acme", "acme--uat.sandbox", "acme.develop".
func (d MyDomain) String() string {
	if d.Kind == "" {
		return d.Name
	}
	return d.Name + "." + d.Kind
}

// Sandbox reports whether the domain is a sandbox's.
func (d MyDomain) Sandbox() bool { return d.Kind == "sandbox" }

func (d MyDomain) host(domain string) string {
	if d.Kind == "" {
		return d.Name + "." + domain
	}
	return d.Name + "." + d.Kind + "." + domain
}

// Origins returns the origins whose pages may frame our card for this org:
// the Lightning Experience host, where the LWC runs, and the My Domain host.
func (d MyDomain) Origins() []string {
	return []string{"https://" + d.host("lightning.force.com"), "https://" + d.host("my.salesforce.com")}
}

// InstanceURL is the org's API base URL.
func (d MyDomain) InstanceURL() string { return "https://" + d.host("my.salesforce.com") }
