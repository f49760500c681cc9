package qwoty

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. Codes are part of the public
// contract (docs/troubleshooting.md): never rename one, only add.
type Code string

// Error codes. The catalogue (catalogue_texts.go) gives each its HTTP
// status (HTTPStatus) and its texts, from which the troubleshooting table is
// generated; a new code without an entry fails the catalogue's test.
const (
	CodeBadRequest          Code = "bad_request"
	CodePayloadTooLarge     Code = "payload_too_large"
	CodeSignatureMissing    Code = "signature_missing"
	CodeSignatureInvalid    Code = "signature_invalid"
	CodeTimestampOutOfRange Code = "timestamp_out_of_range"
	CodeReplayedRequest     Code = "replayed_request"
	CodeOrgNotConnected     Code = "org_not_connected"
	CodeOrgDisconnected     Code = "org_disconnected"
	CodeTokenMissing        Code = "token_missing"
	CodeTokenInvalid        Code = "token_invalid"
	CodeTokenExpired        Code = "token_expired"
	CodeNotFound            Code = "not_found"
	CodeValidation          Code = "validation_failed"
	CodeInvalidTransition   Code = "invalid_status_transition"
	CodeQuoteLocked         Code = "quote_locked"
	CodeVersionConflict     Code = "version_conflict"
	CodeMethodNotAllowed    Code = "method_not_allowed"
	CodeUnauthenticated     Code = "unauthenticated"
	CodeForbidden           Code = "forbidden"
	CodeCSRF                Code = "csrf_failed"
	CodeWorkspaceConnected  Code = "workspace_has_connection"
	CodeOAuthFailed         Code = "oauth_failed"
	CodeCRMUnavailable      Code = "crm_unavailable"
	CodeInternal            Code = "internal"
	CodeUnavailable         Code = "unavailable"
	// CodeNotConfigured: this server lacks the settings a request needs
	// (a CRM app's credentials). Unlike unavailable, waiting does not help.
	CodeNotConfigured Code = "not_configured"
	CodeRateLimited   Code = "rate_limited"

	// A connection's health, as a check of it (connect, test, rotate, a
	// sync call) records it on the connection (last_error_code). The
	// console shows them; they are never an HTTP answer of their own.
	CodePackageNotInstalled Code = "package_not_installed"
	CodeInsufficientAccess  Code = "insufficient_access"
	CodeRefreshRejected     Code = "refresh_rejected"
	CodeNoOAuthToken        Code = "no_oauth_token"
	CodeCRMUnreachable      Code = "crm_unreachable"
	CodeCRMError            Code = "crm_error"
	CodeTestFailed          Code = "test_failed"

	// Sync's outcomes, as a record's sync state and the sync log keep them
	// and the card, the console and alerts show them.
	CodeSyncReconnect Code = "sync_reconnect"
	CodeSyncRejected  Code = "sync_rejected"
	CodeSyncFailed    Code = "sync_failed"

	// The console's sync log and team (issue 14).
	CodeFilterInvalid     Code = "filter_invalid"
	CodeExportTooLarge    Code = "export_too_large"
	CodeInvitationInvalid Code = "invitation_invalid"
	CodeAlreadyMember     Code = "already_member"

	// The public REST API's keys (issue 15, docs/api.md).
	CodeAPIKeyInvalid Code = "api_key_invalid"
	CodeAPIKeyExpired Code = "api_key_expired"
	CodeAPIKeyRevoked Code = "api_key_revoked"
	CodeScopeMissing  Code = "scope_missing"

	// Webhooks (issue 15, docs/api.md).
	CodeDeliveryPending Code = "webhook_delivery_pending"
	// The public REST API's idempotent writes (docs/api.md, Idempotency).
	CodeIdempotencyKeyReused     Code = "idempotency_key_reused"
	CodeIdempotencyKeyInProgress Code = "idempotency_key_in_progress"

	// Sending a quote and the customer's page (issue 16, docs/customer-page.md).
	CodeQuoteEmpty       Code = "quote_empty"
	CodeRecipientInvalid Code = "recipient_invalid"
	CodeLinkExpired      Code = "link_expired"
	CodeQuoteChanged     Code = "quote_changed"
	CodeLogoInvalid      Code = "logo_invalid"

	// Orders (issue 18, docs/orders.md).
	CodeOrderReadOnly Code = "order_read_only"

	// Deals created from Qwoty (issue 18, docs/deals.md).
	CodeQuoteNoRecord    Code = "quote_no_record"
	CodeRecordOrCustomer Code = "record_or_customer"
	CodeQuoteOnRecord    Code = "quote_on_record"
)

// Error is an application error a user can meet: a stable code, a message
// that says what happened, and a hint that says what to do about it.
type Error struct {
	Code    Code
	Message string
	Hint    string
	// Field is the input the error is about, by its form name ("sku",
	// "unit_price"), when it is about one: the card shows the message
	// beside that field.
	Field string
	// Err is the underlying cause, logged but never shown to the caller.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message and a hint.
func Errorf(code Code, hint, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none: an error we did not classify is our fault.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err's *Error, or a generic internal error wrapping it.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	internal := byCode[CodeInternal]
	return &Error{Code: CodeInternal, Message: internal.Message, Hint: internal.Hint, Err: err}
}

// ErrNotFound is the sentinel the store returns for a missing row; callers
// wrap it into an *Error with the context they have.
var ErrNotFound = errors.New("not found")
