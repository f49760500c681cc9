// Package pipedrive holds what the server knows of Pipedrive itself: the
// app extension tokens (JWTs) that JSON panels and custom UI extensions carry,
// the JSON panel's request and answer shapes, and the OAuth and REST clients.
//
// Everything here is written from Pipedrive's developer documentation; where
// the documentation is silent the choice is marked "assumed" next to the
// code. Errors of the OAuth and REST clients are crm.OAuthError and
// crm.APIError values that match crm's sentinels with errors.Is; errors of token verification are *qwoty.Error values with
// the codes of the signed-request contract (signature_missing,
// signature_invalid, timestamp_out_of_range). Package pdtest emulates
// Pipedrive for their tests and for the dev server.
package pipedrive
