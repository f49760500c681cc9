// Package cardview is the signed-embed core shared by every CRM: verify the
// CRM's signed request, resolve the connection, build the card, issue the
// embed token, and say which origins may frame it. It knows net/http types
// but no HTTP framework; the server package adapts it to routes.
package cardview
