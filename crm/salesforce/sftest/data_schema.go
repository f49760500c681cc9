package sftest

import "strings"

// The objects of an org that sync writes and reads, with the fields and
// properties Salesforce's object reference gives them (Opportunity,
// OpportunityLineItem, Product2, Pricebook2, PricebookEntry, Quote,
// QuoteLineItem, Organization, CurrencyType), cut to what Qwoty touches.
// The package's fields (Qwoty__Ref__c, Qwoty__Deleted__c) are there when the
// org's package version has them (Org.NoSyncFields says it does not; Org.
// NoDealFields that it predates the Qwoty Ref of Account and Opportunity,
// data_deals.go).

type fieldType int

const (
	tID fieldType = iota
	tRef
	tString
	tBool
	tCurrency
	tDouble
	tPercent
	tPicklist
	tDate
	tInt
	// tDateTime values are time.Time, in UTC to the millisecond.
	tDateTime
	// Text kinds describe names apart (data_describe.go); their values are
	// strings, as tString's.
	tTextArea
	tEmail
	tPhone
	tURL
	// tMultiPicklist values are strings of values joined by ";".
	tMultiPicklist
	// tBase64 is a blob (ContentVersion.VersionData): base64 in a JSON
	// body, kept as []byte.
	tBase64
)

// field is one field of an object. Create and Update say whether the API
// may set it on insert and on update ("createable", "updateable" in
// describe); a field that is neither is read-only (calculated, system).
type field struct {
	Name string
	Type fieldType
	// Ref is the object a reference points at, Rel the relationship name
	// a query or a body uses for it ("Product2Id" → "Product2").
	Ref, Rel string
	// Length caps a string; Scale is the decimal places a number is
	// rounded to on save.
	Length int
	Scale  int32
	Create bool
	Update bool
	// Required: an insert must set it (REQUIRED_FIELD_MISSING otherwise).
	Required bool
	// Values are a restricted picklist's values.
	Values []string
	// ExtID marks an External ID field; Unique one with a unique index,
	// case-sensitive or not.
	ExtID, Unique, CaseSensitive bool
	// Multi: the field exists only in a multi-currency org
	// (CurrencyIsoCode); Package: it is the Qwoty package's; Deals: of
	// the package version that makes deals (data_deals.go).
	Multi, Package, Deals bool
	// Label is what describe calls it ("" derives one from Name); Custom
	// marks a field an admin added (data_describe.go); Formula one
	// Salesforce computes (describe's "calculated"), never writable;
	// Inactive are picklist values kept on records but no longer offered.
	Label    string
	Custom   bool
	Formula  bool
	Inactive []string
}

// object is an sObject type.
type object struct {
	Name   string
	Label  string
	Prefix string // the ids' key prefix
	// Quotes: the object exists only when the org has Quotes enabled.
	Quotes bool
	// Multi: the object exists only in a multi-currency org.
	Multi bool
	// Createable and friends: what describe says of the object.
	Createable, Updateable, Deletable bool
	fields                            []*field
	// children are the child relationships a query may select from in a
	// sub-query ("OpportunityContactRoles"), by name.
	children []child
}

// child is a child relationship: the records of Object whose Field is the
// parent's id.
type child struct{ Name, Object, Field string }

func (o *object) child(name string) *child {
	for i := range o.children {
		if strings.EqualFold(o.children[i].Name, name) {
			return &o.children[i]
		}
	}
	return nil
}

func (o *object) field(name string) *field {
	for _, f := range o.fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// relation finds the reference field whose relationship name is rel.
func (o *object) relation(rel string) *field {
	for _, f := range o.fields {
		if f.Type == tRef && strings.EqualFold(f.Rel, rel) {
			return f
		}
	}
	return nil
}

// The standard picklists' values in a new org.
var (
	// Opportunity.StageName, restricted (Salesforce's default sales process).
	opportunityStages = []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
		"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}
	// Quote.Status (Salesforce Help, "Quotes Fields").
	quoteStatuses = []string{"Draft", "Needs Review", "In Review", "Approved", "Rejected", "Presented", "Accepted", "Denied"}
)

// Field shorthands.
func idField() *field { return &field{Name: "Id", Type: tID} }

func ref(name, to, rel string, create, update, required bool) *field {
	return &field{Name: name, Type: tRef, Ref: to, Rel: rel, Create: create, Update: update, Required: required}
}

func text(name string, length int, create, update, required bool) *field {
	return &field{Name: name, Type: tString, Length: length, Create: create, Update: update, Required: required}
}

func money(name string, create, update bool) *field {
	return &field{Name: name, Type: tCurrency, Scale: 2, Create: create, Update: update}
}

func flag(name string, create, update bool) *field {
	return &field{Name: name, Type: tBool, Create: create, Update: update}
}

func readOnly(f *field) *field { f.Create, f.Update = false, false; return f }

// currencyField is CurrencyIsoCode, present in multi-currency orgs only.
func currencyField(create, update bool) *field {
	return &field{Name: "CurrencyIsoCode", Type: tPicklist, Create: create, Update: update, Multi: true}
}

// refField is the package's Qwoty__Ref__c: Text(255), External ID, Unique,
// case-sensitive (salesforce-package/.../fields/Ref__c.field-meta.xml).
func refField() *field {
	return &field{Name: "Qwoty__Ref__c", Type: tString, Length: 255, Create: true, Update: true,
		ExtID: true, Unique: true, CaseSensitive: true, Package: true}
}

// schema is every object the emulator knows, by name.
var schema = func() map[string]*object {
	objs := []*object{
		{Name: "Organization", Label: "Organization", Prefix: "00D", fields: []*field{
			idField(), readOnly(text("Name", 80, false, false, false)),
			{Name: "DefaultCurrencyIsoCode", Type: tPicklist},
		}},
		{Name: "CurrencyType", Label: "Currency", Prefix: "01L", Multi: true, fields: []*field{
			idField(), {Name: "IsoCode", Type: tPicklist}, flag("IsActive", false, false), flag("IsCorporate", false, false),
		}},
		{Name: "Pricebook2", Label: "Price Book", Prefix: "01s", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), text("Name", 255, true, true, true), flag("IsActive", true, true), readOnly(flag("IsStandard", false, false)),
		}},
		{Name: "Product2", Label: "Product", Prefix: "01t", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), text("Name", 255, true, true, true), text("ProductCode", 255, true, true, false),
			text("Description", 4000, true, true, false), flag("IsActive", true, true), currencyField(true, true), refField(),
		}},
		// PricebookEntry: Pricebook2Id and Product2Id are required and not
		// updatable (object reference, PricebookEntry).
		{Name: "PricebookEntry", Label: "Price Book Entry", Prefix: "01u", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("Pricebook2Id", "Pricebook2", "Pricebook2", true, false, true),
			ref("Product2Id", "Product2", "Product2", true, false, true),
			{Name: "UnitPrice", Type: tCurrency, Scale: 2, Create: true, Update: true, Required: true},
			flag("IsActive", true, true), flag("UseStandardPrice", true, true), currencyField(true, false),
			readOnly(text("Name", 255, false, false, false)), readOnly(text("ProductCode", 255, false, false, false)),
		}},
		// Account: no standard email field (object reference, Account);
		// Website is a URL of 255.
		{Name: "Account", Label: "Account", Prefix: "001", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), text("Name", 255, true, true, true), text("BillingStreet", 255, true, true, false),
			text("BillingCity", 40, true, true, false), text("BillingPostalCode", 20, true, true, false),
			text("BillingState", 80, true, true, false), text("BillingCountry", 80, true, true, false),
			text("Phone", 40, true, true, false), {Name: "Website", Type: tURL, Length: 255, Create: true, Update: true},
			currencyField(true, true), dealRefField(), createdDate(),
		}},
		// Contact: Name is compound, read-only, from FirstName and LastName.
		{Name: "Contact", Label: "Contact", Prefix: "003", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), text("FirstName", 40, true, true, false), text("LastName", 80, true, true, true),
			readOnly(text("Name", 121, false, false, false)), text("Email", 80, true, true, false), text("Phone", 40, true, true, false),
			ref("AccountId", "Account", "Account", true, true, false),
		}},
		// OpportunityContactRole: a contact's role on an opportunity;
		// OpportunityId is set on insert only.
		{Name: "OpportunityContactRole", Label: "Opportunity Contact Role", Prefix: "00K", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("OpportunityId", "Opportunity", "Opportunity", true, false, true),
			ref("ContactId", "Contact", "Contact", true, true, true), text("Role", 40, true, true, false),
			flag("IsPrimary", true, true),
		}},
		{Name: "Opportunity", Label: "Opportunity", Prefix: "006", Createable: true, Updateable: true, Deletable: true,
			children: []child{{Name: "OpportunityContactRoles", Object: "OpportunityContactRole", Field: "OpportunityId"}}, fields: []*field{
				idField(), text("Name", 120, true, true, true), ref("AccountId", "Account", "Account", true, true, false),
				{Name: "StageName", Type: tPicklist, Values: opportunityStages, Create: true, Update: true, Required: true},
				money("Amount", true, true), {Name: "CloseDate", Type: tDate, Create: true, Update: true, Required: true},
				ref("Pricebook2Id", "Pricebook2", "Pricebook2", true, true, false), currencyField(true, true),
				readOnly(flag("HasOpportunityLineItem", false, false)), dealRefField(), createdDate(),
			}},
		// OpportunityLineItem: OpportunityId and PricebookEntryId are set
		// on insert only; TotalPrice is writable instead of UnitPrice, never
		// with it (object reference, OpportunityLineItem).
		{Name: "OpportunityLineItem", Label: "Opportunity Product", Prefix: "00k", Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("OpportunityId", "Opportunity", "Opportunity", true, false, true),
			ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", true, false, true),
			readOnly(ref("Product2Id", "Product2", "Product2", false, false, false)),
			{Name: "Quantity", Type: tDouble, Scale: 2, Create: true, Update: true, Required: true},
			money("UnitPrice", true, true), money("TotalPrice", true, true), readOnly(money("ListPrice", false, false)),
			readOnly(money("Subtotal", false, false)), {Name: "Discount", Type: tPercent, Scale: 2, Create: true, Update: true},
			text("Description", 255, true, true, false), readOnly(text("Name", 376, false, false, false)),
			readOnly(currencyField(false, false)), refField(),
		}},
		{Name: "Quote", Label: "Quote", Prefix: "0Q0", Quotes: true, Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), text("Name", 255, true, true, true), readOnly(text("QuoteNumber", 30, false, false, false)),
			ref("OpportunityId", "Opportunity", "Opportunity", true, false, true),
			ref("Pricebook2Id", "Pricebook2", "Pricebook2", true, true, false),
			{Name: "Status", Type: tPicklist, Values: quoteStatuses, Create: true, Update: true},
			money("Tax", true, true), money("ShippingHandling", true, true), readOnly(money("Subtotal", false, false)),
			readOnly(money("TotalPrice", false, false)), readOnly(money("GrandTotal", false, false)),
			readOnly(currencyField(false, false)), refField(),
			{Name: "Qwoty__Deleted__c", Type: tBool, Create: true, Update: true, Package: true},
		}},
		// ContentDocument: a file of Salesforce Files, made with its first
		// ContentVersion (object reference, ContentDocument); never
		// created through the API.
		{Name: "ContentDocument", Label: "Content Document", Prefix: "069", Deletable: true, fields: []*field{
			idField(), readOnly(text("Title", 255, false, false, false)), readOnly(text("FileExtension", 40, false, false, false)),
			readOnly(&field{Name: "ContentSize", Type: tInt}),
		}},
		// ContentVersion: a version of a file (object reference,
		// ContentVersion). An insert without ContentDocumentId makes a new
		// file; PathOnClient and VersionData are required on insert;
		// Title defaults to PathOnClient's name; FirstPublishLocationId
		// (set on insert only) shares the file with a record: the file is
		// then in the record's Files related list. It is polymorphic in
		// Salesforce; the emulator takes opportunities.
		{Name: "ContentVersion", Label: "Content Version", Prefix: "068", Createable: true, Updateable: true, fields: []*field{
			idField(), text("Title", 255, true, true, false), text("PathOnClient", 500, true, false, true),
			{Name: "VersionData", Type: tBase64, Create: true, Required: true},
			ref("FirstPublishLocationId", "Opportunity", "FirstPublishLocation", true, false, false),
			readOnly(ref("ContentDocumentId", "ContentDocument", "ContentDocument", false, false, false)),
			text("Description", 1000, true, true, false), readOnly(flag("IsLatest", false, false)),
			readOnly(&field{Name: "ContentSize", Type: tInt}), readOnly(text("FileExtension", 40, false, false, false)),
		}},
		{Name: "QuoteLineItem", Label: "Quote Line Item", Prefix: "0QL", Quotes: true, Createable: true, Updateable: true, Deletable: true, fields: []*field{
			idField(), ref("QuoteId", "Quote", "Quote", true, false, true),
			ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", true, false, true),
			readOnly(ref("Product2Id", "Product2", "Product2", false, false, false)),
			{Name: "Quantity", Type: tDouble, Scale: 2, Create: true, Update: true, Required: true},
			{Name: "UnitPrice", Type: tCurrency, Scale: 2, Create: true, Update: true, Required: true},
			readOnly(money("ListPrice", false, false)), readOnly(money("Subtotal", false, false)),
			readOnly(money("TotalPrice", false, false)), {Name: "Discount", Type: tPercent, Scale: 2, Create: true, Update: true},
			text("Description", 255, true, true, false), readOnly(text("LineNumber", 30, false, false, false)),
			readOnly(currencyField(false, false)), refField(),
		}},
	}
	m := map[string]*object{}
	for _, o := range objs {
		// Every object's system fields: SystemModstamp moves on every save
		// by a user or by the system; LastModifiedById is who saved last;
		// IsDeleted is true only in the recycle bin (queryAll).
		o.fields = append(o.fields, readOnly(&field{Name: "SystemModstamp", Type: tDateTime}),
			readOnly(&field{Name: "LastModifiedById", Type: tRef, Ref: "User"}), readOnly(flag("IsDeleted", false, false)))
		m[strings.ToLower(o.Name)] = o
	}
	return m
}()

// lookupObject finds an object by name, case-insensitively.
func lookupObject(name string) *object { return schema[strings.ToLower(name)] }
