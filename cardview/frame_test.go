package cardview

import (
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// Each CRM's adapter says which of its origins may frame the card, and the
// connection's extra origins come after them.
func TestFrameAncestors(t *testing.T) {
	s := NewService(nil, crm.MustRegistry(salesforce.NewAdapter(salesforce.Options{}), hubspot.NewAdapter(hubspot.Options{}),
		pipedrive.NewAdapter(pipedrive.Options{})), nil, "https://qwoty.example", time.Now)
	cases := []struct {
		c    qwoty.Connection
		want string
	}{
		{qwoty.Connection{Provider: qwoty.ProviderSalesforce, MyDomain: "acme"}, "frame-ancestors https://acme.lightning.force.com https://acme.my.salesforce.com"},
		{qwoty.Connection{Provider: qwoty.ProviderSalesforce, MyDomain: "acme--uat", Sandbox: true}, "frame-ancestors https://acme--uat.sandbox.lightning.force.com https://acme--uat.sandbox.my.salesforce.com"},
		{qwoty.Connection{Provider: qwoty.ProviderSalesforce, MyDomain: "acme", FrameOrigins: []string{"http://localhost:8081"}}, "frame-ancestors https://acme.lightning.force.com https://acme.my.salesforce.com http://localhost:8081"},
		{qwoty.Connection{Provider: qwoty.ProviderSalesforce}, "frame-ancestors 'none'"},
		{qwoty.Connection{Provider: qwoty.ProviderPipedrive, InstanceURL: "https://acme.pipedrive.com"}, "frame-ancestors https://acme.pipedrive.com"},
		{qwoty.Connection{Provider: qwoty.ProviderPipedrive, InstanceURL: "https://evil.example"}, "frame-ancestors 'none'"},
		{qwoty.Connection{Provider: qwoty.ProviderHubSpot}, "frame-ancestors " + strings.Join(hubspot.AppOrigins, " ")},
		{qwoty.Connection{Provider: qwoty.ProviderHubSpot, FrameOrigins: []string{"http://localhost:8081"}}, "frame-ancestors " + strings.Join(hubspot.AppOrigins, " ") + " http://localhost:8081"},
		// A CRM this server does not register: the connection's own origins only.
		{qwoty.Connection{Provider: "other", FrameOrigins: []string{"https://crm.example"}}, "frame-ancestors https://crm.example"},
	}
	for _, c := range cases {
		if got := FrameAncestorsDirective(s.FrameAncestors(&c.c)); got != c.want || strings.Contains(got, "*") {
			t.Errorf("%+v: %s, want %s", c.c, got, c.want)
		}
	}
}
