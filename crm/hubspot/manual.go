package hubspot

import (
	"errors"
	"flag"

	"github.com/qwoty/companion/crm"
)

var _ crm.ManualConnector = (*Adapter)(nil)

// AccountFlags are a portal's id.
func (a *Adapter) AccountFlags(fs *flag.FlagSet) func() (crm.ManualAccount, error) {
	portalID := fs.String("portal-id", "", "HubSpot portal (account) id (required)")
	return func() (crm.ManualAccount, error) {
		if !objectID(*portalID) {
			return crm.ManualAccount{}, errors.New("--portal-id: required, digits only")
		}
		return crm.ManualAccount{ExternalID: *portalID}, nil
	}
}
