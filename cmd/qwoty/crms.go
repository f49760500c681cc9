package main

import (
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// registry builds the adapter of every CRM this server serves from the
// configuration and registers them, in the order the console lists them:
// the one place that names the CRMs. A CRM whose app is not configured is
// registered all the same (its Info says what to set): a Salesforce
// connection made with `qwoty connection add` serves cards without one.
func registry(cfg *config.Config) *crm.Registry {
	return crm.MustRegistry(
		salesforce.NewAdapter(salesforce.Options{
			ClientID: cfg.Salesforce.ClientID, ClientSecret: cfg.Salesforce.ClientSecret,
			RedirectURL: cfg.AppURL + salesforce.CallbackPath, LoginURL: cfg.SalesforceLoginURL,
			PackageVersionID: cfg.SalesforcePackageVersionID,
		}),
		hubspot.NewAdapter(hubspot.Options{
			ClientID: cfg.HubSpot.ClientID, ClientSecret: cfg.HubSpot.ClientSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderHubSpot),
		}),
		pipedrive.NewAdapter(pipedrive.Options{
			ClientID: cfg.Pipedrive.ClientID, ClientSecret: cfg.Pipedrive.ClientSecret, JWTSecret: cfg.PipedriveJWTSecret,
			RedirectURL: cfg.AppURL + crm.CallbackPath(qwoty.ProviderPipedrive),
		}),
	)
}
