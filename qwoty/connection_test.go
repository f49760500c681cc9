package qwoty

import "testing"

func TestProviderTitleIsTheOneItsPackageGave(t *testing.T) {
	p := Provider("acmecrm")
	if got := p.Title(); got != "acmecrm" {
		t.Errorf("unnamed provider's title = %q, want its name", got)
	}
	NameProvider(p, "Acme CRM")
	if got := p.Title(); got != "Acme CRM" {
		t.Errorf("named provider's title = %q, want %q", got, "Acme CRM")
	}
}
