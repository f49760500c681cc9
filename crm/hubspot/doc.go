// Package hubspot holds what the server knows of HubSpot itself: the v3
// request signature that authenticates the app card's hubspot.fetch calls,
// the OAuth client that installs the app in a portal, and the small CRM
// client the card needs (a deal with its company).
//
// Errors of the OAuth and CRM calls are crm.OAuthError and crm.APIError
// values, made by crm's shared call helper; they match crm's sentinels, and
// ErrMissingScopes, with errors.Is; signature failures are *qwoty.Error values with the contract's
// codes. Package hstest emulates HubSpot for the tests and the dev server.
package hubspot
