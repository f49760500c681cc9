package salesforce

import (
	"context"
	"fmt"
	"net/http"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Identity is who a token belongs to, from the identity URL.
type Identity struct {
	OrgID       string
	UserID      string
	Username    string
	Email       string
	DisplayName string
}

// Identity reads the token's identity URL. The identity service refuses an
// expired token with a 403 "Bad_OAuth_Token", not the REST API's 401; both
// match crm.ErrUnauthorized.
func (a *OAuthApp) Identity(ctx context.Context, token *Token) (*Identity, error) {
	if _, _, err := parseIdentityURL(token.IdentityURL); err != nil {
		return nil, fmt.Errorf("salesforce: identity: %w", err)
	}
	var v struct {
		OrganizationID string `json:"organization_id"`
		UserID         string `json:"user_id"`
		Username       string `json:"username"`
		Email          string `json:"email"`
		DisplayName    string `json:"display_name"`
	}
	err := crm.Call(ctx, crm.Request{Provider: qwoty.ProviderSalesforce, Method: http.MethodGet, Base: token.IdentityURL,
		Token: token.AccessToken, Timeout: DefaultTimeout, HTTP: a.HTTP, Refused: apiErrors.Answer}, &v)
	if err != nil {
		return nil, fmt.Errorf("salesforce: identity %s: %w", token.IdentityURL, err)
	}
	id := &Identity{Username: v.Username, Email: v.Email, DisplayName: v.DisplayName}
	if id.OrgID, err = NormalizeOrgID(v.OrganizationID); err != nil {
		return nil, fmt.Errorf("salesforce: identity %s: %w", token.IdentityURL, err)
	}
	if id.UserID, err = NormalizeID(v.UserID); err != nil {
		return nil, fmt.Errorf("salesforce: identity %s: %w", token.IdentityURL, err)
	}
	if token.OrgID != "" && (id.OrgID != token.OrgID || id.UserID != token.UserID) {
		return nil, fmt.Errorf("salesforce: identity %s names %s/%s, not the token's %s/%s",
			token.IdentityURL, id.OrgID, id.UserID, token.OrgID, token.UserID)
	}
	return id, nil
}
