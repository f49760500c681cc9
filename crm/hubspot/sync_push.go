package hubspot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// push is one Push: the deals and what each needs written, the calls made,
// and the wait that stops every call after a limit was met.
type push struct {
	s      *syncer
	sess   crm.Session
	budget crm.Budget
	links  crm.Links

	deals []*dealPush
	calls int
	// stop, once set (a *crm.WaitError, or the session's coded error),
	// fails every call not yet made.
	stop error
	// interval is the limit's window as HubSpot last stated it.
	interval time.Duration
	// waited is how long the push waited for its budget in place.
	waited time.Duration
}

// dealPush is one deal of a push.
type dealPush struct {
	deal    crm.Deal
	err     error
	written []crm.Written
	// lines are the primary quote's lines to write (unchanged ones left
	// out); remove the line items Qwoty made, or may have made (links
	// without an id or a hash), that the quote no longer has.
	lines  []*linePush
	remove []crm.RefLink
	// props are the deal's properties to write (nil: nothing), hash their
	// hash for the deal's cache link.
	props map[string]string
	hash  string
}

func (d *dealPush) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dealPush) ok() bool { return d.err == nil }

// linePush is one line item to write.
type linePush struct {
	d     *dealPush
	line  crm.LineState
	props map[string]string
	hash  string
	// linked: Qwoty made the line item before (its link has an id), so it
	// is upserted; otherwise it is created under the deal.
	linked bool
	// unfiled: the line item was made but its association with the deal
	// never confirmed (its link has an id and no hash): it is upserted,
	// then associated. known is the id its link holds.
	unfiled bool
	known   string
	// fallback: its create was refused (a retry finding the line item made
	// by an attempt whose answer was lost, or bad data): it is upserted,
	// then associated.
	fallback bool
	// id is the line item's id once written; associate says it still needs
	// its deal association.
	id        string
	associate bool
	action    string
}

// refOf is the qwoty_ref value of a line item in an answer.
func refOf(props map[string]*string) string {
	if v := props[RefProperty]; v != nil {
		return *v
	}
	return ""
}

// plan reads the links (the lines' and the deals' in one look-up each, the
// line items each deal owns) and decides, per deal, what to write.
func (p *push) plan(ctx context.Context, deals []crm.Deal) {
	var lineRefs, dealRefs []string
	for _, deal := range deals {
		d := &dealPush{deal: deal}
		p.deals = append(p.deals, d)
		if !objectID(deal.RecordID) {
			d.fail(crm.Rejected(fmt.Errorf("%q is not a HubSpot deal id", deal.RecordID)))
			continue
		}
		dealRefs = append(dealRefs, deal.RecordID)
		for _, l := range primaryLines(deal) {
			lineRefs = append(lineRefs, l.Ref)
		}
	}
	lines, err := p.links.Find(ctx, linkLineItem, lineRefs)
	if err == nil {
		var dealLinks map[string]crm.RefLink
		if dealLinks, err = p.links.Find(ctx, linkDeal, dealRefs); err == nil {
			for _, d := range p.deals {
				if d.ok() {
					p.planDeal(d, dealLinks)
					d.fail(p.planLines(ctx, d, lines))
				}
			}
			return
		}
	}
	for _, d := range p.deals {
		d.fail(fmt.Errorf("read the links of what was written to HubSpot: %w", err))
	}
}

// primaryLines are the lines a deal's line items must be: its primary
// quote's, none without one.
func primaryLines(d crm.Deal) []crm.LineState {
	if q := d.Primary; q != nil && !q.Deleted {
		return q.Lines
	}
	return nil
}

// planLines lists the deal's lines to write (those written as they are
// left out) and Qwoty's line items the deal no longer has.
func (p *push) planLines(ctx context.Context, d *dealPush, known map[string]crm.RefLink) error {
	keep := map[string]bool{}
	for _, l := range primaryLines(d.deal) {
		keep[l.Ref] = true
		lp := &linePush{d: d, line: l, props: lineProperties(l)}
		lp.hash = hashOf(d.deal.RecordID, lp.props)
		link, ok := known[l.Ref]
		if ok && link.CRMID != "" && link.Parent == d.deal.RecordID && link.Hash == lp.hash {
			continue
		}
		lp.linked = ok && link.CRMID != ""
		lp.unfiled = lp.linked && link.Hash == ""
		lp.known = link.CRMID
		d.lines = append(d.lines, lp)
	}
	owned, err := p.links.Owned(ctx, linkLineItem, d.deal.RecordID)
	if err != nil {
		return fmt.Errorf("read the deal's line item links: %w", err)
	}
	// An intent (no id: a create sent, its answer lost) is removed too:
	// HubSpot may hold its line item, which is found by qwoty_ref.
	for _, l := range owned {
		if !keep[l.Ref] {
			d.remove = append(d.remove, l)
		}
	}
	return nil
}

// planDeal: a deal with a primary quote gets its total as amount, when the
// status maps to one its stage, and the admin's mapped fields; without one
// it is left as it is. A deal whose link holds the same values is not
// written.
func (p *push) planDeal(d *dealPush, known map[string]crm.RefLink) {
	q := d.deal.Primary
	if q == nil {
		return
	}
	// The mapped fields go with the same update; the amount and stage the
	// push itself writes win over a mapping of the same property.
	props := mappedProperties(d.deal.Fields)
	// amount is a number property: any decimals; the quote's currency's
	// are what it is given (qwoty.ForCRM at the currency's scale).
	props["amount"] = q.Figures(qwoty.CurrencyExponent(q.Currency)).Total.String()
	if d.deal.Stage != "" {
		props["dealstage"] = d.deal.Stage
	}
	hash := hashOf(d.deal.RecordID, props)
	if l, ok := known[d.deal.RecordID]; ok && l.Hash == hash {
		return
	}
	d.props, d.hash = props, hash
}

func (p *push) hasLines() bool {
	for _, d := range p.deals {
		if d.ok() && len(d.lines) > 0 {
			return true
		}
	}
	return false
}

// lineProperties are what a line item holds of a line. HubSpot computes the
// line item's amount from quantity, price and hs_discount_percentage, which
// gives the line's net.
func lineProperties(l crm.LineState) map[string]string {
	name, _, _ := strings.Cut(strings.TrimSpace(l.Description), "\n")
	name = cmp.Or(strings.TrimSpace(name), l.SKU, "Line "+strconv.Itoa(l.Position))
	props := map[string]string{
		"name":                   crm.Clip(name, 255),
		"description":            l.Description,
		"quantity":               l.Quantity.String(),
		"price":                  l.UnitPrice.String(),
		"hs_discount_percentage": l.DiscountPercent.String(),
		"hs_sku":                 l.SKU,
		RefProperty:              l.Ref,
	}
	// A line taken from the catalogue is linked to its HubSpot product
	// (the line items guide: hs_product_id bases a line item on a
	// product); the line's own name, price and SKU, written with it, win
	// over the product's.
	if objectID(l.ProductID) {
		props["hs_product_id"] = l.ProductID
	}
	return props
}

// hashOf hashes what is written to a record (its parent included).
func hashOf(parent string, props map[string]string) string {
	b, _ := json.Marshal(struct {
		Parent string            `json:"p"`
		Props  map[string]string `json:"v"`
	}{parent, props}) // map keys are sorted by encoding/json
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// report is the push's outcome, one per deal in the order given.
func (p *push) report() crm.Report {
	r := crm.Report{Calls: p.calls}
	for _, d := range p.deals {
		r.Outcomes = append(r.Outcomes, crm.Outcome{RecordID: d.deal.RecordID, Err: d.err, Written: d.written})
	}
	return r
}

// call makes one API call through the session: it takes a unit of the
// budget first, shows the rate-limit headers to the budget, and turns a 429
// into a block of the connection and a *crm.WaitError that stops the push.
func (p *push) call(ctx context.Context, method, path string, body, out any) error {
	if p.stop != nil {
		return p.stop
	}
	err := p.sess.Call(ctx, func(ctx context.Context, token string) error {
		if err := p.take(ctx); err != nil {
			return err
		}
		p.calls++
		req := crm.Request{Provider: qwoty.ProviderHubSpot, Method: method, Base: cmp.Or(p.s.a.o.APIURL, APIBaseURL),
			Path: path, Token: token, JSON: body, Timeout: DefaultTimeout, HTTP: p.s.a.o.HTTP, Refused: apiErrors.Answer,
			Seen: func(_ int, h http.Header) { p.observe(ctx, h) }}
		if rb, ok := body.(rawBody); ok {
			req.JSON, req.Body, req.BodyType = nil, rb.data, rb.typ
		}
		return crm.Call(ctx, req, out)
	})
	var wait *crm.WaitError
	var coded *qwoty.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &wait):
		p.stop = err
	case errors.Is(err, crm.ErrRateLimited):
		p.stop = p.block(ctx, err)
		return p.stop
	case errors.As(err, &coded):
		// The session gave no token (the grant refused, the connection
		// gone): no other call can do better.
		p.stop = err
	}
	return err
}

// take takes a unit of the budget before a call, waiting in place for a
// short wait (see maxInlineWait).
func (p *push) take(ctx context.Context) error {
	for {
		err := p.budget.Take(ctx, burstBucket, 1)
		var wait *crm.WaitError
		if !errors.As(err, &wait) {
			return err
		}
		d := max(wait.Until.Sub(p.s.a.now()), time.Millisecond)
		if p.waited+d > maxInlineWait {
			return err
		}
		if serr := p.s.a.sleep(ctx, d); serr != nil {
			return err
		}
		p.waited += d
	}
}

// observe corrects the budget from every answer's
// X-HubSpot-RateLimit-Remaining: the bucket holds no more than what is left
// of HubSpot's window beyond the part sync does not declare (the card's
// look-ups, any other call with the app's token). Left may be negative:
// the budget then waits until it is paid back.
func (p *push) observe(ctx context.Context, h http.Header) {
	if ms, err := strconv.ParseInt(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"), 10, 64); err == nil && ms > 0 {
		p.interval = time.Duration(ms) * time.Millisecond
	}
	left, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining"))
	most, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
	if err1 != nil || err2 != nil {
		return
	}
	// A failed correction leaves the bucket as it was: the next answer
	// corrects it again, and a 429 still blocks.
	_ = p.budget.Observe(ctx, burstBucket, float64(left-max(most-burstCapacity, 0)), 0)
}

// block stops the connection's calls until HubSpot's Retry-After has passed
// (or, without one, the limit's window), and returns the wait.
func (p *push) block(ctx context.Context, err error) error {
	wait := cmp.Or(p.interval, hubspotWindow)
	var ae *crm.APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		wait = ae.RetryAfter
	}
	until := p.s.a.now().Add(wait)
	if berr := p.budget.Block(ctx, until); berr != nil {
		return fmt.Errorf("block the connection after HubSpot's 429: %w", berr)
	}
	return &crm.WaitError{Until: until, Reason: "HubSpot answered 429: " + cmp.Or(messageOf(err), "rate limit reached")}
}

// refused says whether a call's error is HubSpot refusing the request's
// data as a whole (a 4xx other than authentication, scopes and limits).
func refused(err error) (*crm.APIError, bool) {
	var ae *crm.APIError
	if !errors.As(err, &ae) {
		return nil, false
	}
	switch ae.Status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
		return ae, true
	}
	return nil, false
}

// callError is what a failed call means for the deals it carried: a
// refusal of the data is permanent with HubSpot's message; a missing scope
// stays a 403 (crm.ErrForbidden); the rest (5xx, the network, a wait) as it
// is.
func callError(err error) error {
	if ae, ok := refused(err); ok {
		return crm.Rejected(errors.New(readable(ae.Message)))
	}
	return err
}

func messageOf(err error) string {
	var ae *crm.APIError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return ""
}

// save records links, failing the deals they belong to when it cannot.
func (p *push) save(ctx context.Context, links []crm.RefLink, deals ...*dealPush) bool {
	if len(links) == 0 {
		return true
	}
	if err := p.links.Save(ctx, links); err != nil {
		for _, d := range deals {
			d.fail(fmt.Errorf("record what was written to HubSpot: %w", err))
		}
		return false
	}
	return true
}

// chunks splits items into requests of at most maxInputs.
func chunks[T any](items []T) [][]T {
	var out [][]T
	for len(items) > 0 {
		n := min(len(items), maxInputs)
		out = append(out, items[:n])
		items = items[n:]
	}
	return out
}

// perDeal sends items in batches; when HubSpot refuses a batch as a whole
// and the batch carries several deals, each deal's items are sent alone, so
// that the refusal lands on its own deal only.
func perDeal[T any](items []T, deal func(T) *dealPush, send func([]T) error) {
	for _, batch := range chunks(items) {
		var live []T
		for _, it := range batch {
			if deal(it).ok() {
				live = append(live, it)
			}
		}
		if len(live) == 0 {
			continue
		}
		err := send(live)
		if err == nil {
			continue
		}
		groups := groupBy(live, deal)
		if _, whole := refused(err); whole && len(groups) > 1 {
			for _, g := range groups {
				perDeal(g, deal, send)
			}
			continue
		}
		for _, g := range groups {
			deal(g[0]).fail(callError(err))
		}
	}
}

// groupBy groups items by their deal, in order.
func groupBy[T any](items []T, deal func(T) *dealPush) [][]T {
	var out [][]T
	at := map[*dealPush]int{}
	for _, it := range items {
		d := deal(it)
		i, ok := at[d]
		if !ok {
			i = len(out)
			at[d] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], it)
	}
	return out
}
