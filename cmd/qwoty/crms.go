package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/crms"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/playground"
)

// registry is the CRMs this server serves (crm/crms, the one list of them).
func registry(cfg *config.Config) *crm.Registry { return crms.Registry(cfg) }

// startDevEmulators starts, in development with the playground on, the
// emulator of each CRM that has no app configured and that the playground
// can drive, and points the configuration at it, so the whole console flow
// can be clicked through with no CRM account. Today that is Salesforce's.
func startDevEmulators(cfg *config.Config, stderr io.Writer) (stop func(), err error) {
	if !cfg.Dev() || cfg.Salesforce.Enabled() || cfg.PlaygroundPort <= 0 {
		return func() {}, nil
	}
	emu, err := startSalesforceEmulator(cfg)
	if err != nil {
		return nil, fmt.Errorf("the Salesforce emulator (set SALESFORCE_CLIENT_ID to use a real org): %w", err)
	}
	fmt.Fprintf(stderr, "  Salesforce emulator (no org needed to connect): %s\n", emu.URL)
	return func() { emu.Close() }, nil
}

// startSalesforceEmulator runs the Salesforce emulator on PLAYGROUND_PORT+1
// for development and points the configuration's Salesforce app at it.
func startSalesforceEmulator(cfg *config.Config) (*sftest.Server, error) {
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	app := sftest.App{ClientID: "qwoty-dev-emulator", ClientSecret: hex.EncodeToString(secret),
		CallbackURLs: []string{cfg.AppURL + salesforce.CallbackPath}}
	// The emulator's org is the playground's: connecting it in the console
	// takes over the connection the playground signs for, in the admin's
	// workspace, so what the console does is what the playground's card
	// meets. The admin logs in and allows access as with Salesforce.
	org := sftest.Org{ID: playground.DevOrgID, MyDomain: "qwoty-dev", Users: []sftest.User{
		{ID: sftest.DefaultAdminID, Username: "admin@qwoty-dev.example", Email: "admin@qwoty-dev.example", Name: "Ada Admin", Admin: true},
		{ID: sftest.DefaultRepID, Username: "rep@qwoty-dev.example", Email: "rep@qwoty-dev.example", Name: "Dev Rep"},
	}, Opportunities: []sftest.Opportunity{{ID: "006000000000001AAA", Name: "Acme - 200 licences"}}}
	// The playground's card is on that opportunity: quotes made there are
	// pushed to it.
	emu, err := sftest.Start(sftest.Options{App: app, Orgs: []sftest.Org{org}, ShowLogin: true,
		Addr: "127.0.0.1:" + strconv.Itoa(cfg.PlaygroundPort+1)})
	if err != nil {
		return nil, err
	}
	cfg.Salesforce = config.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret}
	cfg.SalesforceLoginURL = emu.URL
	return emu, nil
}
