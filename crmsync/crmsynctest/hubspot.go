package crmsynctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/crm/hubspot/hstest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

func init() { CRMs["hubspot"] = HubSpot }

// HubSpot is HubSpot's emulator: one portal with o.Records deals, at
// HubSpot's real rate limit (110 calls per 10 s) unless o.Unlimited.
func HubSpot(t testing.TB, o Options) *CRM {
	t.Helper()
	callback := strings.TrimRight(o.AppURL, "/") + crm.CallbackPath("hubspot")
	// The deals are in euros: so is the account (its company currency).
	portal := hstest.Portal{ID: hstest.DefaultPortalID, Domain: hstest.DefaultPortalDomain, Currencies: []string{"EUR"},
		Users: []hstest.User{{ID: hstest.DefaultAdminID, Email: hstest.DefaultAdminEmail, Installer: true}}}
	var records []string
	for i := range o.Records {
		id := fmt.Sprintf("%d", 9000+i)
		portal.Deals = append(portal.Deals, hstest.Deal{ID: id, Name: fmt.Sprintf("Deal %d", i), Currency: "EUR"})
		records = append(records, id)
	}
	emu := hstest.New(t, hstest.Options{App: hstest.App{RedirectURLs: []string{callback}}, Portals: []hstest.Portal{portal},
		RateLimit: hstest.RateLimit{Off: o.Unlimited}})
	c := &CRM{Name: "hubspot", HubSpot: emu, Currency: "EUR", Redirect: callback, Records: records,
		Adapter: hubspot.NewAdapter(hubspot.Options{ClientID: hstest.DefaultClientID, ClientSecret: hstest.DefaultClientSecret,
			RedirectURL: callback, AuthURL: emu.URL, APIURL: emu.URL}),
		Env: []string{"HUBSPOT_CLIENT_ID=" + hstest.DefaultClientID, "HUBSPOT_CLIENT_SECRET=" + hstest.DefaultClientSecret,
			"HUBSPOT_AUTH_URL=" + emu.URL, "HUBSPOT_API_URL=" + emu.URL},
		Calls: func() int { return int(emu.Requests()) },
	}
	c.Base, c.BadStage = &emu.Base, "no_such_stage"
	// The note attaching the file is the filing's last call: its answer
	// lost makes the retry look for both the file and the note.
	c.FileRoute = "POST /crm/objects/2026-03/notes"
	c.Orders = func(record string) []CRMOrder {
		var out []CRMOrder
		for _, o := range emu.Orders(hstest.DefaultPortalID, record) {
			total, _ := decimal.NewFromString(o.Properties["hs_total_price"])
			var says qwoty.OrderStatus
			for st, stage := range hubspot.OrderStages {
				if stage == o.Properties["hs_pipeline_stage"] {
					says = st
				}
			}
			out = append(out, CRMOrder{ID: o.ID, Number: o.Properties["hs_external_order_id"], Status: o.Properties["hs_pipeline_stage"],
				Says: says, Total: total, Lines: len(emu.OrderLineItems(hstest.DefaultPortalID, o.ID))})
		}
		return out
	}
	c.DropOrder = func() {
		_ = emu.Inject(emulator.Fault{Route: "POST /crm/objects/2026-03/orders", Times: 1, Drop: true})
	}
	c.Files = func(record string) []ArchivedFile {
		var out []ArchivedFile
		for _, f := range emu.Files(hstest.DefaultPortalID, record) {
			out = append(out, ArchivedFile{ID: f.ID, Name: f.Name + "." + f.Ext, Data: f.Data})
		}
		return out
	}
	c.RemoveRecord = func(record string) {
		if !emu.Archive(hstest.DefaultPortalID, "deals", record) {
			t.Fatalf("no deal %s to delete", record)
		}
	}
	c.AddHandLine = func(record string) {
		emu.PutLineItem(hstest.DefaultPortalID, record, map[string]string{"name": "Installation (added by hand)", "quantity": "1", "price": "100"})
	}
	c.HandLines = func(record string) int {
		n := 0
		for _, li := range emu.LineItems(hstest.DefaultPortalID, record) {
			if li.Properties[hubspot.RefProperty] == "" {
				n++
			}
		}
		return n
	}
	c.Drop = func() {
		_ = emu.Inject(emulator.Fault{Route: "POST /crm/v3/objects/{type}/batch/{op}", Times: 1, Drop: true})
	}
	// Deals made from Qwoty: the companies and deals carrying qwoty_ref;
	// a company a person made has none.
	made := func(typ string) func() []CRMMade {
		return func() []CRMMade {
			var out []CRMMade
			for _, r := range emu.RecordsWith(hstest.DefaultPortalID, typ, hubspot.RefProperty) {
				out = append(out, CRMMade{ID: r.ID, Name: r.Name, Ref: r.Value, AccountID: r.CompanyID})
			}
			return out
		}
	}
	c.MadeAccounts, c.MadeDeals = made("companies"), made("deals")
	handMade := 0
	c.AddAccount = func(name, domain string) string {
		handMade++
		id := fmt.Sprintf("%d", 7_000_000+handMade)
		props := map[string]string{}
		if domain != "" {
			props["domain"] = domain
		}
		emu.PutCompany(hstest.DefaultPortalID, hstest.Company{ID: id, Name: name, Properties: props})
		return id
	}
	c.AccountRoute, c.DealRoute = "POST /crm/objects/2026-03/companies", "POST /crm/objects/2026-03/deals"
	c.Verify = func(snaps []store.SyncSnapshot) []string {
		var diffs []string
		for _, w := range Wants(snaps) {
			var got []LineWant
			for _, li := range emu.LineItems(hstest.DefaultPortalID, w.RecordID) {
				if ref := li.Properties[hubspot.RefProperty]; ref != "" {
					q, _ := decimal.NewFromString(li.Properties["quantity"])
					p, _ := decimal.NewFromString(li.Properties["price"])
					got = append(got, LineWant{Ref: ref, Quantity: q, Price: p})
				}
			}
			diffs = append(diffs, CompareLines(w.RecordID, got, LinesOf(w.Primary))...)
			if w.Primary == nil {
				continue
			}
			amount, err := decimal.NewFromString(emu.DealProperties(hstest.DefaultPortalID, w.RecordID)["amount"])
			if err != nil || !amount.Equal(w.Primary.Totals.Total.Round(2)) {
				diffs = append(diffs, fmt.Sprintf("%s: deal amount %s, want the primary quote's total %s", w.RecordID, amount, w.Primary.Totals.Total))
			}
		}
		return diffs
	}
	return c
}
