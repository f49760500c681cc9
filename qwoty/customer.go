package qwoty

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Customer is the CRM account a quote is for (a Salesforce Account, a
// HubSpot company, a Pipedrive organization), as Qwoty keeps it for one
// connection: pulled from the CRM, or written through the API.
type Customer struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	CRMAccountID string
	Name         string
	Email        string
	Phone        string
	Street       string
	City         string
	PostalCode   string
	Region       string
	Country      string
	ExternalRef  string
	// Domain is the customer's web domain (qwoty.NormalizeDomain), what
	// the "domain" account match looks for in the CRM.
	Domain string
	// Deleted is set once the account was deleted in the CRM.
	Deleted   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Contact is a person of the CRM account, one per email address (lower
// case) and connection.
type Contact struct {
	Email       string
	CRMID       string
	Name        string
	Phone       string
	CustomerID  string // "" when not linked to a customer
	ExternalRef string
	// RecordIDs are the CRM records (deals) the contact is on.
	RecordIDs []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CatalogProduct is a product of the connection's catalogue with its
// prices, one per currency.
type CatalogProduct struct {
	ID          string // the CRM's product id, or Qwoty's for one made through the API
	SKU         string
	Name        string
	Description string
	Active      bool
	ExternalRef string
	Deleted     bool // deleted in the CRM
	Prices      []CatalogPrice
}

// CatalogPrice is a product's price in one currency.
type CatalogPrice struct {
	Currency  string
	UnitPrice decimal.Decimal
	Active    bool
}

// ParseField checks and trims a free-text field an API client sends: text
// a column can hold (CheckText), at most max characters. field is the
// field's name in the API ("name", "street").
func ParseField(field, s string, max int) (string, error) {
	return parseText(field, s, max, "Shorten it to at most "+itoa(max)+" characters.")
}

// ParseContactEmail reads a contact's email: trimmed, lower case (the key
// contacts are upserted by), of an address's form.
func ParseContactEmail(s string) (string, error) {
	e, err := ParseEmail(s)
	return strings.ToLower(e), err
}

func itoa(n int) string { return strconv.Itoa(n) }
