package crm

import "flag"

// ManualAccount is a connection made without OAuth, by `qwoty connection
// add`: the CRM account and where it is served from. Such a connection
// serves cards; the console can neither test nor rotate it.
type ManualAccount struct {
	ExternalID  string
	MyDomain    string
	Sandbox     bool
	InstanceURL string
}

// ManualConnector is implemented by an adapter whose connections `qwoty
// connection add <provider>` can make from flags naming the account.
type ManualConnector interface {
	// AccountFlags defines the command's flags for this CRM on fs. The
	// function it returns reads them once fs is parsed, or says which flag
	// is wrong ("--org-id: ...").
	AccountFlags(fs *flag.FlagSet) func() (ManualAccount, error)
}
