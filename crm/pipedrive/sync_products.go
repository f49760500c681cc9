package pipedrive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
)

// A deal product is a product of the company's catalog attached to the
// deal (product_id is required), so each line needs a catalog product: the
// product whose code is the line's SKU, or, for a line without a SKU, the
// product named by its description. A push finds it once (a search by
// exact code or name) or creates it, and remembers its id in the links
// (object "product"), so that later pushes need no call for it. A product
// that already exists in the catalog, made by people or by a push that
// stopped before it remembered it, is found by the search and used: no
// duplicate.

// Link objects of the sync's links.
const (
	objProduct     = "product"
	objDealProduct = "deal_product"
	objDeal        = "deal"
)

// productKey is a catalog product a line needs.
type productKey struct {
	ref   string // the link's key
	code  string // the SKU; "" for a product found by name
	name  string
	price decimal.Decimal // the catalog price when it is created
	cur   string
}

// catalogProduct is the Pipedrive product a line was taken from (a pulled
// catalogue product, crm.LineState.ProductID), which its deal product uses
// as it is: no search, no product of Qwoty's own.
func catalogProduct(l crm.LineState) (int64, bool) {
	id, err := strconv.ParseInt(l.ProductID, 10, 64)
	return id, err == nil && id > 0
}

// keyOf is the catalog product of a line of a quote in currency.
func keyOf(l crm.LineState, currency string) productKey {
	name := strings.TrimSpace(l.Description)
	if l.SKU != "" {
		if name == "" {
			name = l.SKU
		}
		return productKey{ref: crm.Ref(crm.RefProduct, "sku:"+l.SKU), code: l.SKU, name: name, price: l.UnitPrice, cur: currency}
	}
	sum := sha256.Sum256([]byte(strings.ToLower(name)))
	return productKey{ref: crm.Ref(crm.RefProduct, "name:"+hex.EncodeToString(sum[:12])), name: name, price: l.UnitPrice, cur: currency}
}

// catalog is the products a push's lines need: their ids by ref, or why
// one could not be had, and the products the push made or adopted.
type catalog struct {
	mu      sync.Mutex
	ids     map[string]int64
	errs    map[string]error
	written map[string]crm.Written
}

// catalog finds or creates the products of every primary quote's lines.
func (p *pusher) catalog(ctx context.Context, deals []crm.Deal) *catalog {
	cat := &catalog{ids: map[string]int64{}, errs: map[string]error{}, written: map[string]crm.Written{}}
	keys := map[string]productKey{}
	for _, d := range deals {
		if d.Primary == nil {
			continue
		}
		for _, l := range d.Primary.Lines {
			if _, ok := catalogProduct(l); ok {
				continue
			}
			k := keyOf(l, d.Primary.Currency)
			if _, ok := keys[k.ref]; !ok {
				keys[k.ref] = k
			}
		}
	}
	if len(keys) == 0 {
		return cat
	}
	refs := make([]string, 0, len(keys))
	for r := range keys {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	known, err := p.links.Find(ctx, objProduct, refs)
	if err != nil {
		for _, r := range refs {
			cat.errs[r] = err
		}
		return cat
	}
	for _, r := range refs {
		if l, ok := known[r]; ok && !l.Intended() {
			if id, err := strconv.ParseInt(l.CRMID, 10, 64); err == nil {
				cat.ids[r] = id
				continue
			}
		}
		id, w, err := p.findOrCreate(ctx, keys[r])
		if err == nil {
			err = p.links.Save(ctx, []crm.RefLink{{Object: objProduct, Ref: r, CRMID: strconv.FormatInt(id, 10)}})
		}
		if err != nil {
			cat.errs[r] = err
			continue
		}
		cat.ids[r], cat.written[r] = id, w
	}
	return cat
}

// findOrCreate finds the catalog product of k by an exact search of its
// code (or name), or creates it.
func (p *pusher) findOrCreate(ctx context.Context, k productKey) (int64, crm.Written, error) {
	field, term := "code", k.code
	if k.code == "" {
		field, term = "name", k.name
	}
	var found struct {
		Items []struct {
			Item struct {
				ID   int64           `json:"id"`
				Name string          `json:"name"`
				Code json.RawMessage `json:"code"`
			} `json:"item"`
		} `json:"items"`
	}
	q := url.Values{"term": {term}, "fields": {field}, "exact_match": {"true"}, "limit": {"100"}}
	err := p.do(ctx, request{method: http.MethodGet, path: "/api/v2/products/search", query: q, cost: costSearchProducts, search: true}, &found)
	if err != nil {
		return 0, crm.Written{}, classify(err)
	}
	// The search ignores case; a product whose code (or name) is the same
	// exactly is preferred.
	best := int64(0)
	for _, it := range found.Items {
		v := it.Item.Name
		if field == "code" {
			v = text(it.Item.Code)
		}
		if v == term {
			best = it.Item.ID
			break
		}
		if best == 0 && strings.EqualFold(v, term) {
			best = it.Item.ID
		}
	}
	if best != 0 {
		return best, crm.Written{Object: objProduct, ID: strconv.FormatInt(best, 10), Ref: k.ref, Action: crm.ActionAdopted}, nil
	}
	body := map[string]any{"name": k.name}
	if k.code != "" {
		body["code"] = k.code
	}
	if k.cur != "" {
		body["prices"] = []map[string]any{{"currency": k.cur, "price": json.Number(k.price.String())}}
	}
	var made struct {
		ID int64 `json:"id"`
	}
	if err := p.do(ctx, request{method: http.MethodPost, path: "/api/v2/products", body: body, cost: costAddProduct}, &made); err != nil {
		return 0, crm.Written{}, classify(err)
	}
	return made.ID, crm.Written{Object: objProduct, ID: strconv.FormatInt(made.ID, 10), Ref: k.ref, Action: crm.ActionCreated}, nil
}

// text reads a JSON string or number as text: the reference types a
// product's code as an integer in one place and a string in others.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// claim returns the catalog write of ref the first time it is asked, so
// that it shows in one deal's outcome only.
func (c *catalog) claim(ref string) (crm.Written, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.written[ref]
	if ok {
		delete(c.written, ref)
	}
	return w, ok
}
