package cardview

import (
	"context"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/qwoty"
)

// HubSpot is the Verifier of the app card's hubspot.fetch: HubSpot signs the
// method, the full URI (query included) and the timestamp with the app's
// client secret (signature v3). The portal and user come from the parameters
// HubSpot appends; the deal from the ones the card adds, all signed.
type HubSpot struct {
	ClientSecret string
}

// Provider names HubSpot.
func (HubSpot) Provider() qwoty.Provider { return qwoty.ProviderHubSpot }

// Verify checks the signature and the query, and finds the portal's
// connection. HubSpot may retry a failed call with the same signature, so
// a request is not single-use: its replay window is the 5-minute timestamp
// window, and a replay shows only what its signed user may see anyway.
func (h HubSpot) Verify(ctx context.Context, conns ConnectionLookup, req SignedRequest, now time.Time) (*EmbedContext, string, error) {
	if err := hubspot.VerifyV3(h.ClientSecret, req.Method, req.URI, req.Body,
		req.Header.Get(hubspot.HeaderSignatureV3), req.Header.Get(hubspot.HeaderRequestTimestamp), now); err != nil {
		return nil, "", err
	}
	one := func(name string) (string, error) {
		vs := req.Query[name]
		switch {
		case len(vs) == 0 || vs[0] == "":
			return "", hubspotBadRequest("the %s parameter is missing", name)
		case len(vs) > 1:
			return "", hubspotBadRequest("the %s parameter is given more than once", name)
		}
		return vs[0], nil
	}
	portal, err := one(hubspot.QueryPortalID)
	if err != nil {
		return nil, "", err
	}
	user, err := one(hubspot.QueryUserID)
	if err != nil {
		return nil, "", err
	}
	deal, err := one(hubspot.QueryAssociatedObjectID)
	if err != nil {
		return nil, "", err
	}
	typ, err := one(hubspot.QueryAssociatedObjectType)
	if err != nil {
		return nil, "", err
	}
	if !strings.EqualFold(typ, "DEAL") {
		return nil, "", hubspotBadRequest("the card shows on deals, not %s", typ)
	}
	if !digits(portal) || !digits(user) || !digits(deal) {
		return nil, "", hubspotBadRequest("portalId, userId and associatedObjectId must be numbers")
	}
	conn, err := accountConnection(ctx, conns, qwoty.ProviderHubSpot, portal)
	if err != nil {
		return nil, "", err
	}
	email := ""
	if vs := req.Query[hubspot.QueryUserEmail]; len(vs) == 1 {
		email = clip(vs[0], 254)
	}
	return &EmbedContext{
		Provider: qwoty.ProviderHubSpot, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID, AccountID: conn.ExternalID,
		User:   User{ID: user, Email: email},
		Record: Record{Type: "deal", ID: deal},
	}, "hs:" + NewNonce(), nil
}

func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func hubspotBadRequest(format string, args ...any) error {
	return qwoty.Errorf(qwoty.CodeBadRequest,
		"The Qwoty app card adds associatedObjectId and associatedObjectType=DEAL to its hubspot.fetch; HubSpot adds portalId and userId (docs/hubspot.md).",
		format, args...)
}
