// Package cardview is the signed-embed core shared by every CRM: have the
// CRM's adapter (crm.Adapter, found in the registry) verify its signed
// request, claim the request once, resolve the connection, build the card,
// issue the embed token, and say which origins may frame it (the adapter's
// and the connection's own). It knows net/http types but no HTTP framework
// and no CRM by name; the server package adapts it to routes.
package cardview
