package crmsynctest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

func init() { CRMs["pipedrive"] = Pipedrive }

// Pipedrive is Pipedrive's emulator with o.Records deals, its company on a
// plan whose daily tokens a backlog of a thousand quotes does not exhaust.
func Pipedrive(t testing.TB, o Options) *CRM {
	t.Helper()
	callback := strings.TrimRight(o.AppURL, "/") + "/oauth/pipedrive/callback"
	emu := pdtest.New(t, pdtest.Options{NoBurst: o.Unlimited, NoDailyBudget: o.Unlimited || o.BigPlan, App: pdtest.App{ClientID: pdtest.DefaultClientID,
		ClientSecret: pdtest.DefaultClientSecret, CallbackURL: callback, Scopes: pdtest.DealScopes}})
	const company = pdtest.DefaultCompanyID
	c := &CRM{Name: "pipedrive", Pipedrive: emu, Currency: "EUR", Redirect: callback,
		Adapter: pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
			RedirectURL: callback, OAuthURL: emu.URL}),
		Env: []string{"PIPEDRIVE_CLIENT_ID=" + pdtest.DefaultClientID, "PIPEDRIVE_CLIENT_SECRET=" + pdtest.DefaultClientSecret,
			"PIPEDRIVE_OAUTH_URL=" + emu.URL},
		Calls: func() int { return int(emu.Requests()) },
	}
	for i := range o.Records {
		id := int64(1000 + i)
		emu.PutDeal(company, pdtest.Deal{ID: id, Title: "Deal " + strconv.Itoa(i), Currency: "EUR"})
		c.Records = append(c.Records, strconv.FormatInt(id, 10))
	}
	if o.Unlimited || o.BigPlan {
		// A company on a plan whose daily tokens no test spends: the
		// budget's bucket as the admin's plan and seats would make it.
		c.Prepare = func(db *store.DB, conn string) {
			if err := db.ObserveBudget(context.Background(), conn, store.BudgetBucket{Name: "daily", Capacity: 1e9, RefillPerSec: 1e4}, 1e9); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Base, c.BadStage = &emu.Base, "stage:99999"
	c.AddHandLine = func(record string) {
		id, _ := strconv.ParseInt(record, 10, 64)
		prod := emu.PutProduct(company, pdtest.Product{Name: "Installation (added by hand)", Code: "HAND"})
		emu.PutDealProduct(company, id, pdtest.DealProduct{ProductID: prod, ItemPrice: decimal.NewFromInt(100), Quantity: decimal.NewFromInt(1)})
	}
	c.HandLines = func(record string) int {
		id, _ := strconv.ParseInt(record, 10, 64)
		n := 0
		for _, p := range emu.DealProducts(company, id) {
			if !IsQwotyRef(p.Comments) {
				n++
			}
		}
		return n
	}
	c.Drop = func() {
		_ = emu.Inject(emulator.Fault{Route: "POST /api/v2/deals/{id}/products/bulk", Times: 1, Drop: true})
	}
	c.FileRoute = "POST /api/v1/files"
	// Pipedrive has no orders: the deal, marked won, carries the order's
	// number in a field; its total is the deal's value.
	c.Orders = func(record string) []CRMOrder {
		id, _ := strconv.ParseInt(record, 10, 64)
		// Two runs may each have made the field (Pipedrive keeps no name
		// unique): Qwoty writes to the first of the name, as listed.
		codes := emu.FieldsNamed(company, pdtest.DealFields, pipedrive.OrderFieldName)
		d, ok := emu.Deal(company, id)
		if len(codes) == 0 || !ok {
			return nil
		}
		v, _ := emu.DealCustomFields(company, id)[codes[0]].(string)
		if v == "" {
			return nil
		}
		// "number · link", or "number · status · link" once it is not open.
		parts := strings.Split(v, " · ")
		says := qwoty.OrderOpen
		if st, ok := qwoty.ParseOrderStatus(parts[min(1, len(parts)-1)]); ok {
			says = st
		}
		total, _ := decimal.NewFromString(d.Value)
		return []CRMOrder{{ID: record + ":" + codes[0] + ":" + parts[0], Number: parts[0], Status: d.Status, Says: says, Total: total, Lines: 0}}
	}
	c.OneOrder = true
	// The order's write is the deal's PATCH that carries its link.
	c.DropOrder = func() {
		_ = emu.Inject(emulator.Fault{Route: "PATCH /api/v2/deals/{id}", Body: "/orders/", Times: 1, Drop: true})
	}
	c.Files = func(record string) []ArchivedFile {
		id, _ := strconv.ParseInt(record, 10, 64)
		var out []ArchivedFile
		for _, f := range emu.Files(company, id) {
			out = append(out, ArchivedFile{ID: strconv.FormatInt(f.ID, 10), Name: f.Name, Data: f.Data})
		}
		return out
	}
	c.RemoveRecord = func(record string) {
		id, _ := strconv.ParseInt(record, 10, 64)
		emu.DeleteDeal(company, id)
	}
	// Deals made from Qwoty: organizations and deals whose "Qwoty ref"
	// field holds a reference.
	made := func(object string, refOf func(code string) map[int64]string) []CRMMade {
		codes := emu.FieldsNamed(company, object, pipedrive.RefFieldName)
		if len(codes) != 1 {
			return nil
		}
		var out []CRMMade
		for id, ref := range refOf(codes[0]) {
			out = append(out, CRMMade{ID: strconv.FormatInt(id, 10), Ref: ref})
		}
		slices.SortFunc(out, func(a, b CRMMade) int { return cmp.Compare(len(a.ID), len(b.ID))*2 + strings.Compare(a.ID, b.ID) })
		return out
	}
	c.MadeAccounts = func() []CRMMade {
		names := map[int64]string{}
		out := made(pdtest.OrgFields, func(code string) map[int64]string {
			refs := map[int64]string{}
			for _, o := range emu.Orgs(company) {
				if v, _ := o.Custom[code].(string); v != "" {
					refs[o.ID], names[o.ID] = v, o.Name
				}
			}
			return refs
		})
		for i := range out {
			id, _ := strconv.ParseInt(out[i].ID, 10, 64)
			out[i].Name = names[id]
		}
		return out
	}
	c.MadeDeals = func() []CRMMade {
		deals := map[int64]pdtest.Deal{}
		out := made(pdtest.DealFields, func(code string) map[int64]string {
			refs := map[int64]string{}
			for _, d := range emu.Deals(company) {
				if v, _ := emu.DealCustomFields(company, d.ID)[code].(string); v != "" {
					refs[d.ID], deals[d.ID] = v, d
				}
			}
			return refs
		})
		for i := range out {
			id, _ := strconv.ParseInt(out[i].ID, 10, 64)
			out[i].Name = deals[id].Title
			if deals[id].OrgID != 0 {
				out[i].AccountID = strconv.FormatInt(deals[id].OrgID, 10)
			}
		}
		return out
	}
	// A person's organization: Pipedrive's organizations have no domain.
	c.AddAccount = func(name, _ string) string {
		id := int64(1)
		for _, o := range emu.Orgs(company) {
			id = max(id, o.ID+1)
		}
		emu.PutOrg(company, pdtest.Org{ID: id, Name: name})
		return strconv.FormatInt(id, 10)
	}
	c.AccountRoute, c.DealRoute = "POST /api/v2/organizations", "POST /api/v2/deals"
	c.Verify = func(snaps []store.SyncSnapshot) []string {
		var diffs []string
		for _, w := range Wants(snaps) {
			id, _ := strconv.ParseInt(w.RecordID, 10, 64)
			var got []LineWant
			for _, p := range emu.DealProducts(company, id) {
				if i := strings.Index(p.Comments, "qwoty:"); i >= 0 {
					got = append(got, LineWant{Ref: p.Comments[i:], Quantity: p.Quantity, Price: p.ItemPrice})
				}
			}
			diffs = append(diffs, CompareLines(w.RecordID, got, LinesOf(w.Primary))...)
			if w.Primary == nil {
				continue
			}
			d, _ := emu.Deal(company, id)
			if v, err := decimal.NewFromString(d.Value); err != nil || !v.Equal(w.Primary.Totals.Total.Round(2)) {
				diffs = append(diffs, fmt.Sprintf("%s: deal value %s, want the primary quote's total %s", w.RecordID, d.Value, w.Primary.Totals.Total))
			}
		}
		return diffs
	}
	return c
}
