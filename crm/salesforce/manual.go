package salesforce

import (
	"flag"
	"fmt"
	"strings"

	"github.com/qwoty/companion/crm"
)

var _ crm.ManualConnector = (*Adapter)(nil)

// AccountFlags are an org's id and My Domain (the card's frame origins and
// API host come from it).
func (a *Adapter) AccountFlags(fs *flag.FlagSet) func() (crm.ManualAccount, error) {
	orgID := fs.String("org-id", "", "Salesforce org id, 15 or 18 characters (required)")
	myDomain := fs.String("my-domain", "", "My Domain name, such as acme or acme--uat (required)")
	sandbox := fs.Bool("sandbox", false, "the org is a sandbox")
	return func() (crm.ManualAccount, error) {
		id, err := NormalizeOrgID(strings.TrimSpace(*orgID))
		if err != nil {
			return crm.ManualAccount{}, fmt.Errorf("--org-id: %v", err)
		}
		d, err := ParseMyDomain(*myDomain, *sandbox)
		if err != nil {
			return crm.ManualAccount{}, fmt.Errorf("--my-domain: %v", err)
		}
		return crm.ManualAccount{ExternalID: id, MyDomain: d.String(), Sandbox: d.Sandbox(), InstanceURL: d.InstanceURL()}, nil
	}
}
