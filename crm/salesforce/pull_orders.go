package salesforce

import (
	"encoding/json"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Orders made in Salesforce (docs/sync-salesforce.md, "Orders made in
// Salesforce"): the Orders on an opportunity, with their products in the
// same query, listed as every other stream (the engine runs the stream
// only for a connection whose order trigger is on). The status category
// says Qwoty's status: Activated is fulfilled (as Qwoty writes a
// fulfilled order), any other open.

func init() {
	queries[crm.KindOrder] = &objectQuery{object: objOrder, prefix: "801",
		columns: []string{"OpportunityId", "OrderNumber", "OrderReferenceNumber", "StatusCode", "TotalAmount"}, multiCols: []string{"CurrencyIsoCode"},
		sub:    "(SELECT Id, Product2Id, Product2.ProductCode, Product2.Name, Quantity, UnitPrice, TotalPrice, Description FROM OrderItems)",
		where:  func(orgFacts) string { return "OpportunityId != null" },
		record: orderRecord}
}

func decimalOf(v any) decimal.Decimal {
	n, _ := v.(json.Number)
	d, _ := decimal.NewFromString(n.String())
	return d
}

// orderRecord is an Order with its products.
func orderRecord(of orgFacts, r row) (crm.Pulled, error) {
	rec, err := pulled(crm.KindOrder, of, r)
	o := &crm.PulledOrder{Number: r.str("OrderNumber"), Reference: r.str("OrderReferenceNumber"), Status: qwoty.OrderOpen,
		Currency: of.currency, Total: decimalOf(r["TotalAmount"])}
	if id, err := NormalizeID(r.str("OpportunityId")); err == nil {
		o.RecordID = id
	}
	if r.str("StatusCode") == "Activated" {
		o.Status = qwoty.OrderFulfilled
	}
	if of.multi {
		o.Currency = r.str("CurrencyIsoCode")
	}
	if items := r.sub("OrderItems"); items != nil {
		list, _ := items["records"].([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			it := row(m)
			l := crm.PulledOrderLine{Description: it.str("Description"), Quantity: decimalOf(it["Quantity"]),
				UnitPrice: decimalOf(it["UnitPrice"]), Net: decimalOf(it["TotalPrice"])}
			l.ProductID, _ = NormalizeID(it.str("Product2Id"))
			if p := it.sub("Product2"); p != nil {
				l.SKU = p.str("ProductCode")
				if l.Description == "" {
					l.Description = p.str("Name")
				}
			}
			o.Lines = append(o.Lines, l)
		}
	}
	rec.Order = o
	return rec, err
}
