package server

import (
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/qwoty"
)

// consoleOAuthApps hands the console the three OAuth apps it still calls
// directly, taken from the registered adapters (nil when a CRM is not
// registered or not configured).
//
// TODO(console): the console moves to the adapters (OAuth, Configure,
// Test) and the session layer; this file and the fields it fills go then.
func consoleOAuthApps(r *crm.Registry) (sf *salesforce.OAuthApp, hs *hubspot.OAuthApp, pd *pipedrive.OAuthApp) {
	if a, ok := r.Get(qwoty.ProviderSalesforce); ok {
		if a, ok := a.(*salesforce.Adapter); ok {
			sf = a.App()
		}
	}
	if a, ok := r.Get(qwoty.ProviderHubSpot); ok {
		if a, ok := a.(*hubspot.Adapter); ok {
			hs = a.App()
		}
	}
	if a, ok := r.Get(qwoty.ProviderPipedrive); ok {
		if a, ok := a.(*pipedrive.Adapter); ok {
			pd = a.App()
		}
	}
	return sf, hs, pd
}
