package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// HubSpot and Pipedrive send a card request with the record's id only; a
// new quote is prefilled from the record read through the CRM's API with
// the connection's token (refreshed ahead of expiry, one refresh across
// instances, and once more after a 401).

// dealDetails reads the deal a card is on, as the record a quote starts from.
func (s *Server) dealDetails(ctx context.Context, claims *cardview.Claims) (cardview.Record, error) {
	rec := claims.Record
	switch claims.Provider {
	case qwoty.ProviderHubSpot:
		if s.hsOAuth == nil {
			return rec, errors.New("HubSpot is not configured")
		}
		d, err := withCRMToken(ctx, s, claims.ConnectionID, hubspot.RefreshMargin, s.refreshHubSpot, crm.ErrUnauthorized,
			func(tok string) (*hubspot.Deal, error) {
				return (&hubspot.Client{BaseURL: orDefault(s.hsOAuth.APIURL, hubspot.APIBaseURL), AccessToken: tok, HTTP: s.hsOAuth.HTTP}).Deal(ctx, rec.ID)
			})
		if err != nil {
			return rec, err
		}
		rec.Name, rec.Currency, rec.AccountID, rec.AccountName = d.Name, d.Currency, d.CompanyID, d.CompanyName
	case qwoty.ProviderPipedrive:
		if s.pdOAuth == nil {
			return rec, errors.New("Pipedrive is not configured")
		}
		id, err := strconv.ParseInt(rec.ID, 10, 64)
		if err != nil {
			return rec, fmt.Errorf("deal id %q: %w", rec.ID, err)
		}
		conn, err := s.db.ConnectionByID(ctx, claims.ConnectionID)
		if err != nil {
			return rec, err
		}
		d, err := withCRMToken(ctx, s, claims.ConnectionID, pipedriveRefreshMargin, s.refreshPipedrive, crm.ErrUnauthorized,
			func(tok string) (*pipedrive.Deal, error) {
				return (&pipedrive.Client{APIDomain: conn.InstanceURL, AccessToken: tok, HTTP: s.pdOAuth.HTTP}).Deal(ctx, id)
			})
		if err != nil {
			return rec, err
		}
		rec.Name, rec.Currency = d.Title, d.Currency
		if d.OrgID != 0 {
			rec.AccountID, rec.AccountName = strconv.FormatInt(d.OrgID, 10), d.OrgName
		}
	}
	return rec, nil
}

// pipedriveRefreshMargin refreshes Pipedrive's hour-long tokens a little early.
const pipedriveRefreshMargin = 5 * time.Minute

// withCRMToken calls the CRM with a fresh token, and once more with a
// refreshed one if the CRM answers unauthorised.
func withCRMToken[T any](ctx context.Context, s *Server, connID string, margin time.Duration, refresh store.Refresher, unauthorized error, call func(tok string) (T, error)) (T, error) {
	var zero T
	tok, err := s.db.FreshAccessToken(ctx, connID, margin, refresh)
	if err != nil {
		return zero, err
	}
	v, err := call(tok)
	if !errors.Is(err, unauthorized) {
		return v, err
	}
	if tok, err = s.db.RefreshAccessToken(ctx, connID, tok, refresh); err != nil {
		return zero, err
	}
	return call(tok)
}

func (s *Server) refreshHubSpot(ctx context.Context, _, refreshToken string) (store.Refreshed, error) {
	t, err := s.hsOAuth.Refresh(ctx, refreshToken)
	if errors.Is(err, crm.ErrInvalidGrant) {
		return store.Refreshed{}, fmt.Errorf("%w: %w", store.ErrRefreshRejected, err)
	}
	if err != nil {
		return store.Refreshed{}, err
	}
	return store.Refreshed{Access: t.AccessToken, Refresh: t.RefreshToken, ExpiresAt: t.ExpiresAt}, nil
}

func (s *Server) refreshPipedrive(ctx context.Context, _, refreshToken string) (store.Refreshed, error) {
	t, err := s.pdOAuth.Refresh(ctx, refreshToken)
	if errors.Is(err, crm.ErrInvalidGrant) {
		return store.Refreshed{}, fmt.Errorf("%w: %w", store.ErrRefreshRejected, err)
	}
	if err != nil {
		return store.Refreshed{}, err
	}
	return store.Refreshed{Access: t.AccessToken, Refresh: t.RefreshToken, ExpiresAt: t.Expiry}, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
