package hubspot

import "github.com/qwoty/companion/crm"

// Pull is the CRM's inbound sync: none yet.
func (a *Adapter) Pull() crm.Puller { return nil }
