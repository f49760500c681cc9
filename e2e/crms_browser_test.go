//go:build browser

package e2e

import (
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm"
	crmlist "github.com/qwoty/companion/crm/crms"
)

// crms registers the CRMs as `qwoty serve` does (crms.Registry).
func crms(cfg *config.Config) *crm.Registry { return crmlist.Registry(cfg) }
