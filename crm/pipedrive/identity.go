package pipedrive

import (
	"bytes"
	"context"
	"fmt"
)

// User is the user who owns an access token and the company the token is
// bound to (a user may belong to several companies; a token to one).
type User struct {
	ID    int64
	Name  string
	Email string
	// IsAdmin: the user is an admin of the company.
	IsAdmin bool
	// Locale ("en_US") and TimeZone ("Europe/Helsinki") for the card.
	Locale   string
	TimeZone string
	// CompanyID is the connection's external account id; CompanyDomain is
	// the subdomain of {domain}.pipedrive.com.
	CompanyID     int64
	CompanyName   string
	CompanyDomain string
}

// Me reads the token's user and company (GET /api/v1/users/me, which has no
// v2 successor). The documentation names user id + company id as the only
// unique key of an installation; never the email.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var v struct {
		ID            int64     `json:"id"`
		Name          string    `json:"name"`
		Email         string    `json:"email"`
		IsAdmin       flagValue `json:"is_admin"`
		Locale        string    `json:"locale"`
		TimeZone      string    `json:"timezone_name"`
		CompanyID     int64     `json:"company_id"`
		CompanyName   string    `json:"company_name"`
		CompanyDomain string    `json:"company_domain"`
	}
	if err := c.get(ctx, "/api/v1/users/me", &v); err != nil {
		return nil, fmt.Errorf("pipedrive: read the current user: %w", err)
	}
	if v.ID <= 0 || v.CompanyID <= 0 {
		return nil, fmt.Errorf("pipedrive: read the current user: the answer names no user id or company id")
	}
	return &User{ID: v.ID, Name: v.Name, Email: v.Email, IsAdmin: bool(v.IsAdmin), Locale: v.Locale,
		TimeZone: v.TimeZone, CompanyID: v.CompanyID, CompanyName: v.CompanyName, CompanyDomain: v.CompanyDomain}, nil
}

// flagValue reads a flag sent as a boolean or as 0/1: the documentation's
// example of /users/me has "is_admin": 1.
type flagValue bool

func (f *flagValue) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "1":
		*f = true
	case "false", "0", "null":
		*f = false
	default:
		return fmt.Errorf("flag %s is neither a boolean nor 0/1", b)
	}
	return nil
}
