package sftest

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Orders (object reference, Order and OrderItem; Salesforce Help, "Set Up
// Orders", "Guidelines for Creating Orders"), as Qwoty writes them:
//
//   - Order: AccountId, EffectiveDate and Status are required; Status is
//     a restricted picklist whose values belong to a category, StatusCode
//     (read-only): the org's defaults are Draft and Activated (OrderStatus
//     lists only these two categories). A new order must be Draft; it is
//     activated by an update, and only once it has products. AccountId and
//     Pricebook2Id change only while the order is Draft, and the price
//     book not at all once it has products. OrderReferenceNumber (Text 80)
//     is free for the integration's reference. TotalAmount is the sum of
//     its products' TotalPrice, read-only.
//   - The org setting "Enable orders without contracts" (Org.
//     OrdersNeedContract is that setting off) makes ContractId required.
//   - OrderItem: OrderId and PricebookEntryId are required and set on
//     insert only; Quantity and UnitPrice are required; TotalPrice is
//     Quantity × UnitPrice, read-only; the entry must be active and of the
//     order's price book ("Order Products must have a Price Book Entry that
//     belongs to the Price Book related to the parent Order.", as an org
//     answers) and, in a multi-currency org, of its currency. An activated
//     order's products cannot be added, changed or deleted.
//
// The wordings marked assumed are the emulator's own where no public
// answer was found; their codes are Salesforce's.

var orderStatuses = []string{"Draft", "Activated"}

func init() {
	objs := []*object{
		// Contract: what an order may need (the org setting).
		{Name: "Contract", Label: "Contract", Prefix: "800", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("AccountId", "Account", "Account", true, true, true),
			{Name: "Status", Type: tPicklist, Values: []string{"Draft", "In Approval Process", "Activated"}, Create: true, Update: true},
			{Name: "StartDate", Type: tDate, Create: true, Update: true}, {Name: "ContractTerm", Type: tInt, Create: true, Update: true},
			readOnly(text("ContractNumber", 30, false, false, false)),
		}},
		{Name: "Order", Label: "Order", Prefix: "801", Createable: true, Updateable: true, Deletable: true,
			children: []child{{Name: "OrderItems", Object: "OrderItem", Field: "OrderId"}}, fields: []*field{
				idField(), ref("AccountId", "Account", "Account", true, true, true),
				ref("OpportunityId", "Opportunity", "Opportunity", true, true, false),
				ref("ContractId", "Contract", "Contract", true, true, false),
				ref("Pricebook2Id", "Pricebook2", "Pricebook2", true, true, false),
				{Name: "EffectiveDate", Type: tDate, Create: true, Update: true, Required: true},
				{Name: "Status", Type: tPicklist, Values: orderStatuses, Create: true, Update: true, Required: true},
				readOnly(&field{Name: "StatusCode", Type: tPicklist}),
				text("Name", 80, true, true, false), &field{Name: "Description", Type: tTextArea, Length: 32000, Create: true, Update: true},
				text("OrderReferenceNumber", 80, true, true, false), readOnly(text("OrderNumber", 30, false, false, false)),
				readOnly(money("TotalAmount", false, false)), readOnly(&field{Name: "ActivatedDate", Type: tDateTime}),
				currencyField(true, true),
			}},
		{Name: "OrderItem", Label: "Order Product", Prefix: "802", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("OrderId", "Order", "Order", true, false, true),
			ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", true, false, true),
			readOnly(ref("Product2Id", "Product2", "Product2", false, false, false)),
			{Name: "Quantity", Type: tDouble, Scale: 2, Create: true, Update: true, Required: true},
			{Name: "UnitPrice", Type: tCurrency, Scale: 2, Create: true, Update: true, Required: true},
			readOnly(money("ListPrice", false, false)), readOnly(money("TotalPrice", false, false)),
			text("Description", 255, true, true, false), readOnly(text("OrderItemNumber", 30, false, false, false)),
			readOnly(currencyField(false, false)),
		}},
	}
	for _, o := range objs {
		o.fields = append(o.fields, readOnly(&field{Name: "SystemModstamp", Type: tDateTime}),
			readOnly(&field{Name: "LastModifiedById", Type: tRef, Ref: "User"}), readOnly(flag("IsDeleted", false, false)))
		schema[strings.ToLower(o.Name)] = o
	}
}

// orderRules are an order's: Draft at creation, the contract when the
// org needs one, activation with products, what an activated order
// keeps.
func (d *orgDB) orderRules(t *tables, old, rec Record) *dmlError {
	if d.multi() && rec["CurrencyIsoCode"] == nil {
		rec["CurrencyIsoCode"] = d.currency
	}
	status := rec.String("Status")
	rec["StatusCode"] = status // the org's values are their own categories
	if old == nil {
		if d.ordersNeedContract && rec.String("ContractId") == "" {
			// Assumed wording, the code of a required field.
			return dmlErr("REQUIRED_FIELD_MISSING", "Required fields are missing: [ContractId]", "ContractId")
		}
		if status != "Draft" {
			// Assumed wording.
			return integrity("Status", "a new order must be Draft: activate it once it has products")
		}
		rec["OrderNumber"] = fmt.Sprintf("%08d", len(t.all(lookupObject("Order")))+100)
		rec["TotalAmount"] = decimal.Zero
		return nil
	}
	items := t.where(lookupObject("OrderItem"), "OrderId", rec.String("Id"))
	if old.String("StatusCode") == "Activated" {
		for _, f := range []string{"AccountId", "Pricebook2Id", "ContractId"} {
			if rec.String(f) != old.String(f) {
				// Assumed wording (the reference: "can only be updated
				// when the order's StatusCode value is Draft").
				return integrity(f, "can only be updated when the order is Draft")
			}
		}
	}
	if len(items) > 0 && rec.String("Pricebook2Id") != old.String("Pricebook2Id") {
		return integrity("Pricebook2Id", "cannot change the price book of an order with products") // assumed wording
	}
	if status == "Activated" && old.String("StatusCode") != "Activated" {
		if len(items) == 0 {
			// Assumed wording.
			return integrity("Status", "You can't activate an order without products")
		}
		rec["ActivatedDate"] = d.now().UTC().Truncate(time.Millisecond)
	}
	return nil
}

// orderItemRules are an order product's.
func (d *orgDB) orderItemRules(t *tables, insert bool, old, rec Record) *dmlError {
	order := t.get(lookupObject("Order"), rec.String("OrderId"))
	if order.String("StatusCode") == "Activated" {
		return integrity("OrderId", "You can't add or change products of an activated order") // assumed wording
	}
	if insert {
		entry := t.get(lookupObject("PricebookEntry"), rec.String("PricebookEntryId"))
		if !entry.Bool("IsActive") {
			return integrity("PricebookEntryId", "pricebook entry is inactive")
		}
		if order.String("Pricebook2Id") != entry.String("Pricebook2Id") {
			// An org's own answer.
			return integrity("PricebookEntryId", "Order Products must have a Price Book Entry that belongs to the Price Book related to the parent Order.: Price Book Entry ID")
		}
		if d.multi() {
			if entry.String("CurrencyIsoCode") != order.String("CurrencyIsoCode") {
				return integrity("PricebookEntryId", "pricebook entry currency code does not match order currency code")
			}
			rec["CurrencyIsoCode"] = order.String("CurrencyIsoCode")
		}
		rec["Product2Id"] = entry.String("Product2Id")
		rec["ListPrice"] = entry.Decimal("UnitPrice")
		rec["OrderItemNumber"] = fmt.Sprintf("%010d", len(t.all(lookupObject("OrderItem")))+1)
	}
	if rec.Decimal("Quantity").IsZero() {
		return integrity("Quantity", "quantity must be nonzero")
	}
	rec["TotalPrice"] = rec.Decimal("Quantity").Mul(rec.Decimal("UnitPrice")).Round(2)
	return nil
}

// recomputeOrder sums an order's products.
func (d *orgDB) recomputeOrder(t *tables, id string) {
	o := t.get(lookupObject("Order"), id)
	if o == nil {
		return
	}
	sum := decimal.Zero
	for _, l := range t.where(lookupObject("OrderItem"), "OrderId", id) {
		sum = sum.Add(l.Decimal("TotalPrice"))
	}
	o["TotalAmount"] = sum
}

// Orders are an opportunity's orders.
func (s *Server) Orders(orgID, opportunityID string) []Record {
	return s.Records(orgID, "Order", "OpportunityId", opportunityID)
}

// OrderItems are an order's products.
func (s *Server) OrderItems(orgID, orderID string) []Record {
	return s.Records(orgID, "OrderItem", "OrderId", orderID)
}

// SetOrdersNeedContract sets the org's "Enable orders without contracts"
// off (true: every new order needs ContractId) or on (false).
func (s *Server) SetOrdersNeedContract(orgID string, need bool) {
	d := s.db(orgID)
	defer d.mu.Unlock()
	d.ordersNeedContract = need
}
