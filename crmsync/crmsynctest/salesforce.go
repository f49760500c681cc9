package crmsynctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/crm/salesforce/sftest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

func init() { CRMs["salesforce"] = Salesforce }

// Salesforce is Salesforce's emulator: one org with Quotes on and
// o.Records opportunities, its daily allocation beyond what a test spends
// unless limits are the subject.
func Salesforce(t testing.TB, o Options) *CRM {
	t.Helper()
	callback := strings.TrimRight(o.AppURL, "/") + salesforce.CallbackPath
	org := sftest.Org{ID: sftest.DefaultOrgID, MyDomain: sftest.DefaultMyDomain, Users: []sftest.User{
		{ID: sftest.DefaultAdminID, Username: "admin@acme.example", Email: "admin@acme.example", Name: "Ada Admin", Admin: true}}}
	if o.Unlimited || o.BigPlan {
		org.APILimit = 100_000_000
	}
	var records []string
	for i := range o.Records {
		id := fmt.Sprintf("006%012dAAA", i+1)
		org.Opportunities = append(org.Opportunities, sftest.Opportunity{ID: id, Name: fmt.Sprintf("Opportunity %d", i+1)})
		records = append(records, id)
	}
	emu := sftest.New(t, sftest.Options{App: sftest.App{CallbackURLs: []string{callback}}, Orgs: []sftest.Org{org}})
	orgID := sftest.DefaultOrgID
	c := &CRM{Name: "salesforce", Salesforce: emu, Currency: "USD", Redirect: callback, Records: records,
		Adapter: salesforce.NewAdapter(salesforce.Options{ClientID: sftest.DefaultClientID, ClientSecret: sftest.DefaultClientSecret,
			RedirectURL: callback, LoginURL: emu.URL}),
		Env: []string{"SALESFORCE_CLIENT_ID=" + sftest.DefaultClientID, "SALESFORCE_CLIENT_SECRET=" + sftest.DefaultClientSecret,
			"SALESFORCE_LOGIN_URL=" + emu.URL},
		Calls: func() int { return int(emu.Requests()) },
	}
	c.FileRoute = "POST /services/data/" + salesforce.APIVersion + "/sobjects/ContentVersion"
	c.Files = func(record string) []ArchivedFile {
		var out []ArchivedFile
		for _, r := range emu.Records(orgID, "ContentVersion", "FirstPublishLocationId", record) {
			data, _ := r["VersionData"].([]byte)
			out = append(out, ArchivedFile{ID: r.String("Id"), Name: r.String("PathOnClient"), Data: data})
		}
		return out
	}
	c.RemoveRecord = func(record string) {
		if err := emu.Delete(orgID, "Opportunity", record); err != nil {
			t.Fatal(err)
		}
	}
	c.Base, c.BadStage = &emu.Base, "Closed Maybe"
	c.Orders = func(record string) []CRMOrder {
		var out []CRMOrder
		for _, r := range emu.Orders(orgID, record) {
			// Activated is fulfilled; a cancelled order stays Draft, marked
			// in its name.
			says := qwoty.OrderOpen
			switch {
			case r.String("Status") == "Activated":
				says = qwoty.OrderFulfilled
			case strings.HasSuffix(r.String("Name"), "(cancelled)"):
				says = qwoty.OrderCancelled
			}
			out = append(out, CRMOrder{ID: r.String("Id"), Number: r.String("OrderReferenceNumber"), Status: r.String("Status"), Says: says,
				Total: r.Decimal("TotalAmount"), Lines: len(emu.OrderItems(orgID, r.String("Id")))})
		}
		return out
	}
	// The order's create is the Composite request that carries its
	// OrderReferenceNumber.
	c.DropOrder = func() {
		_ = emu.Inject(emulator.Fault{Route: "POST /services/data/{v}/composite", Body: `"OrderReferenceNumber"`, Times: 1, Drop: true})
	}
	c.PrepareOrders = func(record string) {
		acc, err := emu.Insert(orgID, "Account", map[string]any{"Name": "Account of " + record})
		if err == nil {
			err = emu.Update(orgID, "Opportunity", record, map[string]any{"AccountId": acc})
		}
		if err != nil {
			t.Fatalf("give %s an account: %v", record, err)
		}
	}
	// Deals made from Qwoty: Accounts and Opportunities carrying the
	// package's Qwoty__Ref__c, upserted by it.
	made := func(object, parent string) func() []CRMMade {
		return func() []CRMMade {
			var out []CRMMade
			for _, r := range emu.Records(orgID, object, "", "") {
				if ref := r.String("Qwoty__Ref__c"); ref != "" {
					out = append(out, CRMMade{ID: r.String("Id"), Name: r.String("Name"), Ref: ref, AccountID: r.String(parent)})
				}
			}
			return out
		}
	}
	c.MadeAccounts, c.MadeDeals = made("Account", ""), made("Opportunity", "AccountId")
	c.AddAccount = func(name, domain string) string {
		fields := map[string]any{"Name": name}
		if domain != "" {
			fields["Website"] = "https://www." + domain + "/"
		}
		id, err := emu.Insert(orgID, "Account", fields)
		if err != nil {
			t.Fatalf("add account %q: %v", name, err)
		}
		return id
	}
	c.AccountRoute = "PATCH /services/data/{v}/sobjects/Account/Qwoty__Ref__c/{ref}"
	c.DealRoute = "PATCH /services/data/{v}/sobjects/Opportunity/Qwoty__Ref__c/{ref}"
	c.AddHandLine = func(record string) {
		prod, err := emu.Insert(orgID, "Product2", map[string]any{"Name": "Installation (added by hand)", "IsActive": true})
		if err == nil {
			var pbe string
			pbe, err = emu.Insert(orgID, "PricebookEntry", map[string]any{"Pricebook2Id": emu.StandardPricebook(orgID), "Product2Id": prod,
				"UnitPrice": 100, "IsActive": true})
			if err == nil {
				_, err = emu.Insert(orgID, "OpportunityLineItem", map[string]any{"OpportunityId": record, "PricebookEntryId": pbe,
					"Quantity": 1, "UnitPrice": 100})
			}
		}
		if err != nil {
			t.Fatalf("add a hand-made opportunity product: %v", err)
		}
	}
	c.HandLines = func(record string) int {
		n := 0
		for _, li := range emu.LineItems(orgID, record) {
			if li.String("Qwoty__Ref__c") == "" {
				n++
			}
		}
		return n
	}
	c.Drop = func() {
		_ = emu.Inject(emulator.Fault{Route: "POST /services/data/{v}/composite", Times: 1, Drop: true})
	}
	c.Verify = func(snaps []store.SyncSnapshot) []string {
		var diffs []string
		for _, w := range Wants(snaps) {
			var got []LineWant
			for _, li := range emu.LineItems(orgID, w.RecordID) {
				if ref := li.String("Qwoty__Ref__c"); ref != "" {
					got = append(got, LineWant{Ref: ref, Quantity: li.Decimal("Quantity"), Price: li.Decimal("UnitPrice")})
				}
			}
			diffs = append(diffs, CompareLines(w.RecordID, got, LinesOf(w.Primary))...)
			// Every quote is mirrored once, marked when deleted, with its
			// lines; a quote deleted before it was ever pushed may have no
			// mirror.
			mirrors := map[string][]map[string]any{}
			for _, m := range emu.Quotes(orgID, w.RecordID) {
				mirrors[m.String("Qwoty__Ref__c")] = append(mirrors[m.String("Qwoty__Ref__c")], m)
			}
			for i := range w.Quotes {
				q := &w.Quotes[i]
				ms := mirrors[crm.Ref(crm.RefQuote, q.ID)]
				switch {
				case len(ms) == 0 && !q.Deleted:
					diffs = append(diffs, fmt.Sprintf("%s: quote %s has no mirror", w.RecordID, q.Number))
				case len(ms) > 1:
					diffs = append(diffs, fmt.Sprintf("%s: quote %s is mirrored %d times", w.RecordID, q.Number, len(ms)))
				case len(ms) == 1:
					m := sftest.Record(ms[0])
					if m.Bool("Qwoty__Deleted__c") != q.Deleted {
						diffs = append(diffs, fmt.Sprintf("%s: quote %s's mirror deleted=%v, want %v", w.RecordID, q.Number, m.Bool("Qwoty__Deleted__c"), q.Deleted))
					}
					var lines []LineWant
					for _, li := range emu.QuoteLineItems(orgID, m.String("Id")) {
						if ref := li.String("Qwoty__Ref__c"); ref != "" {
							lines = append(lines, LineWant{Ref: ref, Quantity: li.Decimal("Quantity"), Price: li.Decimal("UnitPrice")})
						}
					}
					// CompareLines speaks of the primary quote; a mirror's
					// lines are its own quote's.
					label := w.RecordID + " quote " + q.Number + "'s mirror"
					if q.Deleted {
						label = w.RecordID + " deleted quote " + q.Number + "'s mirror"
					}
					for _, d := range CompareLines(label, lines, LinesOf(q)) {
						diffs = append(diffs, strings.ReplaceAll(d, "the primary quote", "the quote"))
					}
				}
			}
		}
		return diffs
	}
	return c
}
