package pipedrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Client calls a company's REST API as the user who owns AccessToken.
type Client struct {
	// APIDomain is the token answer's api_domain (Token.APIDomain).
	APIDomain   string
	AccessToken string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout.
	HTTP *http.Client
}

// Deal is what the card needs of a Pipedrive deal.
type Deal struct {
	ID    int64
	Title string
	// Value is the deal's value as exact decimal text ("12000.5"); "0"
	// when the deal has none.
	Value    string
	Currency string
	// OrgID is 0 when the deal has no organization; OrgName is "" then,
	// and also when the organization cannot be read (see Deal).
	OrgID   int64
	OrgName string
	// Status is open, won, lost or deleted.
	Status string
}

// Deal reads a deal through API v2 (GET /api/v2/deals/{id}, the documented
// successor of v1's deal endpoint), then its organization's name
// (GET /api/v2/organizations/{id}), since v2 deals carry only the
// organization's id. The name is a nicety: when the app's scopes or the
// user's visibility hide the organization (403, 404) the deal is returned
// without it; any other failure fails the call.
func (c *Client) Deal(ctx context.Context, id int64) (*Deal, error) {
	var d struct {
		ID       int64       `json:"id"`
		Title    string      `json:"title"`
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
		OrgID    *int64      `json:"org_id"`
		Status   string      `json:"status"`
	}
	if err := c.get(ctx, "/api/v2/deals/"+strconv.FormatInt(id, 10), &d); err != nil {
		return nil, fmt.Errorf("pipedrive: read deal %d: %w", id, err)
	}
	deal := &Deal{ID: d.ID, Title: d.Title, Value: d.Value.String(), Currency: d.Currency, Status: d.Status}
	if deal.Value == "" {
		deal.Value = "0"
	}
	if d.OrgID == nil || *d.OrgID == 0 {
		return deal, nil
	}
	deal.OrgID = *d.OrgID
	var org struct {
		Name string `json:"name"`
	}
	err := c.get(ctx, "/api/v2/organizations/"+strconv.FormatInt(deal.OrgID, 10), &org)
	switch {
	case err == nil:
		deal.OrgName = org.Name
	case errors.Is(err, crm.ErrForbidden) || errors.Is(err, crm.ErrNotFound):
	default:
		return nil, fmt.Errorf("pipedrive: read organization %d of deal %d: %w", deal.OrgID, id, err)
	}
	return deal, nil
}

// get sends one GET and decodes the "data" of a success answer into out,
// or returns an *crm.APIError. Amounts are json.Number fields in out, so
// that they stay exact.
func (c *Client) get(ctx context.Context, path string, out any) error {
	var body json.RawMessage
	err := crm.Call(ctx, crm.Request{Provider: qwoty.ProviderPipedrive, Method: http.MethodGet, Base: c.APIDomain, Path: path,
		Token: c.AccessToken, Timeout: DefaultTimeout, HTTP: c.HTTP, Refused: apiErrors.Answer}, &body)
	if err != nil {
		return err
	}
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success || len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("the answer is not a Pipedrive success with data: %s", crm.Snippet(body))
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("the answer's data is not the expected JSON: %w", err)
	}
	return nil
}
