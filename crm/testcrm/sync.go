package testcrm

import "github.com/qwoty/companion/crm"

// Sync is the CRM's outbound sync: not written yet (issue 13).
func (a *Adapter) Sync() crm.Syncer { return nil }
