package pipedrive

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/qwoty/companion/qwoty"
)

// ExtensionQuery is the query Pipedrive adds to a JSON panel's request or a
// custom UI extension's iframe URL (see the parameter table in panel.go).
// Only Token is signed; UserID and CompanyID are what the query claims,
// for logs: identity comes from VerifyPanelToken's claims.
type ExtensionQuery struct {
	Resource string
	View     string
	// DealID is the one entity id of selectedIds (detail views send one).
	DealID int64
	// IsShared: the user has not installed the app (JSON panels only).
	IsShared bool
	Token    string
	// RuntimeID is the custom UI extension's id for the SDK ("" for a
	// JSON panel).
	RuntimeID string
	// UserID and CompanyID as the unsigned query says; "" when absent.
	UserID    string
	CompanyID string
}

// ParseExtensionQuery reads the query of a request Pipedrive sent for a
// deal's detail view. A missing token is left to VerifyPanelToken (it is
// signature_missing); anything else malformed is bad_request.
func ParseExtensionQuery(q url.Values) (*ExtensionQuery, error) {
	eq := &ExtensionQuery{
		Resource:  q.Get(ParamResource),
		View:      q.Get(ParamView),
		Token:     q.Get(ParamToken),
		RuntimeID: q.Get(ParamID),
		UserID:    q.Get(ParamUserID),
		CompanyID: q.Get(ParamCompanyID),
	}
	if eq.Resource != "deal" {
		return nil, qwoty.Errorf(qwoty.CodeBadRequest, "Add the Qwoty panel to the deal detail view only.",
			"resource is %q, want deal", eq.Resource)
	}
	ids := q.Get(ParamSelectedIDs)
	// A detail view selects one entity; list views (not ours) send several.
	if strings.Contains(ids, ",") {
		return nil, qwoty.Errorf(qwoty.CodeBadRequest, "Open the panel from one deal's detail view.",
			"selectedIds %q names several deals", ids)
	}
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || id <= 0 {
		return nil, qwoty.Errorf(qwoty.CodeBadRequest, "Open the panel from a deal's detail view.",
			"selectedIds %q is not a deal id", ids)
	}
	eq.DealID = id
	switch shared := q.Get(ParamIsShared); shared {
	case "", "false":
	case "true":
		eq.IsShared = true
	default:
		return nil, qwoty.Errorf(qwoty.CodeBadRequest, "", "isShared %q is neither true nor false", shared)
	}
	return eq, nil
}
