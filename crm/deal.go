package crm

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// DealMaker makes, in a CRM, the deal of a quote made outside one (issue
// 18, docs/deals.md), on the customer's account: a Salesforce Opportunity
// on an Account, a HubSpot deal associated with a company, a Pipedrive
// deal on an organization. An Adapter whose CRM can implements it beside
// its Syncer, whose Buckets it spends.
//
// The deal job (package crmsync) calls it exactly once per quote: it
// finds the account (the customer's link, else FindAccount by the admin's
// match), else marks the row "account" (committed) and calls
// CreateAccount; it marks the row "deal" and calls CreateDeal. A run that
// finds the row in one of those states after a lost answer looks first
// (FindAccount by Ref, FindDeal) and adopts what an earlier run made, so
// a repeat makes no second account nor deal. Both creates carry Qwoty's
// reference for that (qwoty.AccountRef, qwoty.DealRef); a CRM that can
// upsert by it may make CreateX an upsert.
//
// Errors are classified as an OrderSyncer's.
type DealMaker interface {
	// DealsReady says whether conn may make deals and accounts: nil, or
	// an error coded sync_reconnect when it lacks a scope they need.
	DealsReady(conn *qwoty.Connection) error
	// FindAccount looks for an account: by m.Ref alone when m.Ref is set
	// (one Qwoty made), else by m.By (the name, exact but for case; or
	// the web domain). It returns the CRM's id, "" when none; when
	// several match, the oldest.
	FindAccount(ctx context.Context, s Session, b Budget, m AccountMatch) (string, error)
	// CreateAccount makes the account a and returns its id.
	CreateAccount(ctx context.Context, s Session, b Budget, a NewAccount) (string, error)
	// FindDeal returns the CRM's id of the deal carrying Qwoty's
	// reference ref, "" when none.
	FindDeal(ctx context.Context, s Session, b Budget, ref string) (string, error)
	// CreateDeal makes the deal d and returns its id.
	CreateDeal(ctx context.Context, s Session, b Budget, d NewDeal) (string, error)
}

// AccountMatch is what FindAccount looks for.
type AccountMatch struct {
	// Ref, when set, is the only thing looked for (qwoty.AccountRef).
	Ref string
	By  qwoty.AccountMatch
	// Name and Domain (qwoty.NormalizeDomain) are the customer's; a
	// match by domain with no Domain is a match by name.
	Name, Domain string
}

// NewAccount is an account to make for a customer.
type NewAccount struct {
	Ref    string // qwoty.AccountRef(customer)
	Name   string
	Domain string // "" when the customer has none
	Email  string
	Phone  string
	// The customer's address, each "" when unknown.
	Street, City, PostalCode, Region, Country string
}

// NewDeal is a deal to make for a quote.
type NewDeal struct {
	Ref string // qwoty.DealRef(quote)
	// Name is the quote's title (its number when it has none).
	Name string
	// AccountID is the account it is on, "" for a quote without customer.
	AccountID string
	Currency  string
	// Amount is the quote's total at the CRM's scale.
	Amount decimal.Decimal
	// CloseDate is the quote's expiry (or 30 days on), YYYY-MM-DD: the
	// CRMs that need one (Salesforce) get it.
	CloseDate string
	// Status is the quote's, for the stage the CRM gives the deal (the
	// connection's stage map, as a push does; "" for the CRM's default).
	Status qwoty.Status
	Stage  string
}

// Sync log objects of a deal's making: NewDealObject is its run's row
// (a push's rows name the CRM's own object, "Opportunity", "deal"), whose
// written list names AccountObject and DealObject.
const (
	NewDealObject = "new deal"
	AccountObject = "account"
	DealObject    = "deal"
)

// ClassifyDeal is ClassifyArchive, for a DealMaker's calls.
func ClassifyDeal(ctx context.Context, b Budget, err error) error {
	return ClassifyArchive(ctx, b, err)
}
