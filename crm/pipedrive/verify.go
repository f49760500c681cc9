package pipedrive

import (
	"context"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Verify checks a request of Pipedrive's app extensions: the JSON panel's
// request and the custom UI panel's iframe URL both carry an HS256 JWT
// signed with the panel's JWT secret (or, without one, the app's client
// secret). Identity (user, company) comes from the verified claims only;
// the deal comes from the query, as Pipedrive sends it unsigned.
//
// Pipedrive's tokens carry no id of their own, and the same token may come
// back for each load of a panel within its life, so a Pipedrive request is
// not single-use and once is "": its replay window is the token's own
// expiry (minutes), and a replay shows only what the token's user may see
// anyway.
func (a *Adapter) Verify(ctx context.Context, conns crm.ConnectionLookup, req crm.SignedRequest, now time.Time) (*crm.EmbedContext, string, error) {
	if a.app == nil {
		return nil, "", qwoty.Errorf(qwoty.CodeNotConfigured,
			"Set PIPEDRIVE_CLIENT_ID and PIPEDRIVE_CLIENT_SECRET (and PIPEDRIVE_JWT_SECRET) on the Qwoty server.",
			"Pipedrive is not configured on this server")
	}
	q, err := ParseExtensionQuery(req.Query)
	if err != nil {
		return nil, "", err
	}
	claims, err := VerifyPanelToken(q.Token, a.secrets, now)
	if err != nil {
		return nil, "", err
	}
	conn, err := crm.AccountConnection(ctx, conns, qwoty.ProviderPipedrive, claims.CompanyKey())
	if err != nil {
		return nil, "", err
	}
	return &crm.EmbedContext{
		Provider: qwoty.ProviderPipedrive, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID, AccountID: conn.ExternalID,
		User:   crm.User{ID: claims.UserKey()},
		Record: crm.Record{Type: "deal", ID: strconv.FormatInt(q.DealID, 10)},
	}, "", nil
}
