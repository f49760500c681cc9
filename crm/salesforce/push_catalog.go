package salesforce

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qwoty/companion/crm"
)

// Products and price book entries: every line Salesforce holds is an entry
// of a price book, for a product, in a currency. Qwoty's products carry
// Qwoty__Ref__c = qwoty:product:<sku> and are upserted by it; their entries
// are found by a query, cached in the links ("PricebookEntry", keyed by
// price book, currency and product), and made when missing: the standard
// price book's first, then the opportunity's own (Salesforce's price book
// rules).

// entryKey names a price book entry.
type entryKey struct{ pricebook, currency, product string }

func (k entryKey) ref() string { return k.pricebook + "|" + k.currency + "|" + k.product }

type entry struct {
	id     string
	active bool
	// cached: the id comes from the links, not from the org today.
	cached bool
}

// catalog is what a push knows of products and entries.
type catalog struct {
	std      string
	products map[string]string // product ref → id
	entries  map[entryKey]entry
}

// productRef is the ref of a SKU's product; lines without a SKU share one
// product, qwoty:product: (its ref with an empty SKU).
func productRef(sku string) string { return crm.Ref(crm.RefProduct, sku) }

// catalogPrefix marks the key of a product of the org's own catalogue (a
// line taken from it: crm.LineState.ProductID), by its Product2 id: it is
// used as it is, never upserted.
const catalogPrefix = "sfid:"

// lineProduct is the product key of a line: the catalogue's product it was
// taken from, else Qwoty's product for its SKU. A catalogue product's
// entry in the deal's price book and currency is found like any other,
// and made (the standard price first) or reactivated when missing, as
// Salesforce requires for a line.
func lineProduct(l crm.LineState) string {
	if id, err := NormalizeID(l.ProductID); err == nil && strings.HasPrefix(id, "01t") {
		return catalogPrefix + id
	}
	return productRef(l.SKU)
}

// entrySelect is the query of entries, and the products they are of.
func (p *push) entrySelect() string {
	fields := "Id, Pricebook2Id, Product2Id, Product2." + refField + ", IsActive"
	if p.facts.multi {
		fields += ", CurrencyIsoCode"
	}
	return "SELECT " + fields + " FROM PricebookEntry WHERE "
}

// addEntries records the entries a query found.
func (c *catalog) addEntries(rows []row, f facts) {
	for _, r := range rows {
		currency := f.currency
		if f.multi {
			currency = r.str("CurrencyIsoCode")
		}
		e := entry{id: r.str("Id"), active: r.boolean("IsActive")}
		if id, err := NormalizeID(r.str("Product2Id")); err == nil {
			// Every entry also serves lines taken from the catalogue.
			c.entries[entryKey{r.str("Pricebook2Id"), currency, catalogPrefix + id}] = e
		}
		prod := r.sub("Product2").str(refField)
		if prod == "" || !strings.HasPrefix(prod, "qwoty:") {
			continue
		}
		c.products[prod] = r.str("Product2Id")
		c.entries[entryKey{r.str("Pricebook2Id"), currency, prod}] = e
	}
}

// dealLines lists the lines a deal may write: its primary quote's and, with
// Quotes, those of every quote it mirrors (a deleted quote's too: its
// mirror keeps them, which only the read tells).
func (p *push) dealLines(i int) []crm.LineState {
	var out []crm.LineState
	d := p.deals[i]
	if d.Primary != nil && !d.Primary.Deleted {
		out = append(out, d.Primary.Lines...)
	}
	if p.facts.quotes {
		for _, q := range d.Quotes {
			out = append(out, q.Lines...)
		}
	}
	return out
}

// maxListChars keeps a query's IN list, and so its URL, well under the
// length Salesforce accepts.
const maxListChars = 4000

// chunkList splits values into IN lists of up to maxListChars.
func chunkList(values []string) []string {
	var out []string
	var cur []string
	size := 0
	for _, v := range values {
		n := len(soqlString(v)) + 2
		if len(cur) > 0 && size+n > maxListChars {
			out = append(out, soqlList(cur))
			cur, size = nil, 0
		}
		cur = append(cur, v)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, soqlList(cur))
	}
	return out
}

// unknownProductQueries returns the queries of the entries of the deals'
// products that the links do not know: new SKUs, or products made by a
// push whose answer was lost.
func (p *push) unknownProductQueries(ctx context.Context, todo []int) ([]namedQuery, error) {
	refs := map[string]bool{}
	p.knownProducts = map[string]string{}
	for _, i := range todo {
		for _, l := range p.dealLines(i) {
			if k := lineProduct(l); strings.HasPrefix(k, catalogPrefix) {
				// The catalogue's product: its id is its key.
				p.knownProducts[k] = strings.TrimPrefix(k, catalogPrefix)
			} else {
				refs[k] = true
			}
		}
	}
	all := slices.Sorted(maps.Keys(refs))
	known, err := p.links.Find(ctx, objProduct, all)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, r := range all {
		if l, ok := known[r]; ok && l.CRMID != "" {
			p.knownProducts[r] = l.CRMID
		} else {
			unknown = append(unknown, r)
		}
	}
	var qs []namedQuery
	for n, list := range chunkList(unknown) {
		qs = append(qs, namedQuery{fmt.Sprintf("entries%d", n), p.entrySelect() + "Product2." + refField + " IN " + list})
	}
	return qs, nil
}

// loadCatalog finds the entries the ready deals need: from the read, from
// the links, and, for a known product in a price book or currency the
// links do not know, from a query of its entries.
func (p *push) loadCatalog(ctx context.Context, ready []int) error {
	needed := map[entryKey]bool{}
	for _, i := range ready {
		for _, k := range p.ctxs[i].keys(p) {
			needed[k] = true
			if k.pricebook != p.cat.std {
				needed[entryKey{p.cat.std, k.currency, k.product}] = true
			}
		}
	}
	var missing []entryKey
	for k := range needed {
		if _, ok := p.cat.entries[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	refs := make([]string, len(missing))
	for i, k := range missing {
		refs[i] = k.ref()
	}
	cached, err := p.links.Find(ctx, objEntry, refs)
	if err != nil {
		return err
	}
	products := map[string]bool{}
	for _, k := range missing {
		if l, ok := cached[k.ref()]; ok && l.CRMID != "" {
			p.cat.entries[k] = entry{id: l.CRMID, active: true, cached: true}
		} else if id := p.cat.products[k.product]; id != "" {
			products[id] = true
		}
	}
	if len(products) == 0 {
		return nil
	}
	var qs []namedQuery
	for n, list := range chunkList(slices.Sorted(maps.Keys(products))) {
		qs = append(qs, namedQuery{fmt.Sprintf("known%d", n), p.entrySelect() + "Product2Id IN " + list})
	}
	res, err := p.queries(ctx, qs)
	if err != nil {
		return err
	}
	for _, rows := range res {
		p.cat.addEntries(rows, p.facts)
	}
	return nil
}

// forgetEntries drops the cached entries of a deal's lines: one of them
// was refused (deleted or deactivated in the org), so the next try looks
// them up again.
func (p *push) forgetEntries(ctx context.Context, i int) {
	var refs []string
	for _, k := range p.ctxs[i].keys(p) {
		if e, ok := p.cat.entries[k]; ok && e.cached {
			refs = append(refs, k.ref())
			delete(p.cat.entries, k)
		}
	}
	if len(refs) > 0 {
		_ = p.links.Drop(ctx, objEntry, refs)
	}
}
