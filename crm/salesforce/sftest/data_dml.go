package sftest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/salesforce"
)

// dmlError is an error of one record's save, as Salesforce reports it in a
// SaveResult's errors and in a REST error body: a status code, a message and
// the fields it is about.
type dmlError struct {
	Code    string
	Message string
	Fields  []string
}

func (e *dmlError) Error() string { return e.Code + ": " + e.Message }

func dmlErr(code, message string, fields ...string) *dmlError {
	return &dmlError{Code: code, Message: message, Fields: fields}
}

// Salesforce's messages for the errors the emulator raises. Those marked
// "assumed" are not quoted in Salesforce's documentation that we found;
// the codes are Salesforce's.
func noSuchField(o *object, name string) *dmlError {
	return dmlErr("INVALID_FIELD", "No such column '"+name+"' on sobject of type "+o.Name)
}

func notWritable(name string) *dmlError {
	return dmlErr("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+name+
		". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", name)
}

func integrity(field, why string) *dmlError {
	return dmlErr("FIELD_INTEGRITY_EXCEPTION", "field integrity exception: "+field+" ("+why+")", field)
}

// coerce turns a request body's record into field values of o: it checks
// each field exists, may be written (insert or update), and holds a value of
// its type, and resolves relationships given by external id
// ("Quote": {"Qwoty__Ref__c": "..."}). "attributes" is skipped.
func (d *orgDB) coerce(t *tables, o *object, in map[string]any, insert bool) (Record, *dmlError) {
	out := Record{}
	for _, key := range slices.Sorted(maps.Keys(in)) {
		v := in[key]
		if key == "attributes" {
			continue
		}
		if rel, isObj := v.(map[string]any); isObj {
			f := o.relation(key)
			if f == nil || !d.has(f) {
				return nil, noSuchField(o, key)
			}
			if insert && !f.Create || !insert && !f.Update {
				return nil, notWritable(f.Name)
			}
			id, err := d.resolveRelation(t, lookupObject(f.Ref), rel)
			if err != nil {
				return nil, err
			}
			out[f.Name] = id
			continue
		}
		f := d.field(o, key)
		if f == nil || !d.has(f) {
			return nil, noSuchField(o, key)
		}
		if f.Type == tID {
			if insert {
				return nil, dmlErr("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id")
			}
			continue
		}
		if insert && !f.Create || !insert && !f.Update {
			return nil, notWritable(f.Name)
		}
		val, err := d.value(t, f, v)
		if err != nil {
			return nil, err
		}
		out[f.Name] = val
	}
	return out, nil
}

// resolveRelation finds the record of o that a relationship by external id
// names: one field, an External ID of o.
func (d *orgDB) resolveRelation(t *tables, o *object, rel map[string]any) (string, *dmlError) {
	var key string
	for k := range rel {
		if k != "attributes" {
			if key != "" {
				return "", dmlErr("INVALID_FIELD", "A foreign key relationship names one external ID field")
			}
			key = k
		}
	}
	f := o.field(key)
	value, _ := rel[key].(string)
	if f == nil || !d.has(f) || !f.ExtID || !d.visible(o) {
		return "", dmlErr("INVALID_FIELD", "Provided external ID field does not exist or is not accessible: "+key)
	}
	matches := matching(t, o, f, value)
	if len(matches) != 1 {
		// Assumed wording.
		return "", dmlErr("INVALID_FIELD", "Foreign key external ID: "+value+" not found for field "+f.Name+" in entity "+o.Name)
	}
	return matches[0].String("Id"), nil
}

// matching returns o's records whose external id f equals value.
func matching(t *tables, o *object, f *field, value string) []Record {
	var out []Record
	for _, r := range t.all(o) {
		s := r.String(f.Name)
		if s == value || !f.CaseSensitive && strings.EqualFold(s, value) && s != "" {
			out = append(out, r)
		}
	}
	return out
}

// value converts one JSON value to f's type, rounded to its scale.
func (d *orgDB) value(t *tables, f *field, v any) (any, *dmlError) {
	if v == nil {
		if f.Type == tBool {
			return false, nil
		}
		return nil, nil
	}
	bad := func() (any, *dmlError) {
		return nil, dmlErr("INVALID_TYPE_ON_FIELD_IN_RECORD", fmt.Sprintf("%s: value not of required type: %v", f.Name, v), f.Name)
	}
	switch f.Type {
	case tBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b, nil
	case tCurrency, tDouble, tPercent, tInt:
		var n decimal.Decimal
		switch x := v.(type) {
		case json.Number:
			var err error
			if n, err = decimal.NewFromString(x.String()); err != nil {
				return bad()
			}
		case string:
			var err error
			if n, err = decimal.NewFromString(x); err != nil {
				return bad()
			}
		default:
			return bad()
		}
		return n.Round(f.Scale), nil
	case tDate:
		s, ok := v.(string)
		if _, err := time.Parse(time.DateOnly, s); !ok || err != nil {
			return bad()
		}
		return s, nil
	case tRef:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if s == "" {
			return nil, nil
		}
		id, err := salesforce.NormalizeID(s)
		target := lookupObject(f.Ref)
		if err != nil || !strings.HasPrefix(id, target.Prefix) {
			return nil, dmlErr("MALFORMED_ID", f.Name+": id value of incorrect type: "+s, f.Name)
		}
		if t.get(target, id) == nil {
			if t.deleted[id] {
				return nil, dmlErr("ENTITY_IS_DELETED", "entity is deleted", f.Name)
			}
			return nil, dmlErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", f.Name)
		}
		return id, nil
	case tPicklist:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		values := f.Values
		if f.Name == "CurrencyIsoCode" || f.Name == "IsoCode" {
			values = d.currencies
		}
		if len(values) > 0 && !slices.Contains(values, s) {
			label := f.Name
			if f.Name == "StageName" {
				label = "Stage"
			}
			return nil, dmlErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", label+": bad value for restricted picklist field: "+s, f.Name)
		}
		return s, nil
	case tBase64:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if len(s) > maxBase64 {
			// Assumed code and wording: the guide names the limit only.
			return nil, dmlErr("STRING_TOO_LONG", fmt.Sprintf("%s: base64-encoded data is limited to 37.5 MB in a non-multipart request", f.Name), f.Name)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad()
		}
		return b, nil
	case tMultiPicklist:
		// Values joined by ";", each one of the field's.
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		for _, part := range strings.Split(s, ";") {
			if s != "" && !slices.Contains(f.Values, part) {
				return nil, dmlErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f.label()+": bad value for restricted picklist field: "+part, f.Name)
			}
		}
		return s, nil
	default:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if f.Length > 0 && len([]rune(s)) > f.Length {
			return nil, dmlErr("STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Name, s, f.Length), f.Name)
		}
		return s, nil
	}
}

// insert creates a record of o from a request body's fields.
func (d *orgDB) insert(t *tables, o *object, in map[string]any) (string, *dmlError) {
	vals, err := d.coerce(t, o, in, true)
	if err != nil {
		return "", err
	}
	return d.insertValues(t, o, vals)
}

func (d *orgDB) insertValues(t *tables, o *object, vals Record) (string, *dmlError) {
	var missing []string
	for _, f := range o.fields {
		if f.Required && d.has(f) && (vals[f.Name] == nil || vals[f.Name] == "") {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return "", dmlErr("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
	}
	id := t.newID(o)
	rec := Record{"Id": id}
	for _, f := range d.fields(o) {
		if d.has(f) && f.Type == tBool {
			rec[f.Name] = false
		}
	}
	maps.Copy(rec, vals)
	d.saved(o, rec)
	if o.field("CreatedDate") != nil {
		rec["CreatedDate"] = rec["SystemModstamp"]
	}
	if err := d.beforeSave(t, o, nil, rec); err != nil {
		return "", err
	}
	t.table(o)[id] = rec
	if o.Name == "PricebookEntry" {
		t.entries[rec.String("Product2Id")] = append(t.entries[rec.String("Product2Id")], id)
	}
	d.afterSave(t, o, rec)
	return id, nil
}

// update changes the record id of o with a request body's fields.
func (d *orgDB) update(t *tables, o *object, id string, in map[string]any) *dmlError {
	old, err := d.find(t, o, id)
	if err != nil {
		return err
	}
	vals, err := d.coerce(t, o, in, false)
	if err != nil {
		return err
	}
	if o.Name == "OpportunityLineItem" || o.Name == "QuoteLineItem" {
		_, unit := vals["UnitPrice"]
		_, total := vals["TotalPrice"]
		if unit && total {
			// Observed (public reports): "Cannot change both 'UnitPrice' and
			// 'TotalPrice' in update call".
			return dmlErr("INVALID_FIELD", "Cannot change both 'UnitPrice' and 'TotalPrice' in update call", "UnitPrice")
		}
	}
	rec := maps.Clone(old)
	maps.Copy(rec, vals)
	d.saved(o, rec)
	if err := d.beforeSave(t, o, old, rec); err != nil {
		return err
	}
	t.table(o)[rec.String("Id")] = rec
	d.afterSave(t, o, rec)
	return nil
}

// find returns the record id of o, or Salesforce's error for an id that is
// malformed, of another object, deleted or unknown.
func (d *orgDB) find(t *tables, o *object, id string) (Record, *dmlError) {
	norm, err := salesforce.NormalizeID(id)
	if err != nil {
		return nil, dmlErr("MALFORMED_ID", "malformed id "+id)
	}
	if r := t.get(o, norm); r != nil {
		return r, nil
	}
	if t.deleted[norm] {
		return nil, dmlErr("ENTITY_IS_DELETED", "entity is deleted")
	}
	return nil, dmlErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
}

// upsert creates or updates a record of o by the external id f, whose value
// the body carries. It reports the id, whether it created the record, and
// the records matched when there were several.
func (d *orgDB) upsert(t *tables, o *object, f *field, in map[string]any) (string, bool, []Record, *dmlError) {
	value, _ := in[f.Name].(string)
	if value == "" {
		// Assumed wording.
		return "", false, nil, dmlErr("MISSING_ARGUMENT", f.Name+" not specified", f.Name)
	}
	matches := matching(t, o, f, value)
	switch len(matches) {
	case 0:
		id, err := d.insert(t, o, in)
		return id, err == nil, nil, err
	case 1:
		body := maps.Clone(in)
		delete(body, f.Name)
		id := matches[0].String("Id")
		return id, false, nil, d.update(t, o, id, body)
	}
	return "", false, matches, nil
}

// delete removes the record id of o, and the records that cannot live
// without it (a quote's lines, an opportunity's products and quotes).
func (d *orgDB) delete(t *tables, o *object, id string) *dmlError {
	rec, err := d.find(t, o, id)
	if err != nil {
		return err
	}
	id = rec.String("Id")
	switch o.Name {
	case "Opportunity":
		for _, child := range []string{"OpportunityLineItem", "Quote"} {
			co := lookupObject(child)
			for _, c := range t.where(co, "OpportunityId", id) {
				_ = d.delete(t, co, c.String("Id"))
			}
		}
	case "Order":
		oi := lookupObject("OrderItem")
		for _, c := range t.where(oi, "OrderId", id) {
			delete(t.table(oi), c.String("Id"))
			t.deleted[c.String("Id")] = true
		}
	case "OrderItem":
		if t.get(lookupObject("Order"), rec.String("OrderId")).String("StatusCode") == "Activated" {
			return integrity("OrderId", "You can't add or change products of an activated order") // assumed wording
		}
	case "Quote":
		qli := lookupObject("QuoteLineItem")
		for _, c := range t.where(qli, "QuoteId", id) {
			_ = d.delete(t, qli, c.String("Id"))
		}
	case "PricebookEntry":
		for _, child := range []string{"OpportunityLineItem", "QuoteLineItem"} {
			if len(t.where(lookupObject(child), "PricebookEntryId", id)) > 0 {
				// Assumed wording.
				return dmlErr("DELETE_FAILED", "Your attempt to delete "+rec.String("Name")+" could not be completed because it is associated with line items")
			}
		}
	case "Product2":
		if len(t.productEntries(id)) > 0 {
			return dmlErr("DELETE_FAILED", "Your attempt to delete "+rec.String("Name")+" could not be completed because it has price book entries")
		}
	}
	delete(t.table(o), id)
	if o.Name == "PricebookEntry" {
		product := rec.String("Product2Id")
		t.entries[product] = slices.DeleteFunc(slices.Clone(t.entries[product]), func(e string) bool { return e == id })
	}
	t.deleted[id] = true
	// The record goes to the recycle bin, where queryAll finds it
	// (assumed: the deletion moves SystemModstamp and LastModifiedById,
	// as getDeleted's deletedDate says when it happened).
	binned := maps.Clone(rec)
	d.stamp(binned)
	binned["IsDeleted"] = true
	if t.bin[o.Name] == nil {
		t.bin[o.Name] = map[string]Record{}
	}
	t.bin[o.Name][id] = binned
	d.afterSave(t, o, rec)
	return nil
}

// saved sets what Salesforce sets on every save: the modification stamp,
// and a contact's compound Name.
func (d *orgDB) saved(o *object, rec Record) {
	d.stamp(rec)
	if o.Name == "Contact" {
		rec["Name"] = strings.TrimSpace(rec.String("FirstName") + " " + rec.String("LastName"))
	}
}

// beforeSave applies the object's own rules to a record about to be saved
// (old is nil on insert), then the org's validation rules.
func (d *orgDB) beforeSave(t *tables, o *object, old, rec Record) *dmlError {
	insert := old == nil
	// External ids with a unique index.
	for _, f := range o.fields {
		if !f.Unique || !d.has(f) || !d.refUnique || rec.String(f.Name) == "" {
			continue
		}
		for _, other := range matching(t, o, f, rec.String(f.Name)) {
			if other.String("Id") != rec.String("Id") {
				return dmlErr("DUPLICATE_VALUE", "duplicate value found: "+f.Name+" duplicates value on record with id: "+other.String("Id"), f.Name)
			}
		}
	}
	var err *dmlError
	switch o.Name {
	case "Opportunity":
		err = d.opportunityRules(t, old, rec)
	case "PricebookEntry":
		err = d.pricebookEntryRules(t, insert, rec)
	case "OpportunityLineItem":
		err = d.lineRules(t, "Opportunity", "OpportunityId", insert, old, rec)
	case "Quote":
		err = d.quoteRules(t, insert, rec)
	case "QuoteLineItem":
		err = d.lineRules(t, "Quote", "QuoteId", insert, old, rec)
	case "ContentVersion":
		err = d.contentVersionRules(t, insert, rec)
	case "Order":
		err = d.orderRules(t, old, rec)
	case "OrderItem":
		err = d.orderItemRules(t, insert, old, rec)
	}
	if err != nil {
		return err
	}
	for _, rule := range d.rules {
		if strings.EqualFold(rule.Object, o.Name) && rule.Fails(maps.Clone(rec)) {
			var fields []string
			if rule.Field != "" {
				fields = []string{rule.Field}
			}
			return dmlErr("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.Message, fields...)
		}
	}
	return nil
}

func (d *orgDB) opportunityRules(t *tables, old, rec Record) *dmlError {
	if err := t.stageRule(old, rec); err != nil {
		return err
	}
	if d.multi() && rec["CurrencyIsoCode"] == nil {
		rec["CurrencyIsoCode"] = d.currency
	}
	if old == nil || !old.Bool("HasOpportunityLineItem") {
		return nil
	}
	// Once an opportunity has products its Amount is their total and is
	// not editable; an update of it answers success and changes nothing
	// (Salesforce Help 004052228).
	rec["Amount"] = old["Amount"]
	// Assumed wordings: the price book and the currency are fixed while
	// the opportunity has products.
	if rec.String("Pricebook2Id") != old.String("Pricebook2Id") {
		return integrity("Pricebook2Id", "cannot change pricebook on opportunity with line items")
	}
	if rec.String("CurrencyIsoCode") != old.String("CurrencyIsoCode") {
		return integrity("CurrencyIsoCode", "cannot change currency on opportunity with line items")
	}
	return nil
}

// pricebookEntryRules: one entry per price book, product and currency; a
// custom price book's entry needs the product's standard price in that
// currency first (Salesforce's price book rules).
func (d *orgDB) pricebookEntryRules(t *tables, insert bool, rec Record) *dmlError {
	if d.multi() && rec["CurrencyIsoCode"] == nil {
		rec["CurrencyIsoCode"] = d.currency
	}
	product := t.get(lookupObject("Product2"), rec.String("Product2Id"))
	rec["Name"] = product.String("Name")
	rec["ProductCode"] = product["ProductCode"]
	if !insert {
		return nil
	}
	std := t.standardPricebook()
	for _, e := range t.productEntries(rec.String("Product2Id")) {
		if e.String("Pricebook2Id") == rec.String("Pricebook2Id") && e.String("CurrencyIsoCode") == rec.String("CurrencyIsoCode") {
			return dmlErr("DUPLICATE_VALUE", "This price definition already exists in this price book")
		}
	}
	if rec.String("Pricebook2Id") == std {
		return nil
	}
	for _, e := range t.productEntries(rec.String("Product2Id")) {
		if e.String("Pricebook2Id") == std && e.String("CurrencyIsoCode") == rec.String("CurrencyIsoCode") {
			return nil
		}
	}
	return dmlErr("STANDARD_PRICE_NOT_DEFINED", "Before creating a custom price, create a standard price.")
}

func (d *orgDB) quoteRules(t *tables, insert bool, rec Record) *dmlError {
	opp := t.get(lookupObject("Opportunity"), rec.String("OpportunityId"))
	if insert {
		if rec["Status"] == nil {
			rec["Status"] = "Draft"
		}
		if rec["Pricebook2Id"] == nil {
			rec["Pricebook2Id"] = opp["Pricebook2Id"]
		}
		rec["QuoteNumber"] = fmt.Sprintf("%08d", len(t.all(lookupObject("Quote")))+1)
	}
	if d.multi() {
		rec["CurrencyIsoCode"] = opp["CurrencyIsoCode"]
	}
	return nil
}

// lineRules are an opportunity product's and a quote line's: an active
// price book entry of the parent's price book and currency (the parent
// takes the entry's price book when it has none), a unit price or a total,
// and the amounts Salesforce computes.
func (d *orgDB) lineRules(t *tables, parentObj, parentField string, insert bool, old, rec Record) *dmlError {
	po := lookupObject(parentObj)
	parent := t.get(po, rec.String(parentField))
	entry := t.get(lookupObject("PricebookEntry"), rec.String("PricebookEntryId"))
	if insert {
		_, unit := rec["UnitPrice"].(decimal.Decimal)
		_, total := rec["TotalPrice"].(decimal.Decimal)
		switch {
		case unit && total:
			return integrity("TotalPrice", "cannot specify both UnitPrice and TotalPrice")
		case !unit && !total:
			return integrity("UnitPrice", "must specify either UnitPrice or TotalPrice")
		}
		if !entry.Bool("IsActive") {
			return integrity("PricebookEntryId", "pricebook entry is inactive")
		}
		pb := parent.String("Pricebook2Id")
		if pb == "" {
			// The parent takes the entry's price book (afterSave), an
			// active one.
			book := t.get(lookupObject("Pricebook2"), entry.String("Pricebook2Id"))
			if !book.Bool("IsActive") {
				return integrity("PricebookEntryId", "pricebook entry is in an inactive pricebook")
			}
		} else if pb != entry.String("Pricebook2Id") {
			return integrity("PricebookEntryId", "pricebook entry is in a different pricebook than the one assigned to the "+strings.ToLower(parentObj))
		}
		if d.multi() {
			currency := parent.String("CurrencyIsoCode")
			if parentObj == "Quote" {
				currency = t.get(lookupObject("Opportunity"), parent.String("OpportunityId")).String("CurrencyIsoCode")
			}
			if entry.String("CurrencyIsoCode") != currency {
				return integrity("PricebookEntryId", "pricebook entry currency code does not match "+strings.ToLower(parentObj)+" currency code")
			}
			rec["CurrencyIsoCode"] = currency
		}
		rec["Product2Id"] = entry.String("Product2Id")
		rec["ListPrice"] = entry.Decimal("UnitPrice")
	}
	qty := rec.Decimal("Quantity")
	if qty.IsZero() {
		return integrity("Quantity", "quantity must be nonzero")
	}
	discount := decimal.NewFromInt(1).Sub(rec.Decimal("Discount").Div(decimal.NewFromInt(100)))
	if total, ok := rec["TotalPrice"].(decimal.Decimal); ok {
		// A total given instead of a unit price sets the unit price.
		given := old == nil && rec["UnitPrice"] == nil || old != nil && !total.Equal(old.Decimal("TotalPrice"))
		if given && !discount.IsZero() {
			rec["UnitPrice"] = total.Div(qty).Div(discount).Round(2)
		}
	}
	sub := qty.Mul(rec.Decimal("UnitPrice")).Round(2)
	rec["Subtotal"] = sub
	rec["TotalPrice"] = sub.Mul(discount).Round(2)
	if parentObj == "Opportunity" {
		rec["Name"] = parent.String("Name") + " " + entry.String("Name")
	} else if insert {
		rec["LineNumber"] = fmt.Sprintf("%08d", len(t.all(lookupObject("QuoteLineItem")))+1)
	}
	return nil
}

// afterSave recomputes what Salesforce derives from a saved or deleted
// record: an opportunity's Amount and HasOpportunityLineItem from its
// products, a quote's totals from its lines.
func (d *orgDB) afterSave(t *tables, o *object, rec Record) {
	switch o.Name {
	case "OpportunityLineItem":
		d.takePricebook(t, lookupObject("Opportunity"), rec.String("OpportunityId"), rec)
		d.recomputeOpportunity(t, rec.String("OpportunityId"))
	case "QuoteLineItem":
		d.takePricebook(t, lookupObject("Quote"), rec.String("QuoteId"), rec)
		d.recomputeQuote(t, rec.String("QuoteId"))
	case "Quote":
		d.recomputeQuote(t, rec.String("Id"))
	case "OrderItem":
		d.recomputeOrder(t, rec.String("OrderId"))
	}
}

// takePricebook gives a line's parent without a price book the price book
// of the line's entry: "If the opportunity does not have an associated
// pricebook2, the API automatically sets the pricebook on the opportunity".
func (d *orgDB) takePricebook(t *tables, po *object, parentID string, line Record) {
	parent := t.get(po, parentID)
	if parent == nil || parent.String("Pricebook2Id") != "" {
		return
	}
	if entry := t.get(lookupObject("PricebookEntry"), line.String("PricebookEntryId")); entry != nil {
		parent["Pricebook2Id"] = entry.String("Pricebook2Id")
	}
}

func (d *orgDB) recomputeOpportunity(t *tables, id string) {
	opp := t.get(lookupObject("Opportunity"), id)
	if opp == nil {
		return
	}
	lines := t.where(lookupObject("OpportunityLineItem"), "OpportunityId", id)
	opp["HasOpportunityLineItem"] = len(lines) > 0
	if len(lines) == 0 {
		// Assumed: the last computed Amount stays, and is editable again.
		return
	}
	sum := decimal.Zero
	for _, l := range lines {
		sum = sum.Add(l.Decimal("TotalPrice"))
	}
	if !opp.Decimal("Amount").Equal(sum) {
		// The roll-up is a save of the opportunity's.
		d.stamp(opp)
	}
	opp["Amount"] = sum
}

func (d *orgDB) recomputeQuote(t *tables, id string) {
	q := t.get(lookupObject("Quote"), id)
	if q == nil {
		return
	}
	sub, total := decimal.Zero, decimal.Zero
	for _, l := range t.where(lookupObject("QuoteLineItem"), "QuoteId", id) {
		sub = sub.Add(l.Decimal("Subtotal"))
		total = total.Add(l.Decimal("TotalPrice"))
	}
	q["Subtotal"], q["TotalPrice"] = sub, total
	q["GrandTotal"] = total.Add(q.Decimal("Tax")).Add(q.Decimal("ShippingHandling"))
}

// jsonValue is a field value as the REST API writes it.
func jsonValue(v any) any {
	if tm, ok := v.(time.Time); ok {
		// The REST API's dateTime: "2026-01-02T03:04:05.000+0000".
		return tm.UTC().Format("2006-01-02T15:04:05.000-0700")
	}
	if n, ok := v.(decimal.Decimal); ok {
		if n.IsInteger() {
			return json.Number(n.StringFixed(1))
		}
		return json.Number(n.String())
	}
	return v
}

// maxBase64 is the base64 a non-multipart request may carry: 37.5 MB.
const maxBase64 = 75 << 19

// contentVersionRules: a new version without ContentDocumentId makes its
// file (ContentDocument), titled as the version; Title defaults to
// PathOnClient's base name, without its extension; the size and extension
// are the data's and the path's; an empty file is refused (assumed
// wording).
func (d *orgDB) contentVersionRules(t *tables, insert bool, rec Record) *dmlError {
	if !insert {
		return nil
	}
	data, _ := rec["VersionData"].([]byte)
	if len(data) == 0 {
		return dmlErr("REQUIRED_FIELD_MISSING", "Required fields are missing: [VersionData]", "VersionData")
	}
	path := rec.String("PathOnClient")
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	ext := ""
	if i := strings.LastIndex(base, "."); i > 0 {
		base, ext = base[:i], strings.ToLower(base[i+1:])
	}
	if rec.String("Title") == "" {
		rec["Title"] = base
	}
	rec["ContentSize"], rec["FileExtension"], rec["IsLatest"] = decimal.NewFromInt(int64(len(data))), ext, true
	doc := lookupObject("ContentDocument")
	id := t.newID(doc)
	docRec := Record{"Id": id, "Title": rec.String("Title"), "FileExtension": ext, "ContentSize": rec["ContentSize"], "IsDeleted": false}
	d.saved(doc, docRec)
	t.table(doc)[id] = docRec
	rec["ContentDocumentId"] = id
	return nil
}
