package hubspot

import (
	"context"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Verify checks the app card's hubspot.fetch: HubSpot signs the method, the
// full URI (query included) and the timestamp with the app's client secret
// (signature v3). The portal and user come from the parameters HubSpot
// appends; the deal from the ones the card adds, all signed.
//
// HubSpot may retry a failed call with the same signature, so a request is
// not single-use and once is "": its replay window is the 5-minute
// timestamp window, and a replay shows only what its signed user may see
// anyway.
func (a *Adapter) Verify(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*crm.EmbedContext, string, error) {
	if a.app == nil {
		return nil, "", notConfigured()
	}
	if err := VerifyV3(a.app.ClientSecret, req.Method, req.URI, req.Body,
		req.Header.Get(HeaderSignatureV3), req.Header.Get(HeaderRequestTimestamp), now); err != nil {
		return nil, "", err
	}
	one := func(name string) (string, error) {
		vs := req.Query[name]
		switch {
		case len(vs) == 0 || vs[0] == "":
			return "", cardBadRequest("the %s parameter is missing", name)
		case len(vs) > 1:
			return "", cardBadRequest("the %s parameter is given more than once", name)
		}
		return vs[0], nil
	}
	portal, err := one(QueryPortalID)
	if err != nil {
		return nil, "", err
	}
	user, err := one(QueryUserID)
	if err != nil {
		return nil, "", err
	}
	deal, err := one(QueryAssociatedObjectID)
	if err != nil {
		return nil, "", err
	}
	typ, err := one(QueryAssociatedObjectType)
	if err != nil {
		return nil, "", err
	}
	if !strings.EqualFold(typ, "DEAL") {
		return nil, "", cardBadRequest("the card shows on deals, not %s", typ)
	}
	if !objectID(portal) || !objectID(user) || !objectID(deal) {
		return nil, "", cardBadRequest("portalId, userId and associatedObjectId must be numbers")
	}
	conn, err := crm.AccountConnection(ctx, conns, qwoty.ProviderHubSpot, portal)
	if err != nil {
		return nil, "", err
	}
	email := ""
	if vs := req.Query[QueryUserEmail]; len(vs) == 1 {
		email = crm.Clip(vs[0], 254)
	}
	return &crm.EmbedContext{
		Provider: qwoty.ProviderHubSpot, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID, AccountID: conn.ExternalID,
		User:   crm.User{ID: user, Email: email},
		Record: crm.Record{Type: "deal", ID: deal},
	}, "", nil
}

func cardBadRequest(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeBadRequest,
		"The Qwoty app card adds associatedObjectId and associatedObjectType=DEAL to its hubspot.fetch; HubSpot adds portalId and userId (docs/hubspot.md).",
		format, args...)
}

func notConfigured() error {
	return qwoty.Errorf(qwoty.CodeNotConfigured, "Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET on the Qwoty server.",
		"HubSpot is not configured on this server")
}
