// Package salesforce holds what the server knows of Salesforce itself: record
// and org id rules, My Domain hosts, and the OAuth and REST clients.
//
// The OAuth client (OAuthApp: the web server flow with PKCE, refresh,
// revocation, identity) and the REST client (Client: the package's Apex REST
// config and ping resources) are here too; their errors match the package's
// sentinels with errors.Is. Package sftest emulates Salesforce for their
// tests and for the dev server.
package salesforce
