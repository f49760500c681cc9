package pipedrive

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// One deal's push, in an order that a crash at any point leaves safe to
// repeat:
//
//  1. when a create of an earlier push may have reached Pipedrive unseen
//     (an intent is open), list the deal's products once and adopt the
//     ones whose comments carry a line's reference;
//  2. update the deal products of changed lines (PATCH each: Pipedrive has
//     no bulk update);
//  3. record intents for the new lines, then add them in bulk (up to 100 a
//     request), each with its reference in its comments;
//  4. delete Qwoty's deal products of removed lines and of a former
//     primary quote (one by one, or in bulk when that costs fewer tokens);
//  5. update the deal's value, currency and stage or status (PATCH), after
//     its products, whose change makes Pipedrive compute the value again;
//     skipped when nothing changed since the last push.
//
// Deal products the links do not hold (people's) are never touched.

// dealProductBody is what a deal product is written with. tax and
// tax_method are left to Pipedrive: changing tax_method on one product
// "affects the rest of the products attached to the deal", people's too.
type dealProductBody struct {
	ProductID    int64       `json:"product_id"`
	ItemPrice    json.Number `json:"item_price"`
	Quantity     json.Number `json:"quantity"`
	Discount     json.Number `json:"discount"`
	DiscountType string      `json:"discount_type"`
	Comments     string      `json:"comments"`
}

// hash is what was written, so that an unchanged line is not written
// again; numbers are compared by value ("90" and "90.00" are the same).
func (b dealProductBody) hash() string {
	return digest(strconv.FormatInt(b.ProductID, 10), norm(b.ItemPrice), norm(b.Quantity), norm(b.Discount),
		cmp.Or(b.DiscountType, "percentage"), b.Comments)
}

func norm(n json.Number) string {
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return n.String()
	}
	return d.String()
}

func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// listedDealProduct is a deal product as Pipedrive answers it.
type listedDealProduct struct {
	ID int64 `json:"id"`
	dealProductBody
}

// lineRef is a line's reference, the marker its deal product's comments
// carry.
func lineRef(l crm.LineState) string { return cmp.Or(l.Ref, crm.Ref(crm.RefLine, l.ID)) }

// bodyOf is the deal product of a line: its catalog product, list price,
// quantity and discount percent, and in its comments the line's
// description and, on the last line, its reference.
func bodyOf(l crm.LineState, productID int64) dealProductBody {
	comments := lineRef(l)
	if d := strings.TrimSpace(l.Description); d != "" {
		comments = d + "\n" + comments
	}
	return dealProductBody{ProductID: productID, ItemPrice: json.Number(l.UnitPrice.String()), Quantity: json.Number(l.Quantity.String()),
		Discount: json.Number(l.DiscountPercent.String()), DiscountType: "percentage", Comments: comments}
}

// dealWrite is one deal's push.
type dealWrite struct {
	p    *pusher
	d    crm.Deal
	id   int64
	path string
	// products are the catalog products' links of the lines.
	products []string
	written  []crm.Written
	warning  string
}

func (w *dealWrite) note(wr crm.Written) { w.written = append(w.written, wr) }

// deal writes one deal and says what became of it.
func (p *pusher) deal(ctx context.Context, d crm.Deal, cat *catalog) crm.Outcome {
	out := crm.Outcome{RecordID: d.RecordID}
	if err := p.stopped(); err != nil {
		out.Err = err
		return out
	}
	id, err := strconv.ParseInt(d.RecordID, 10, 64)
	if err != nil || id <= 0 {
		out.Err = crm.Rejected(fmt.Errorf("%q is not a Pipedrive deal id", d.RecordID))
		return out
	}
	w := &dealWrite{p: p, d: d, id: id, path: "/api/v2/deals/" + strconv.FormatInt(id, 10)}
	out.Err = w.run(ctx, cat)
	out.Written, out.Warning = w.written, w.warning
	return out
}

func (w *dealWrite) run(ctx context.Context, cat *catalog) error {
	want := map[string]dealProductBody{}
	var order []string
	var stage map[string]any
	if q := w.d.Primary; q != nil {
		var err error
		if stage, err = stageFields(w.d.Stage); err != nil {
			return crm.Rejected(err)
		}
		lines := slices.Clone(q.Lines)
		slices.SortStableFunc(lines, func(a, b crm.LineState) int { return a.Position - b.Position })
		for _, l := range lines {
			ref := lineRef(l)
			if id, ok := catalogProduct(l); ok {
				// A line taken from Pipedrive's catalogue names its product.
				want[ref] = bodyOf(l, id)
				order = append(order, ref)
				continue
			}
			k := keyOf(l, q.Currency)
			if err := cat.errs[k.ref]; err != nil {
				return err
			}
			if wr, ok := cat.claim(k.ref); ok {
				w.note(wr)
			}
			want[ref] = bodyOf(l, cat.ids[k.ref])
			w.products = append(w.products, k.ref)
			order = append(order, ref)
		}
	}
	owned, err := w.p.links.Owned(ctx, objDealProduct, w.d.RecordID)
	if err != nil {
		return err
	}
	links := map[string]crm.RefLink{}
	intents := false
	for _, l := range owned {
		links[l.Ref] = l
		intents = intents || l.Intended()
	}
	var extra []int64
	if intents {
		if extra, err = w.adopt(ctx, links, want); err != nil {
			return err
		}
	}

	changed := false
	var creates []string
	for _, ref := range order {
		l, ok := links[ref]
		switch {
		case !ok || l.Intended():
			creates = append(creates, ref)
		case l.Hash != want[ref].hash():
			err := w.update(ctx, l, want[ref])
			if status(err) == http.StatusNotFound && !missing(err, "Deal not found", "Product not found") {
				// Deleted in Pipedrive by a person: the line is Qwoty's, so
				// it is added again.
				if err := w.p.links.Drop(ctx, objDealProduct, []string{ref}); err != nil {
					return err
				}
				delete(links, ref)
				creates = append(creates, ref)
				continue
			}
			if err != nil {
				return err
			}
			changed = true
		}
	}
	if len(creates) > 0 {
		if err := w.create(ctx, creates, want); err != nil {
			return err
		}
		changed = true
	}
	var gone []crm.RefLink
	for ref, l := range links {
		if _, ok := want[ref]; !ok && !l.Intended() {
			gone = append(gone, l)
		}
	}
	if len(gone)+len(extra) > 0 {
		slices.SortFunc(gone, func(a, b crm.RefLink) int { return strings.Compare(a.Ref, b.Ref) })
		if err := w.remove(ctx, gone, extra); err != nil {
			return err
		}
		changed = true
	}
	if w.d.Primary == nil {
		return nil
	}
	return w.updateDeal(ctx, stage, changed)
}

// adopt reads the deal's products after an earlier push left intents: a
// product whose comments carry an intent's reference is that line's (the
// create reached Pipedrive, its answer did not reach us), and its link is
// saved; an intent of a line no longer wanted and not found is forgotten.
// Further products carrying the same reference are Qwoty's duplicates,
// returned to be deleted.
func (w *dealWrite) adopt(ctx context.Context, links map[string]crm.RefLink, want map[string]dealProductBody) ([]int64, error) {
	listed, err := w.list(ctx)
	if err != nil {
		return nil, err
	}
	var extra []int64
	var save []crm.RefLink
	var drop []string
	for ref, l := range links {
		if !l.Intended() {
			continue
		}
		var found []listedDealProduct
		for _, it := range listed {
			if strings.Contains(it.Comments, ref) {
				found = append(found, it)
			}
		}
		if len(found) == 0 {
			if _, ok := want[ref]; !ok {
				drop = append(drop, ref)
				delete(links, ref)
			}
			continue
		}
		for _, f := range found[1:] {
			extra = append(extra, f.ID)
		}
		l.CRMID, l.Hash = strconv.FormatInt(found[0].ID, 10), found[0].hash()
		links[ref] = l
		save = append(save, l)
		w.note(crm.Written{Object: objDealProduct, ID: l.CRMID, Ref: ref, Action: crm.ActionAdopted})
	}
	if len(save) > 0 {
		if err := w.p.links.Save(ctx, save); err != nil {
			return nil, err
		}
	}
	if len(drop) > 0 {
		if err := w.p.links.Drop(ctx, objDealProduct, drop); err != nil {
			return nil, err
		}
	}
	return extra, nil
}

// list reads every product of the deal, 500 a page (the documented most).
func (w *dealWrite) list(ctx context.Context) ([]listedDealProduct, error) {
	var all []listedDealProduct
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []listedDealProduct
		var next string
		err := w.p.do(ctx, request{method: http.MethodGet, path: w.path + "/products", query: q, cost: costListDealProducts, next: &next}, &page)
		if err != nil {
			return nil, w.dealError(ctx, err)
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}

// update rewrites a changed line's deal product.
func (w *dealWrite) update(ctx context.Context, l crm.RefLink, b dealProductBody) error {
	err := w.p.do(ctx, request{method: http.MethodPatch, path: w.path + "/products/" + l.CRMID, body: b, cost: costUpdate}, nil)
	if err != nil {
		if status(err) == http.StatusNotFound && !missing(err, "Deal not found", "Product not found") {
			return err // the deal product is gone: the caller adds it again
		}
		return w.dealError(ctx, err)
	}
	l.Hash = b.hash()
	if err := w.p.links.Save(ctx, []crm.RefLink{l}); err != nil {
		return err
	}
	w.note(crm.Written{Object: objDealProduct, ID: l.CRMID, Ref: l.Ref, Action: crm.ActionUpdated})
	return nil
}

// create records the new lines' intents, then adds them in bulk and saves
// their ids.
func (w *dealWrite) create(ctx context.Context, refs []string, want map[string]dealProductBody) error {
	intents := make([]crm.RefLink, len(refs))
	for i, ref := range refs {
		intents[i] = crm.RefLink{Object: objDealProduct, Ref: ref, Parent: w.d.RecordID}
	}
	if err := w.p.links.Intend(ctx, intents); err != nil {
		return err
	}
	for chunk := range slices.Chunk(refs, maxBulk) {
		bodies := make([]dealProductBody, len(chunk))
		for i, ref := range chunk {
			bodies[i] = want[ref]
		}
		var made []listedDealProduct
		err := w.p.do(ctx, request{method: http.MethodPost, path: w.path + "/products/bulk",
			body: map[string]any{"data": bodies}, cost: costBulkAddProducts}, &made)
		if err != nil {
			return w.dealError(ctx, err)
		}
		save := make([]crm.RefLink, 0, len(chunk))
		for i, ref := range chunk {
			// The answer lists the created products in order; their
			// comments say which is which all the same.
			j := slices.IndexFunc(made, func(m listedDealProduct) bool { return strings.Contains(m.Comments, ref) })
			if j < 0 && len(made) == len(chunk) {
				j = i
			}
			if j < 0 {
				return fmt.Errorf("pipedrive: the bulk add's answer does not show the deal product of %s", ref)
			}
			id := strconv.FormatInt(made[j].ID, 10)
			save = append(save, crm.RefLink{Object: objDealProduct, Ref: ref, Parent: w.d.RecordID, CRMID: id, Hash: want[ref].hash()})
			w.note(crm.Written{Object: objDealProduct, ID: id, Ref: ref, Action: crm.ActionCreated})
		}
		if err := w.p.links.Save(ctx, save); err != nil {
			return err
		}
	}
	return nil
}

// maxBulk is the most products one bulk request takes ("Maximum of 100
// products allowed per request"), and the most ids one bulk delete takes.
const maxBulk = 100

// remove deletes Qwoty's deal products of lines no longer wanted, and
// duplicates found while adopting: one by one while that costs fewer
// tokens than deleting in bulk, else 100 ids a request. The bulk delete is
// never sent without ids: Pipedrive would delete up to 100 of the deal's
// products, people's among them.
func (w *dealWrite) remove(ctx context.Context, gone []crm.RefLink, extra []int64) error {
	type target struct {
		id  string
		ref string // "" for a duplicate
	}
	var all []target
	for _, l := range gone {
		all = append(all, target{l.CRMID, l.Ref})
	}
	for _, id := range extra {
		all = append(all, target{strconv.FormatInt(id, 10), ""})
	}
	done := func(ts []target) error {
		var refs []string
		for _, t := range ts {
			if t.ref != "" {
				refs = append(refs, t.ref)
			}
			w.note(crm.Written{Object: objDealProduct, ID: t.id, Ref: t.ref, Action: crm.ActionDeleted})
		}
		if len(refs) == 0 {
			return nil
		}
		return w.p.links.Drop(ctx, objDealProduct, refs)
	}
	if len(all)*costDeleteDealProduct <= costDeleteDealProducts {
		for _, t := range all {
			err := w.p.do(ctx, request{method: http.MethodDelete, path: w.path + "/products/" + t.id, cost: costDeleteDealProduct}, nil)
			if err != nil && status(err) != http.StatusNotFound { // already gone is gone
				return w.dealError(ctx, err)
			}
			if err := done([]target{t}); err != nil {
				return err
			}
		}
		return nil
	}
	for chunk := range slices.Chunk(all, maxBulk) {
		ids := make([]string, len(chunk))
		for i, t := range chunk {
			ids[i] = t.id
		}
		q := url.Values{"ids": {strings.Join(ids, ",")}}
		err := w.p.do(ctx, request{method: http.MethodDelete, path: w.path + "/products", query: q, cost: costDeleteDealProducts}, nil)
		if err != nil {
			return w.dealError(ctx, err)
		}
		if err := done(chunk); err != nil {
			return err
		}
	}
	return nil
}

// updateDeal writes the primary quote's total, currency and stage, and
// the mapped fields (sync_fields.go), to the deal, unless the links say it holds them already and none of its
// products changed (which makes Pipedrive compute the value again). The
// answer shows the value Pipedrive kept; a value other than the total is
// the outcome's warning.
func (w *dealWrite) updateDeal(ctx context.Context, stage map[string]any, productsChanged bool) error {
	q := w.d.Primary
	// value is a number: any decimals; the quote's currency's are what it
	// is given (qwoty.ForCRM at the currency's scale).
	total := q.Figures(qwoty.CurrencyExponent(q.Currency)).Total
	fields := map[string]any{"value": json.Number(total.String())}
	if q.Currency != "" {
		fields["currency"] = q.Currency
	}
	for k, v := range stage {
		fields[k] = v
	}
	keys := make([]string, 0, len(fields)+len(w.d.Fields))
	for k := range fields {
		keys = append(keys, k+"="+fmt.Sprint(fields[k]))
	}
	for k, v := range w.d.Fields {
		keys = append(keys, "field:"+k+"="+v)
	}
	slices.Sort(keys)
	hash := digest(keys...)
	ref := objDeal + ":" + w.d.RecordID
	if !productsChanged {
		known, err := w.p.links.Find(ctx, objDeal, []string{ref})
		if err != nil {
			return err
		}
		if l, ok := known[ref]; ok && l.Hash == hash {
			return nil
		}
	}
	// The mapped fields are formatted only now: a custom field's needs the
	// company's deal fields, read once a push.
	if err := w.mappedFields(ctx, fields); err != nil {
		return err
	}
	var got struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	}
	if err := w.p.do(ctx, request{method: http.MethodPatch, path: w.path, body: fields, cost: costUpdate}, &got); err != nil {
		return w.dealError(ctx, err)
	}
	if err := w.p.links.Save(ctx, []crm.RefLink{{Object: objDeal, Ref: ref, CRMID: w.d.RecordID, Hash: hash}}); err != nil {
		return err
	}
	w.note(crm.Written{Object: objDeal, ID: w.d.RecordID, Action: crm.ActionUpdated})
	if v, err := decimal.NewFromString(got.Value.String()); err != nil || !v.Equal(total) || (q.Currency != "" && got.Currency != q.Currency) {
		w.warning = fmt.Sprintf("Pipedrive shows the deal's value as %s %s, not the quote's total %s %s (Pipedrive computes it from the deal's products).",
			got.Value, got.Currency, total, q.Currency)
	}
	return nil
}

// dealError classifies a call's error. A deal Pipedrive does not have (or
// no longer has) is permanent. A catalog product gone from Pipedrive
// (deleted by a person) is forgotten, so that the next push finds or
// creates it again: transient.
func (w *dealWrite) dealError(ctx context.Context, err error) error {
	switch {
	case missing(err, "Deal not found"):
		return crm.Rejected(fmt.Errorf("deal %d is not in Pipedrive (deleted, or hidden from the connected user): %w", w.id, err))
	case missing(err, "Product not found") && len(w.products) > 0:
		if derr := w.p.links.Drop(ctx, objProduct, w.products); derr != nil {
			return errors.Join(err, derr)
		}
		// Not wrapped: the 404 would make the engine take it for a
		// permanent crm.ErrNotFound, and the next push mends it.
		return fmt.Errorf("a catalog product of the quote's lines is gone from Pipedrive, and is found or created again on the next push: %v", err)
	}
	return classify(err)
}

// missing reports whether err is Pipedrive's 404 with one of messages.
func missing(err error, messages ...string) bool {
	var ae *crm.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && slices.Contains(messages, ae.Message)
}
