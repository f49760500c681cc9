// Package salesforce holds what the server knows of Salesforce itself: record
// and org id rules, My Domain hosts, and the OAuth and REST clients.
//
// The OAuth client (OAuthApp: the web server flow with PKCE, refresh,
// revocation, identity) and the REST client (Client: the package's Apex REST
// config and ping resources) are here too. Their errors are crm.OAuthError
// and crm.APIError values, made by crm's shared call helper; they match
// crm's sentinels, and this package's (ErrPackageNotInstalled,
// ErrAppNotInstalled, ...), with errors.Is. Package sftest emulates Salesforce for their
// tests and for the dev server.
package salesforce
