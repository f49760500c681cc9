package pipedrive_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/crm/emulator"
	"github.com/qwoty/companion/crm/pipedrive"
	"github.com/qwoty/companion/crm/pipedrive/pdtest"
	"github.com/qwoty/companion/crm/session"
	"github.com/qwoty/companion/crm/synctest"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store/storetest"
)

// orderEnv is one connected company, for the adapter's order calls.
type orderEnv struct {
	pd     *pdtest.Server
	a      *pipedrive.Adapter
	s      crm.Session
	conn   *qwoty.Connection
	budget *synctest.Budget
}

// newOrderEnv installs the app with scopes (sync's when none).
func newOrderEnv(t *testing.T, opts pdtest.Options, scopes ...string) *orderEnv {
	t.Helper()
	if scopes == nil {
		scopes = pdtest.SyncScopes
	}
	opts.App = pdtest.App{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret, Scopes: scopes}
	pd := pdtest.New(t, opts)
	a := pipedrive.NewAdapter(pipedrive.Options{ClientID: pdtest.DefaultClientID, ClientSecret: pdtest.DefaultClientSecret,
		RedirectURL: pdtest.DefaultCallbackURL, OAuthURL: pd.URL})
	db := storetest.New(t)
	conn := connectDB(t, db, a)
	return &orderEnv{pd: pd, a: a, s: session.New(db, a, conn), conn: conn, budget: synctest.NewBudget()}
}

func (e *orderEnv) push(o crm.OrderPush) (string, error) {
	return e.a.PushOrder(context.Background(), e.s, e.budget, o)
}

func (e *orderEnv) find(o crm.OrderPush) (string, error) {
	return e.a.FindOrder(context.Background(), e.s, e.budget, o)
}

// field is the deal's order field's value, "" when it has none.
func (e *orderEnv) field(t *testing.T) string {
	t.Helper()
	codes := e.pd.FieldsNamed(company, pdtest.DealFields, pipedrive.OrderFieldName)
	if len(codes) != 1 {
		t.Fatalf("%d deal fields named %q, want 1", len(codes), pipedrive.OrderFieldName)
	}
	v, _ := e.pd.DealCustomFields(company, pdtest.DefaultDealID)[codes[0]].(string)
	return v
}

func (e *orderEnv) status(t *testing.T) string {
	t.Helper()
	d, ok := e.pd.Deal(company, pdtest.DefaultDealID)
	if !ok {
		t.Fatal("no deal")
	}
	return d.Status
}

const orderLink = "https://qwoty.example/console/orders/7"

func order(number string, status qwoty.OrderStatus) crm.OrderPush {
	d := decimal.RequireFromString
	return crm.OrderPush{RecordID: strconv.Itoa(pdtest.DefaultDealID), Number: number, QuoteNumber: "Q-00007", Status: status,
		Currency: "EUR", Total: d("100"), Link: orderLink, EffectiveDate: "2026-11-29",
		Lines: []crm.OrderPushLine{{SKU: "A", Description: "Alpha", Quantity: d("1"), UnitPrice: d("100"), Net: d("100")}}}
}

// An order marks its deal won and writes its number and link into the
// deal field "Qwoty order", made once; FindOrder reads it back; a status
// change rewrites it in place. A cancelled order leaves the deal won and
// says cancelled.
func TestOrderWinsTheDealAndFillsItsField(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	if err := e.a.OrdersReady(e.conn); err != nil {
		t.Fatal(err)
	}
	o := order("O-00042", qwoty.OrderOpen)
	if found, err := e.find(o); err != nil || found != "" {
		t.Fatalf("FindOrder before any order = %q, %v; want none", found, err)
	}
	id, err := e.push(o)
	if err != nil {
		t.Fatal(err)
	}
	code := e.pd.FieldsNamed(company, pdtest.DealFields, pipedrive.OrderFieldName)
	if want := strconv.Itoa(pdtest.DefaultDealID) + ":" + strings.Join(code, "") + ":O-00042"; id != want {
		t.Errorf("order's CRM id %q, want %q (the deal, the field and the order)", id, want)
	}
	if got, want := e.field(t), "O-00042 · "+orderLink; got != want || e.status(t) != "won" {
		t.Errorf("deal %s with field %q, want won with %q", e.status(t), got, want)
	}
	if found, err := e.find(o); err != nil || found != id {
		t.Errorf("FindOrder = %q, %v; want %s", found, err, id)
	}
	if found, err := e.find(order("O-00043", qwoty.OrderOpen)); err != nil || found != "" {
		t.Errorf("FindOrder of another number = %q, %v; want none", found, err)
	}

	o.CRMID, o.Status = id, qwoty.OrderFulfilled
	if got, err := e.push(o); err != nil || got != id {
		t.Fatalf("push fulfilled = %q, %v", got, err)
	}
	if got, want := e.field(t), "O-00042 · fulfilled · "+orderLink; got != want || e.status(t) != "won" {
		t.Errorf("deal %s with field %q, want won with %q", e.status(t), got, want)
	}
	o.Status = qwoty.OrderCancelled
	if _, err := e.push(o); err != nil {
		t.Fatal(err)
	}
	if got, want := e.field(t), "O-00042 · cancelled · "+orderLink; got != want || e.status(t) != "won" {
		t.Errorf("deal %s with field %q, want still won with %q", e.status(t), got, want)
	}
	if found, err := e.find(o); err != nil || found != id {
		t.Errorf("FindOrder of the cancelled order = %q, %v; want %s", found, err, id)
	}
}

// Lost answers: the field's create (found by its name the next time) and
// the deal's update (found by FindOrder): one field, the order written
// once.
func TestOrderLostAnswersMakeNoDuplicate(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	o := order("O-00042", qwoty.OrderOpen)
	if err := e.pd.Inject(emulator.Fault{Route: "POST /api/v1/dealFields", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.push(o); err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("push whose field's answer was dropped: %v, want a transient error", err)
	}
	if err := e.pd.Inject(emulator.Fault{Route: "PATCH /api/v2/deals/{id}", Times: 1, Drop: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.push(o); err == nil || errors.Is(err, crm.ErrRejected) {
		t.Fatalf("push whose deal's answer was dropped: %v, want a transient error", err)
	}
	found, err := e.find(o)
	if err != nil || found == "" {
		t.Fatalf("FindOrder after the lost answer = %q, %v; want the order", found, err)
	}
	o.CRMID = found
	if id, err := e.push(o); err != nil || id != found {
		t.Fatalf("push of the found order = %q, %v; want %s", id, err, found)
	}
	if got := e.field(t); got != "O-00042 · "+orderLink { // e.field fails unless one field
		t.Errorf("field %q", got)
	}
}

// The field deleted in Pipedrive after the order was written: the status
// change makes it again and writes there.
func TestOrderFieldDeletedIsMadeAgain(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	o := order("O-00042", qwoty.OrderOpen)
	id, err := e.push(o)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Split(id, ":")[1]
	e.pd.DeleteField(company, pdtest.DealFields, old)
	o.CRMID, o.Status = id, qwoty.OrderFulfilled
	id2, err := e.push(o)
	if err != nil || id2 == id {
		t.Fatalf("push after the field's deletion = %q, %v; want a new field's id", id2, err)
	}
	if got := e.field(t); got != "O-00042 · fulfilled · "+orderLink {
		t.Errorf("field %q", got)
	}
}

// A second order on the deal (another quote of it accepted) takes the
// field, and is a CRM order of its own: its id is not the first one's. A
// status change of the first writes it back, by its id, in the old form
// (the deal and the field) too.
func TestSecondOrderOnTheDealHasItsOwnID(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	first, err := e.push(order("O-00042", qwoty.OrderOpen))
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.push(order("O-00043", qwoty.OrderOpen))
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatalf("both orders have the CRM id %q, want one each", first)
	}
	if got := e.field(t); got != "O-00043 · "+orderLink {
		t.Errorf("field %q, want the second order", got)
	}
	o := order("O-00042", qwoty.OrderFulfilled)
	o.CRMID = first[:strings.LastIndex(first, ":")]
	if id, err := e.push(o); err != nil || id != first {
		t.Fatalf("status push of the first order by its old id = %q, %v; want %s", id, err, first)
	}
	if got := e.field(t); got != "O-00042 · fulfilled · "+orderLink {
		t.Errorf("field %q, want the first order, fulfilled", got)
	}
}

// A deal field of that name of another type is not written over.
func TestOrderFieldOfAnotherTypeIsRejected(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	e.pd.AddField(company, pdtest.DealFields, pdtest.Field{Name: pipedrive.OrderFieldName, Type: "double"})
	if _, err := e.push(order("O-00042", qwoty.OrderOpen)); !errors.Is(err, crm.ErrRejected) || !strings.Contains(err.Error(), "double") {
		t.Errorf("push: %v, want rejected, naming the field's type", err)
	}
}

// Without deals:full the connection must be reconnected; a push is
// forbidden.
func TestOrderMissingScope(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(pdtest.SyncScopes), func(s string) bool { return s == "deals:full" })
	e := newOrderEnv(t, pdtest.Options{}, append(scopes, "deals:read")...)
	var coded *qwoty.Error
	if err := e.a.OrdersReady(e.conn); !errors.As(err, &coded) || coded.Code != qwoty.CodeSyncReconnect {
		t.Errorf("OrdersReady without deals:full: %v, want sync_reconnect", err)
	}
	if _, err := e.push(order("O-00042", qwoty.OrderOpen)); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("push without deals:full: %v, want forbidden", err)
	}
}

// The company's daily budget spent: a wait until it comes back.
func TestOrder429Waits(t *testing.T) {
	e := newOrderEnv(t, pdtest.Options{})
	e.pd.SpendTokens(company, e.pd.TokensLeft(company))
	_, err := e.push(order("O-00042", qwoty.OrderOpen))
	var wait *crm.WaitError
	if !errors.As(err, &wait) || e.pd.TooManyRequests() != 1 {
		t.Fatalf("push on a spent budget: %v (%d 429s), want a wait", err, e.pd.TooManyRequests())
	}
	if next := pipedrive.NextBudgetReset(time.Now()); !wait.Until.Equal(next) {
		t.Errorf("wait until %s, want the budget's reset %s", wait.Until, next)
	}
	if err := e.budget.Take(context.Background(), "burst", 1); !errors.As(err, &wait) {
		t.Errorf("budget after the 429: %v, want the connection blocked", err)
	}
}
