package pipedrive

import (
	"errors"
	"flag"
	"net/url"
	"strings"

	"github.com/qwoty/companion/crm"
)

var _ crm.ManualConnector = (*Adapter)(nil)

// AccountFlags are a company's id and its api_domain (the card's frame
// origin and API host).
func (a *Adapter) AccountFlags(fs *flag.FlagSet) func() (crm.ManualAccount, error) {
	companyID := fs.String("company-id", "", "Pipedrive company id (required)")
	apiDomain := fs.String("api-domain", "", "the company's api_domain, such as https://acme.pipedrive.com (required)")
	return func() (crm.ManualAccount, error) {
		if !digits(*companyID) {
			return crm.ManualAccount{}, errors.New("--company-id: required, digits only")
		}
		u, err := url.Parse(strings.TrimRight(*apiDomain, "/"))
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return crm.ManualAccount{}, errors.New("--api-domain: required, an https:// origin such as https://acme.pipedrive.com")
		}
		return crm.ManualAccount{ExternalID: *companyID, InstanceURL: u.Scheme + "://" + u.Host}, nil
	}
}

// digits: a company id is a decimal number.
func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
