//go:build browser

package e2e

import (
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// crms registers the three CRMs' adapters from cfg, as `qwoty serve` does.
func crms(cfg *config.Config) *crm.Registry {
	return crm.MustRegistry(
		salesforce.NewAdapter(salesforce.Options{ClientID: cfg.Salesforce.ClientID, ClientSecret: cfg.Salesforce.ClientSecret,
			RedirectURL: cfg.AppURL + salesforce.CallbackPath, LoginURL: cfg.SalesforceLoginURL, PackageVersionID: cfg.SalesforcePackageVersionID}),
		hubspot.NewAdapter(hubspot.Options{ClientID: cfg.HubSpot.ClientID, ClientSecret: cfg.HubSpot.ClientSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderHubSpot)}),
		pipedrive.NewAdapter(pipedrive.Options{ClientID: cfg.Pipedrive.ClientID, ClientSecret: cfg.Pipedrive.ClientSecret, JWTSecret: cfg.PipedriveJWTSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderPipedrive)}),
	)
}
