package cardview

import (
	"context"
	"errors"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// Verifier authenticates one CRM's signed request. It is the only part of
// the card flow that differs per CRM: adding a CRM means one Verifier (with
// its OAuth app and its emulator); claiming the request, listing the quotes,
// issuing the embed token and rendering the card are shared (Service.Card).
type Verifier interface {
	// Provider names the CRM.
	Provider() qwoty.Provider
	// Verify checks the request's signature against the CRM account's
	// connection (looked up through conns) and returns who is looking at
	// which record, and a value unique to this request that the service
	// claims once, so that a replayed request is refused.
	Verify(ctx context.Context, conns ConnectionLookup, req SignedRequest, now time.Time) (ec *EmbedContext, once string, err error)
}

// Salesforce is the Verifier of the package's v1 signed callout.
type Salesforce struct{}

// Provider names Salesforce.
func (Salesforce) Provider() qwoty.Provider { return qwoty.ProviderSalesforce }

// Verify checks a v1 callout (VerifySalesforce); its nonce is what is claimed.
func (Salesforce) Verify(ctx context.Context, conns ConnectionLookup, req SignedRequest, now time.Time) (*EmbedContext, string, error) {
	ec, h, err := VerifySalesforce(ctx, conns, req, now)
	if err != nil {
		return nil, "", err
	}
	return ec, h.Nonce, nil
}

// accountConnection finds the active connection of a CRM account for a
// verified request: unknown is org_not_connected, disconnected is
// org_disconnected (the codes every CRM's card understands).
func accountConnection(ctx context.Context, conns ConnectionLookup, p qwoty.Provider, accountID string) (*qwoty.Connection, error) {
	conn, err := conns.ConnectionByExternalID(ctx, p, accountID)
	if errors.Is(err, qwoty.ErrNotFound) {
		return nil, accountNotConnected(p, accountID)
	}
	if err != nil {
		return nil, err
	}
	if conn.Status == qwoty.ConnectionDisconnected {
		return nil, accountDisconnected(p, accountID)
	}
	return conn, nil
}

func accountNotConnected(p qwoty.Provider, accountID string) error {
	return qwoty.Errorf(qwoty.CodeOrgNotConnected,
		"Connect this account from the Qwoty admin console (Settings → Integrations).",
		"%s account %s is not connected to Qwoty", p.Title(), accountID)
}

func accountDisconnected(p qwoty.Provider, accountID string) error {
	return qwoty.Errorf(qwoty.CodeOrgDisconnected,
		"An admin disconnected this account; reconnect it from the Qwoty admin console (no data was lost).",
		"%s account %s was disconnected from Qwoty", p.Title(), accountID)
}

// Card answers a CRM's signed card request, whichever CRM: verify, claim
// the request once, upsert the customer, list the record's quotes, and
// issue the embed URL.
func (s *Service) Card(ctx context.Context, v Verifier, req SignedRequest) (*Answer, error) {
	now := s.now()
	ec, once, err := v.Verify(ctx, s.conns, req, now)
	if err != nil {
		return nil, err
	}
	return s.answer(ctx, ec, once, now)
}
