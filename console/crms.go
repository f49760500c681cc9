package console

import (
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// crms are the CRMs the console lists, as their adapters describe them
// (crm.Info).
//
// TODO(adapters): until the adapters land, the console describes the three
// CRMs itself; then it lists crm.Registry.All() and this goes.
func (con *Console) crms() []crm.Info {
	sf := crm.Info{Provider: qwoty.ProviderSalesforce, Name: "Salesforce", Account: "org", Configured: con.sfOAuth != nil, Rotates: true,
		Guide: crm.Guide{Package: "the Qwoty package",
			InstallNote: `Choose "Install for All Users", then give yourself the Qwoty Admin permission set.`,
			NoInstall:   "The install links need SALESFORCE_PACKAGE_VERSION_ID on this server (docs/salesforce-package.md).",
			SignIn: []crm.Field{
				{Name: "env", Value: "production", Label: "Production or Developer Edition", Checked: true},
				{Name: "env", Value: "sandbox", Label: "Sandbox"},
				{Name: "env", Value: "mydomain", Label: "My Domain:"},
				{Name: "my_domain", Label: "My Domain", Placeholder: "acme.my.salesforce.com"},
			}}}
	if prod, sandbox := installLinks(con.cfg.SalesforcePackageVersionID); prod != "" {
		sf.Install = []crm.Link{{Name: "production", Label: "Install on a production org", URL: prod}, {Name: "sandbox", Label: "Install on a sandbox", URL: sandbox}}
	}
	hs := crm.Info{Provider: qwoty.ProviderHubSpot, Name: "HubSpot", Account: "portal", Configured: con.hsOAuth != nil,
		Guide: crm.Guide{Next: "add the Qwoty card to the deal record in HubSpot."}}
	pd := crm.Info{Provider: qwoty.ProviderPipedrive, Name: "Pipedrive", Account: "company", Configured: con.pdOAuth != nil,
		Guide: crm.Guide{Next: "add the Qwoty panels to the deal details in Pipedrive."}}
	out := []crm.Info{sf, hs, pd}
	for i := range out {
		if !out[i].Configured {
			out[i].Missing = map[qwoty.Provider]string{qwoty.ProviderSalesforce: "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET",
				qwoty.ProviderHubSpot: "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET", qwoty.ProviderPipedrive: "PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET"}[out[i].Provider]
		}
	}
	return out
}

// crmInfo is the CRM the route names.
func (con *Console) crmInfo(p qwoty.Provider) crm.Info {
	in, _ := con.crmNamed(string(p))
	return in
}

// crmNamed is the CRM named s.
func (con *Console) crmNamed(s string) (crm.Info, bool) {
	for _, in := range con.crms() {
		if string(in.Provider) == s {
			return in, true
		}
	}
	return crm.Info{}, false
}
