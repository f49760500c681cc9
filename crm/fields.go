package crm

import (
	"context"

	"github.com/qwoty/companion/qwoty"
)

// Describer lists a CRM's fields for the admin's field mappings (the
// Salesforce describe, HubSpot's properties API, Pipedrive's deal and
// organization fields), translated into Qwoty's field types. An Adapter
// whose CRM supports mappings implements it; the console and the daily
// check of saved mappings (qwoty.Recheck) use it.
type Describer interface {
	// Fields lists the fields of object ("deal" or "customer": the CRM's
	// Opportunity / deal, Account / company / organization), taking from
	// b before each call.
	Fields(ctx context.Context, s Session, b Budget, object string) ([]qwoty.CRMField, error)
	// StandardField names the CRM field a standard mapping of a Qwoty
	// field (qwoty.QwotyFields' Key) uses, "" when the CRM has none.
	StandardField(key string) string
}
