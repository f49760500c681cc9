package hubspot

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Options are what the HubSpot adapter is built from: the app's settings.
type Options struct {
	// ClientID and ClientSecret are the app's ("" when this server has
	// none: HubSpot's card and console are then not available).
	ClientID     string
	ClientSecret string
	// RedirectURL is APP_URL followed by crm.CallbackPath.
	RedirectURL string
	// AuthURL and APIURL override HubSpot's hosts ("" for HubSpot's; the
	// tests and the dev server point them at the emulator).
	AuthURL string
	APIURL  string
	// HTTP makes every call to HubSpot (nil: http.DefaultClient).
	HTTP *http.Client
	// Now is the clock that dates token expiries and sync's waits (nil:
	// time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends, for sync's short waits on its budget
	// (nil: a timer). Tests move their clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// PullPage is the pull's search page size (0: HubSpot's maximum, 200);
	// tests make it small to page a few records.
	PullPage int
}

// AppOrigins are HubSpot's app hosts, one per data centre: HubSpot serves an
// account from the app host of its data centre, and the card's iframe modal
// is framed by that host.
var AppOrigins = []string{
	"https://app.hubspot.com", "https://app-eu1.hubspot.com", "https://app-na2.hubspot.com",
	"https://app-na3.hubspot.com", "https://app-ap1.hubspot.com",
}

// Adapter is HubSpot as the card, the console and sync see it: the app
// card's signed hubspot.fetch, the app's OAuth install, and its deals.
type Adapter struct {
	o   Options
	app *OAuthApp // nil when not configured
}

var (
	_ crm.Adapter     = (*Adapter)(nil)
	_ crm.CardFetcher = (*Adapter)(nil)
)

// Name is how people write the CRM's name; errors and pages outside this
// package read it through qwoty.Provider.Title.
const Name = "HubSpot"

func init() { qwoty.NameProvider(qwoty.ProviderHubSpot, Name) }

// NewAdapter builds the adapter.
func NewAdapter(o Options) *Adapter {
	a := &Adapter{o: o}
	if o.ClientID != "" {
		a.app = &OAuthApp{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
			AuthURL: o.AuthURL, APIURL: o.APIURL, HTTP: o.HTTP, Now: o.Now}
	}
	return a
}

// Info describes HubSpot for the console.
func (a *Adapter) Info() crm.Info {
	in := crm.Info{Provider: qwoty.ProviderHubSpot, Name: Name, Account: "portal", Configured: a.app != nil,
		RefreshMargin: RefreshMargin, Guide: crm.Guide{Next: "add the Qwoty card to the deal record in HubSpot."}}
	if !in.Configured {
		in.Missing = "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET"
	}
	return in
}

// FetchTimeout bounds the answer to the app card's hubspot.fetch: it stays
// under the 15 s HubSpot gives the call (crm.CardFetcher).
func (a *Adapter) FetchTimeout() time.Duration { return 10 * time.Second }

// FrameOrigins are HubSpot's app hosts, whichever the portal's data centre.
func (a *Adapter) FrameOrigins(*qwoty.Connection) []string { return AppOrigins }

// OAuth is the app's install flow, nil when not configured.
func (a *Adapter) OAuth() crm.OAuth {
	if a.app == nil {
		return nil
	}
	return oauthFlow{a}
}

// LookupRecord reads the deal the card is on (HubSpot sends its id only):
// its name, currency and primary company.
func (a *Adapter) LookupRecord(ctx context.Context, s crm.Session, rec crm.Record) (crm.Record, error) {
	var d *Deal
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		var err error
		d, err = a.client(token).Deal(ctx, rec.ID)
		return err
	})
	if err != nil {
		return rec, err
	}
	rec.Name, rec.Currency, rec.AccountID, rec.AccountName = d.Name, d.Currency, d.CompanyID, d.CompanyName
	return rec, nil
}

// Configure does nothing: a portal holds no settings of ours.
func (a *Adapter) Configure(context.Context, crm.Session, []byte, string) error { return nil }

// Unconfigure does nothing, as Configure.
func (a *Adapter) Unconfigure(context.Context, crm.Session) error { return nil }

// Test asks HubSpot about the connection's token (refreshed if it expired)
// and checks it acts in the connected portal.
func (a *Adapter) Test(ctx context.Context, s crm.Session, _ string) *crm.TestReport {
	return crm.TestAccount(ctx, s, a.Info(), func(ctx context.Context, tok string) (string, string, error) {
		info, err := a.app.TokenInfo(ctx, tok)
		if err != nil {
			return "", "", crm.Tag(err, ErrTokenInactive, crm.ErrUnauthorized)
		}
		return strconv.FormatInt(info.HubID, 10), fmt.Sprintf("hub_id %d", info.HubID), nil
	}, a.explain)
}

// explain explains why a call to HubSpot failed: nothing is HubSpot's own.
func (a *Adapter) explain(err error) crm.Problem {
	return crm.ExplainCall(a.Info(), cmp.Or(a.o.APIURL, APIBaseURL), err)
}

// sleep waits d on the adapter's clock.
func (a *Adapter) sleep(ctx context.Context, d time.Duration) error {
	if a.o.Sleep != nil {
		return a.o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// now is the adapter's clock.
func (a *Adapter) now() time.Time {
	if a.o.Now != nil {
		return a.o.Now()
	}
	return time.Now()
}

func (a *Adapter) client(token string) *Client {
	return &Client{BaseURL: a.o.APIURL, AccessToken: token, HTTP: a.o.HTTP}
}

// oauthFlow is the app's install flow: authorization code, no PKCE (HubSpot
// documents none), the portal named by the token's metadata.
type oauthFlow struct{ a *Adapter }

// Begin has nothing to keep: one host, no verifier.
func (f oauthFlow) Begin(url.Values) (crm.Begin, error) { return crm.Begin{}, nil }

func (f oauthFlow) AuthURL(_ crm.Begin, state string) (string, error) {
	return f.a.app.AuthCodeURL(state)
}

// FormHosts is the app host the install page is on.
func (f oauthFlow) FormHosts() []string {
	return crm.Origins(cmp.Or(f.a.o.AuthURL, AppBaseURL))
}

func (f oauthFlow) CallbackError(q url.Values) error { return CallbackError(q) }

// Exchange keys the connection by the portal the token acts in, as
// HubSpot's token metadata states it, and keeps the scopes the metadata
// says were granted (sync's Ready reads them).
func (f oauthFlow) Exchange(ctx context.Context, _ crm.Begin, code string) (*crm.Grant, error) {
	tok, err := f.a.app.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	info, err := f.a.app.TokenInfo(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	// The introspection's scopes are authoritative; an answer without them
	// falls back to the token answer's, and then to none (nil: Ready asks
	// for a reconnection rather than guess).
	scopes := info.Scopes
	if len(scopes) == 0 {
		scopes = tok.Scopes
	}
	return &crm.Grant{Token: crm.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresAt: tok.ExpiresAt},
		ExternalID: strconv.FormatInt(info.HubID, 10), CRMUserID: info.User, Scopes: slices.Clone(scopes)}, nil
}

// Refresh gets a new access token; an uninstalled app's dead grant matches
// crm.ErrInvalidGrant.
func (f oauthFlow) Refresh(ctx context.Context, _, refreshToken string) (*crm.Token, error) {
	t, err := f.a.app.Refresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return &crm.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.ExpiresAt}, nil
}

// Revoke does nothing: disconnecting keeps the app installed in the portal
// (an admin uninstalls it in HubSpot).
func (f oauthFlow) Revoke(context.Context, string, string) error { return nil }
