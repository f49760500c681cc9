// Package crms is the list of CRMs this server ships: it builds each one's
// adapter from the configuration and registers them, in the order the
// console lists them. `qwoty serve` and the tests that run the whole server
// register the CRMs through it, so there is one list to add a CRM to.
package crms

import (
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// Registry builds every shipped CRM's adapter from cfg and registers them.
// A CRM whose app is not configured is registered all the same (its Info
// says what to set): a Salesforce connection made with `qwoty connection
// add` serves cards without one. Tests pass replace, adapters bound to an
// emulator, which take the place of the same provider's.
func Registry(cfg *config.Config, replace ...crm.Adapter) *crm.Registry {
	adapters := []crm.Adapter{
		salesforce.NewAdapter(salesforce.Options{
			ClientID: cfg.Salesforce.ClientID, ClientSecret: cfg.Salesforce.ClientSecret,
			RedirectURL: cfg.AppURL + salesforce.CallbackPath, LoginURL: cfg.SalesforceLoginURL,
			PackageVersionID: cfg.SalesforcePackageVersionID,
		}),
		hubspot.NewAdapter(hubspot.Options{
			ClientID: cfg.HubSpot.ClientID, ClientSecret: cfg.HubSpot.ClientSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderHubSpot),
			AuthURL:     cfg.HubSpotAuthURL, APIURL: cfg.HubSpotAPIURL,
		}),
		pipedrive.NewAdapter(pipedrive.Options{
			ClientID: cfg.Pipedrive.ClientID, ClientSecret: cfg.Pipedrive.ClientSecret, JWTSecret: cfg.PipedriveJWTSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderPipedrive),
			OAuthURL:    cfg.PipedriveOAuthURL,
		}),
	}
	for _, r := range replace {
		p := r.Info().Provider
		for i, a := range adapters {
			if a.Info().Provider == p {
				adapters[i] = r
			}
		}
	}
	return crm.MustRegistry(adapters...)
}
