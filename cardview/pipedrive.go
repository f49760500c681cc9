package cardview

import (
	"context"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
)

// Pipedrive is the Verifier of Pipedrive's app extensions: the JSON panel's
// request and the custom UI panel's iframe URL both carry an HS256 JWT
// signed with the panel's JWT secret (or, without one, the app's client
// secret). Identity (user, company) comes from the verified claims only;
// the deal comes from the query, as Pipedrive sends it unsigned.
type Pipedrive struct {
	// Secrets are pipedrive.PanelSecrets(jwtSecret, clientSecret).
	Secrets [][]byte
}

// Provider names Pipedrive.
func (Pipedrive) Provider() qwoty.Provider { return qwoty.ProviderPipedrive }

// Verify checks the token and finds the company's connection. Pipedrive's
// tokens carry no id of their own, and the same token may come back for
// each load of a panel within its life, so a Pipedrive request is not
// single-use: its replay window is the token's own expiry (minutes), and a
// replay shows only what the token's user may see anyway.
func (p Pipedrive) Verify(ctx context.Context, conns ConnectionLookup, req SignedRequest, now time.Time) (*EmbedContext, string, error) {
	q, err := pipedrive.ParseExtensionQuery(req.Query)
	if err != nil {
		return nil, "", err
	}
	claims, err := pipedrive.VerifyPanelToken(q.Token, p.Secrets, now)
	if err != nil {
		return nil, "", err
	}
	conn, err := accountConnection(ctx, conns, qwoty.ProviderPipedrive, claims.CompanyKey())
	if err != nil {
		return nil, "", err
	}
	return &EmbedContext{
		Provider: qwoty.ProviderPipedrive, ConnectionID: conn.ID, WorkspaceID: conn.WorkspaceID, AccountID: conn.ExternalID,
		User:   User{ID: claims.UserKey()},
		Record: Record{Type: "deal", ID: strconv.FormatInt(q.DealID, 10)},
	}, "pd:" + NewNonce(), nil
}
