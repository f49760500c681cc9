package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// The HubSpot app the load's card calls come from: its client secret signs
// them (and the adapter verifies with it), its portal is the connection's
// account, its user the rep who opens the deals.
const (
	hubspotLoadSecret = "qwoty-load-hubspot-client-secret"
	hubspotLoadPortal = "62515"
	hubspotLoadUser   = "4242"
	hubspotLoadApp    = "1001"
)

// hubspotCard adds the load's HubSpot portal to the database (in a workspace
// of its own: a workspace has one active connection), gives n deals
// of it quotes, and returns the call HubSpot makes for the app card on those
// deals: GET /api/crm/hubspot/card with the record parameters the card adds
// and the identity HubSpot appends, signed with signature v3 at the time of
// sending. Such a call is not single-use (HubSpot may retry it), so it
// claims no nonce: what the load measures against Salesforce's callout is a
// card path without the nonce write.
func hubspotCard(ctx context.Context, db *store.DB, n int) (*target, error) {
	conn, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: "Load HubSpot", Provider: qwoty.ProviderHubSpot, ExternalID: hubspotLoadPortal})
	if err != nil {
		return nil, err
	}
	queries := make([]string, 0, n)
	for i := range n {
		deal := strconv.Itoa(10000 + i)
		if err := seedQuotes(ctx, db, conn, deal); err != nil {
			return nil, err
		}
		queries = append(queries, strings.Join([]string{
			hubspot.QueryAssociatedObjectID + "=" + deal,
			hubspot.QueryAssociatedObjectType + "=DEAL",
			hubspot.QueryUserID + "=" + hubspotLoadUser,
			hubspot.QueryPortalID + "=" + hubspotLoadPortal,
			hubspot.QueryUserEmail + "=" + url.QueryEscape("rep@acme.com"),
			hubspot.QueryAppID + "=" + hubspotLoadApp,
		}, "&"))
	}
	return &target{method: http.MethodGet, path: hubspot.CardPath, request: func(base string, i int) *http.Request {
		uri := base + hubspot.CardPath + "?" + queries[i%len(queries)]
		req, _ := http.NewRequest(http.MethodGet, uri, nil)
		now := time.Now()
		req.Header.Set(hubspot.HeaderSignatureV3, hubspot.SignV3(hubspotLoadSecret, http.MethodGet, uri, nil, now))
		req.Header.Set(hubspot.HeaderRequestTimestamp, strconv.FormatInt(now.UnixMilli(), 10))
		return req
	}}, nil
}
